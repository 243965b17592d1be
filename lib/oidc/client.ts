/**
 * The only importer of openid-client's configuration (STYLE rule 1): discovery, client
 * authentication, and the checks every token response goes through.
 */
import * as client from 'openid-client';
import type { IdentityProvider, OidcClientConfig } from '../config';
import { log } from '../log';
import { processWide } from '../process-wide';
import { operationsOf, timedAs, timedIdpFetch } from './idp-fetch';

/** A misbehaving IdP must not hold a browser (or a request waiting on a refresh) for openid-client's default 30 s. */
const IDP_TIMEOUT_SECONDS = 5;

async function clientAuth(oidc: OidcClientConfig): Promise<client.ClientAuth> {
  switch (oidc.clientAuthMethod) {
    case 'private_key_jwt': {
      const jwk = oidc.clientJwk!;
      const key = await crypto.subtle.importKey('jwk', jwk as JsonWebKey, importParams(String(jwk.alg)), false, ['sign']);
      return client.PrivateKeyJwt({ key, kid: typeof jwk.kid === 'string' ? jwk.kid : undefined });
    }
    case 'client_secret_post':
      return client.ClientSecretPost(oidc.clientSecret);
    default:
      return client.ClientSecretBasic(oidc.clientSecret);
  }
}

function importParams(alg: string): RsaHashedImportParams | EcKeyImportParams | Algorithm {
  if (alg.startsWith('RS')) return { name: 'RSASSA-PKCS1-v1_5', hash: `SHA-${alg.slice(2)}` };
  if (alg.startsWith('PS')) return { name: 'RSA-PSS', hash: `SHA-${alg.slice(2)}` };
  if (alg === 'ES256') return { name: 'ECDSA', namedCurve: 'P-256' };
  if (alg === 'ES384') return { name: 'ECDSA', namedCurve: 'P-384' };
  if (alg === 'ES512') return { name: 'ECDSA', namedCurve: 'P-521' };
  return { name: 'Ed25519' };
}

/** Times each call by the endpoint it goes to (lib/oidc/idp-fetch.ts). */
const timedIdpFetchFor = (configuration: client.Configuration) =>
  timedIdpFetch(operationsOf(configuration.serverMetadata() as Record<string, unknown>)) as client.CustomFetch;

async function discover(oidc: IdentityProvider): Promise<client.Configuration> {
  const execute = [client.enableNonRepudiationChecks];
  // config.ts admits plain http only on loopback (the dev and test identity providers).
  if (oidc.issuer.protocol === 'http:') execute.push(client.allowInsecureRequests);
  const configuration = await client.discovery(
    oidc.issuer,
    oidc.clientId,
    { client_secret: oidc.clientSecret, id_token_signed_response_alg: undefined },
    await clientAuth(oidc),
    { execute, timeout: IDP_TIMEOUT_SECONDS, [client.customFetch]: timedAs('discovery') as client.CustomFetch },
  );
  configuration.timeout = IDP_TIMEOUT_SECONDS;
  // Every later call (token, refresh, JWKS, PAR) is timed by the endpoint it goes to.
  configuration[client.customFetch] = timedIdpFetchFor(configuration);
  log.info('oidc discovery done', { issuer: configuration.serverMetadata().issuer, provider: oidc.id });
  return configuration;
}

/** Discovery per provider id (SPEC §12): one IdP down leaves the others working. */
const discovered = processWide('oidc.configurations', () => new Map<string, Promise<client.Configuration>>());

/**
 * Drops the discovered configuration of one provider so the next use discovers again, with a fresh
 * JWKS: after an IdP rotates its signing key, openid-client would otherwise refuse the new key for
 * up to a minute.
 */
export function forgetOidcConfiguration(provider: IdentityProvider): void {
  discovered.delete(provider.id);
}

/**
 * The discovered configuration of `provider`, shared by `proxy.ts`, route handlers and the server
 * (STYLE rule 8). A failed discovery is not cached: the next use tries again once the IdP is back.
 */
export function getOidcConfiguration(provider: IdentityProvider): Promise<client.Configuration> {
  let pending = discovered.get(provider.id);
  if (!pending) {
    const started = discover(provider);
    discovered.set(provider.id, (pending = started));
    started.catch(() => {
      if (discovered.get(provider.id) === started) discovered.delete(provider.id);
    });
  }
  return pending;
}
