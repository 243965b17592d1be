/**
 * Which identity provider a request, a login, a session or a logout message belongs to (SPEC §12).
 * With one provider every question has the same answer, so single-provider behaviour is unchanged.
 */
import type { IdentityProvider } from '../config';
import { getOidcConfiguration } from './client';

/** Whoever knows the providers: the config, or the relying party of the runtime (lib/gatehouse.ts). */
type WithProviders = { readonly providers: readonly IdentityProvider[] };

/** Several providers: the sign-in page exists and sessions remember their provider. */
export const hasSeveralProviders = (config: WithProviders) => config.providers.length > 1;

/**
 * The provider with this id. Without an id (a session or login cookie made before providers were
 * recorded, or with a single provider) the only provider, if there is just one.
 */
export function findProvider(config: WithProviders, id: string | undefined): IdentityProvider | undefined {
  if (id === undefined) return config.providers.length === 1 ? config.providers[0] : undefined;
  return config.providers.find((p) => p.id === id);
}

/** What a session records: its provider's id with several providers, nothing with one (same session as before). */
export const sessionProviderId = (config: WithProviders, provider: IdentityProvider) =>
  hasSeveralProviders(config) ? provider.id : undefined;

/** The issuer as the IdP states it (discovery), or as configured when discovery fails now. */
export async function issuerOf(provider: IdentityProvider): Promise<string> {
  try {
    return (await getOidcConfiguration(provider)).serverMetadata().issuer;
  } catch {
    return provider.issuer.href.replace(/\/$/, '');
  }
}

/**
 * The provider whose issuer is exactly `iss` (front-channel `iss`, a logout token's `iss`), as the
 * provider states it in discovery. Only the provider configured with that issuer is asked, so an
 * unreachable other provider costs nothing. config-providers.ts refuses two providers with one issuer.
 */
export async function providerByIssuer(config: WithProviders, iss: string): Promise<IdentityProvider | undefined> {
  const bare = (url: string) => url.replace(/\/$/, '');
  const provider = config.providers.find((p) => bare(p.issuer.href) === bare(iss));
  return provider && (await issuerOf(provider)) === iss ? provider : undefined;
}
