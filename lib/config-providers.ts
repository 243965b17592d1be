/**
 * The identity providers of the configuration (SPEC §2 `OIDC_*`, §12 `IDENTITY_PROVIDERS`): one
 * provider from the plain `OIDC_*` variables, or several, each from `OIDC_<ID>_*`. Both end up as
 * the same list, so the rest of Gatehouse has one model; with one provider nothing else changes.
 * Every problem names the variable it is about (`OIDC_CORP_CLIENT_ID: is required`).
 */
import { z } from 'zod';
import { httpUrl, list, optional } from './config-values';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
export type ProviderPreset = 'openid' | 'azure' | 'idporten';

/** How Gatehouse talks to one OpenID Provider as one client. */
export interface OidcClientConfig {
  issuer: URL;
  clientId: string;
  clientSecret?: string;
  clientAuthMethod: ClientAuthMethod;
  clientJwk?: Record<string, unknown>;
  scopes: string[];
  acrValues?: string;
  uiLocales?: string;
  resource?: string;
  postLogoutRedirectUri?: string;
  provider: ProviderPreset;
}

/** One entry of `IDENTITY_PROVIDERS` (or the single provider of `OIDC_*`). */
export interface IdentityProvider extends OidcClientConfig {
  /** Lowercase letters, digits and `-`; `default` for the single provider. */
  id: string;
  /** The sign-in page's button label (`OIDC_<ID>_NAME`, default the id). */
  name: string;
}

/** The id of the provider configured by the plain `OIDC_*` variables. */
export const SINGLE_PROVIDER_ID = 'default';

const PROVIDER_ID = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const MAX_NAME_LENGTH = 100;

const DEV_ISSUER = 'http://localhost:3100';
const DEV_CLIENT_ID = 'gatehouse-dev';
const DEV_CLIENT_SECRET = 'gatehouse-dev-secret-not-for-production';

/**
 * What each `OIDC_PROVIDER` preset adds unless configured otherwise: Entra ID issues refresh
 * tokens only for `offline_access`; ID-porten wants an assurance level and a locale on every login.
 */
