// The embedded OpenID Provider used by `npm run dev`, the integration tests and the bench: a real
// oidc-provider 9, configured like a friendly first-party IdP (any login/password works, consent is
// implied, refresh tokens are always issued). It is NOT meant for production and is never imported
// by the app.
//
// This file is the entry point and the only one to import from; it wires the parts together:
//   dev/idp/types.ts          the public types (options, ClientSpec, the `Idp` handle), re-exported here
//   dev/idp/registrations.ts  demo accounts (`demoClaims`) and clients (`demoClient`), re-exported here
//   dev/idp/configuration.ts  the oidc-provider configuration: claims, features, logout pages, consent, fetch
//   dev/idp/keys.ts           per-process cookie and signing keys
//   dev/idp/counters.ts       grant / logout counters from oidc-provider's events
//   dev/idp/request-hooks.ts  middleware: authorization-request log, prompt mapping, token faults, delays, holds
//   dev/idp/noise-filter.ts   loads oidc-provider with its expected console warnings filtered out
//
// Notes on oidc-provider 9 that shaped the wiring (verified against node_modules/oidc-provider):
// - RFC 9207 `iss` in the authorization response has no feature flag in v9: it is always sent
//   for responses without an id_token and discovery always says
//   `authorization_response_iss_parameter_supported: true`.
// - `sid` only appears in id_tokens of clients with a back-channel logout URI *and*
//   `backchannel_logout_session_required`; we want it for every client (front-channel logout tests)
//   so `Client.prototype.includeSid` is forced to true.
// - The built-in memory adapter is an LRU of 1000 entries (~8 entries per login), so very old,
//   untouched logins of a long-lived IdP can vanish. Fine for a test file or a dev session.

import http from 'node:http';
import type { Socket } from 'node:net';
import { idpConfiguration } from './idp/configuration';
import { countProviderEvents } from './idp/counters';
import { loadOidcProvider } from './idp/noise-filter';
import { installRequestHooks } from './idp/request-hooks';
import type { Idp, IdpOptions } from './idp/types';
import { listen } from './listen';

export { demoClaims, demoClient } from './idp/registrations';
export type {
  BackchannelEvent,
  ClientSpec,
  GrantCounters,
  GrantEvent,
  Idp,
  IdpOptions,
  TokenEndpointAuthMethod,
  TokenFault,
} from './idp/types';

/** Starts an IdP for `options.clients`; resolves once it listens (issuer and port known). */
export async function startIdp(options: IdpOptions): Promise<Idp> {
  const { Provider, errors } = await loadOidcProvider();
  const host = options.host ?? '127.0.0.1';
  const issuerHost = options.issuerHost ?? '127.0.0.1';

  // Listen first: with port 0 the issuer (which contains the port) is only known afterwards.
  let handler: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = http.createServer((req, res) => handler(req, res));
  const listening = await listen(server, options.port ?? 0, host);
  const port = listening.port;
  const issuer = `http://${issuerHost}:${port}`;

  const provider = new Provider(issuer, idpConfiguration(options, errors));

  // Every client gets `sid` in its id_tokens (see header), like most real IdPs.
  provider.Client.prototype.includeSid = () => true;

  const counters = countProviderEvents(provider);
  // oidc-provider logs unexpected errors only through this event; surface them, they are bugs.
  provider.on('server_error', (_ctx: unknown, err: unknown) => {
    console.error('[dev-idp] server_error', err);
  });
  // Runs before oidc-provider's own router (Provider#use inserts ahead of it).
  const hooks = installRequestHooks(provider, counters.grantLog);

  handler = provider.callback();

  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  return {
    issuer,
    port,
    provider,
    grants: counters.grants,
    grantLog: counters.grantLog,
    authorizationRequests: hooks.authorizationRequests,
    backchannelLogouts: counters.backchannelLogouts,
    get endSessions() {
      return counters.endSessions;
    },
    reset() {
      counters.reset();
      hooks.reset();
    },
    failTokenRequests: hooks.failTokenRequests,
    delayTokenRequests: hooks.delayTokenRequests,
    holdTokenRequests: hooks.holdTokenRequests,
    get heldTokenRequests() {
      return hooks.heldTokenRequests;
    },
    async backchannelLogout({ clientId, sub, sid }) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`unknown client ${clientId}`);
      await client.backchannelLogout(sub, sid ?? counters.lastSid(sub));
    },
    lastSid(sub: string) {
      return counters.lastSid(sub);
    },
    close() {
      return new Promise<void>((resolve) => {
        listening.closeExtra();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
}
