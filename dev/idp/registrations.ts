// Who may use the dev IdP: the demo accounts (any login name is an account) and the client
// registrations, both as tests write them (`ClientSpec`) and as oidc-provider wants them (metadata).

import type { ClientSpec } from './types';

/** Claims for the login name typed into the dev login form: `alice` → "Alice Demo", alice@example.com. */
export function demoClaims(login: string): Record<string, string | boolean> {
  const local = login.toLowerCase().replace(/[^a-z0-9._-]+/g, '.').replace(/^\.+|\.+$/g, '') || 'user';
  const display = login.charAt(0).toUpperCase() + login.slice(1);
  return {
    sub: login,
    name: `${display} Demo`,
    given_name: display,
    family_name: 'Demo',
    preferred_username: login,
    email: `${local}@example.com`,
    email_verified: true,
  };
}

/** The client registration of a Gatehouse reachable at `appUrl` (no trailing slash needed). */
export function demoClient(
  appUrl: string,
  clientId = 'gatehouse-test',
  clientSecret = 'gatehouse-test-secret-0123456789abcdef',
): ClientSpec {
  const base = appUrl.replace(/\/+$/, '');
  return {
    clientId,
    clientSecret,
    redirectUris: [`${base}/oauth2/callback`],
    postLogoutRedirectUris: [`${base}/oauth2/logout/callback`],
    backchannelLogoutUri: `${base}/oauth2/logout/backchannel`,
    tokenEndpointAuthMethod: 'client_secret_basic',
  };
}

/** A `ClientSpec` as oidc-provider client metadata. Every client may refresh; one with a back-channel
 *  logout URI asks for `sid` in its logout tokens. */
export function clientMetadata(spec: ClientSpec): Record<string, unknown> {
  const method = spec.tokenEndpointAuthMethod ?? 'client_secret_basic';
  return {
    client_id: spec.clientId,
    ...(method === 'private_key_jwt' ? { jwks: spec.jwks } : { client_secret: spec.clientSecret }),
    token_endpoint_auth_method: method,
    redirect_uris: spec.redirectUris,
    post_logout_redirect_uris: spec.postLogoutRedirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...(spec.backchannelLogoutUri
      ? { backchannel_logout_uri: spec.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
  };
}