const PROVIDER_PRESETS: Record<ProviderPreset, { scopes: string[]; acrValues?: string; uiLocales?: string }> = {
  openid: { scopes: [] },
  azure: { scopes: ['offline_access'] },
  idporten: { scopes: [], acrValues: 'idporten-loa-high', uiLocales: 'nb' },
};

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
export const isLoopbackHost = (hostname: string) => LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/** One provider's variables, by the suffix after `OIDC_` (single) or `OIDC_<ID>_` (several). */
const providerSchema = z.object({
  ISSUER: z.string().transform((value, ctx) => httpUrl(value.trim(), ctx, 'the issuer')),
  CLIENT_ID: z.string().trim().min(1, 'is required'),
  CLIENT_SECRET: optional,
  CLIENT_AUTH_METHOD: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt']).optional(),
  CLIENT_JWK: optional.transform((value, ctx) => {
    if (!value) return undefined;
    try {
      const jwk = JSON.parse(value) as Record<string, unknown>;
      if (typeof jwk !== 'object' || jwk === null || typeof jwk.alg !== 'string' || !('d' in jwk)) throw new Error();
      return jwk;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a private JWK as JSON, with "alg"' });
      return z.NEVER;
    }
  }),
  SCOPES: optional.transform((v) => (v ? list(v, /[\s,]+/).filter((s) => s !== 'openid') : [])),
  ACR_VALUES: optional,
  UI_LOCALES: optional,
  RESOURCE: optional,
  POST_LOGOUT_REDIRECT_URI: optional,
  PROVIDER: z.enum(['openid', 'azure', 'idporten']).default('openid'),
  NAME: optional.refine((v) => !v || v.length <= MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`),
});
type Suffix = keyof z.infer<typeof providerSchema>;
const SUFFIXES = Object.keys(providerSchema.shape) as Suffix[];

/** `OIDC_CORP_` for `corp`, `OIDC_MY_IDP_` for `my-idp`. */
export const variablePrefix = (id: string) => `OIDC_${id.toUpperCase().replaceAll('-', '_')}_`;

export interface ProviderContext {
  production: boolean;
}

/**
 * The configured providers, or the problems that stop startup. `IDENTITY_PROVIDERS` unset: the one
 * provider of the plain `OIDC_*` variables (with the dev IdP's defaults outside production).
 */
export function loadIdentityProviders(env: Record<string, string | undefined>, c: ProviderContext): { providers: IdentityProvider[]; problems: string[] } {
  const problems: string[] = [];
  const ids = list(env.IDENTITY_PROVIDERS ?? '');
  if (ids.length === 0) {
    const values = singleProviderEnv(env, c, problems);
    const provider = problems.length === 0 ? loadProvider(SINGLE_PROVIDER_ID, 'OIDC_', values, c, problems) : null;
    return { providers: provider ? [provider] : [], problems };
  }
  for (const id of ids) {
    if (!PROVIDER_ID.test(id)) problems.push(`IDENTITY_PROVIDERS: "${id}" is not a provider id (lowercase letters, digits and "-")`);
  }
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) problems.push(`IDENTITY_PROVIDERS: "${duplicate}" is listed twice`);
  if (problems.length > 0) return { providers: [], problems };

  const providers: IdentityProvider[] = [];
  for (const id of ids) {
    const prefix = variablePrefix(id);
    const values = Object.fromEntries(SUFFIXES.map((s) => [s, env[`${prefix}${s}`]]));
    for (const required of ['ISSUER', 'CLIENT_ID'] as const) {
      if (!values[required]?.trim()) problems.push(`${prefix}${required}: is required (IDENTITY_PROVIDERS lists "${id}")`);
    }
    if (!values.ISSUER?.trim() || !values.CLIENT_ID?.trim()) continue;
    const provider = loadProvider(id, prefix, values, c, problems);
    if (provider) providers.push(provider);
  }
  // The logout channels pick the provider by `iss`; two providers with one issuer are ambiguous.
  for (const [i, p] of providers.entries()) {
    const first = providers.findIndex((q) => q.issuer.href === p.issuer.href);
    if (first !== i) problems.push(`${variablePrefix(p.id)}ISSUER: is the issuer of "${providers[first].id}" too; each provider needs its own issuer`);
  }
  return { providers, problems };
}

/** The plain `OIDC_*` values, with the dev IdP's defaults. */
function singleProviderEnv(env: Record<string, string | undefined>, c: ProviderContext, problems: string[]): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = Object.fromEntries(SUFFIXES.map((s) => [s, env[`OIDC_${s}`]]));
  values.NAME = undefined; // the single provider has no sign-in page
  for (const [suffix, fallback] of [['ISSUER', DEV_ISSUER], ['CLIENT_ID', DEV_CLIENT_ID]] as const) {
    if (values[suffix]?.trim()) continue;
    if (c.production) problems.push(`OIDC_${suffix}: is required in production`);
    else values[suffix] = fallback;
  }
  // A client needs a secret or a key; the dev IdP's client has a secret.
  if (!c.production && !values.CLIENT_SECRET?.trim() && !values.CLIENT_JWK?.trim()) values.CLIENT_SECRET = DEV_CLIENT_SECRET;
  return values;
}

function loadProvider(id: string, prefix: string, values: Record<string, string | undefined>, c: ProviderContext, problems: string[]): IdentityProvider | null {
  const parsed = providerSchema.safeParse(values);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => `${prefix}${String(issue.path[0] ?? 'ISSUER')}: ${issue.message}`));
    return null;
  }
  const v = parsed.data;
  const issuer = v.ISSUER as URL;
  if (c.production && issuer.protocol === 'http:' && !isLoopbackHost(issuer.hostname)) {
    problems.push(`${prefix}ISSUER: must be https in production (plain http is accepted only on a loopback host)`);
  }
  const authMethod: ClientAuthMethod = v.CLIENT_JWK ? 'private_key_jwt' : (v.CLIENT_AUTH_METHOD ?? 'client_secret_basic');
  if (authMethod === 'private_key_jwt' && !v.CLIENT_JWK) problems.push(`${prefix}CLIENT_JWK: is required for private_key_jwt`);
  if (authMethod !== 'private_key_jwt' && !v.CLIENT_SECRET) problems.push(`${prefix}CLIENT_SECRET: is required (or set ${prefix}CLIENT_JWK)`);
  const preset = PROVIDER_PRESETS[v.PROVIDER];
  return {
    id,
    name: v.NAME ?? id,
    issuer,
    clientId: v.CLIENT_ID,
    clientSecret: v.CLIENT_SECRET,
    clientAuthMethod: authMethod,
    clientJwk: v.CLIENT_JWK,
    scopes: [...new Set([...v.SCOPES, ...preset.scopes])],
    acrValues: v.ACR_VALUES ?? preset.acrValues,
    uiLocales: v.UI_LOCALES ?? preset.uiLocales,
    resource: v.RESOURCE,
    postLogoutRedirectUri: v.POST_LOGOUT_REDIRECT_URI,
    provider: v.PROVIDER,
  };
}

/** A provider without its secrets, for the one startup log line. */
export const redactedProvider = (p: IdentityProvider) => ({
  ...p,
  issuer: String(p.issuer),
  clientSecret: p.clientSecret && '[redacted]',
  clientJwk: p.clientJwk && '[redacted]',
});
