/**
 * `GET /oauth2/sign-in` (SPEC §3, §12): with several identity providers the page to choose one,
 * keeping the sanitised `redirect` and the login options; with one provider straight to login.
 * An SSO proxy has no providers of its own: the choice is its server's (SPEC §8).
 */
import type { IdentityProvider } from '../config';
import type { Gatehouse, RelyingParty } from '../gatehouse';
import type { RequestContext } from '../http/context';
import { redirect } from '../http/responses';
import { renderSignInPage, type SignInOption } from '../http/sign-in-page';
import { hasSeveralProviders } from '../oidc/providers';
import { ROUTES } from '../routes';
import { serverRedirect } from '../sso';
import { carryLoginOptions, loginTarget } from './login';

/**
 * How long the page waits for a provider's discovery before showing it as unavailable. A slow one
 * goes on loading in the background (its own 5 s timeout bounds it) and the next visit finds it.
 */
const DISCOVERY_WAIT_MS = 1_500;

/** `/oauth2/login` with `provider` (when given), `redirect` and the login options of this request. */
function loginUrl(ctx: RequestContext, redirectTo: string | null, provider?: IdentityProvider): string {
  const query = new URLSearchParams();
  if (provider) query.set('provider', provider.id);
  if (redirectTo !== null) query.set('redirect', redirectTo);
  const search = carryLoginOptions(ctx, query).toString();
  return `${ctx.basePath}${ROUTES.login}${search ? `?${search}` : ''}`;
}

async function isAvailable(rp: RelyingParty, provider: IdentityProvider): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(resolve, DISCOVERY_WAIT_MS, false)));
  try {
    return await Promise.race([rp.oidc(provider).then(() => true, () => false), gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

export async function signIn(gh: Gatehouse, ctx: RequestContext): Promise<Response> {
  const { config } = gh;
  if (gh.relyingParty === null) return redirect(serverRedirect(gh.ssoServer, ROUTES.signIn, ctx.ingress, loginTarget(ctx), ctx.query));
  const rp = gh.relyingParty;
  // The target is sanitised here, and again by /oauth2/login (SPEC §6: when stored and when used).
  const requested = ctx.query.get('redirect');
  const target = requested === null ? null : loginTarget(ctx, config);
  if (!hasSeveralProviders(rp)) return redirect(loginUrl(ctx, target));

  const options: SignInOption[] = await Promise.all(rp.providers.map(async (provider) => ({
    id: provider.id,
    name: provider.name,
    loginUrl: loginUrl(ctx, target ?? loginTarget(ctx, config), provider),
    available: await isAvailable(rp, provider),
  })));
  return new Response(renderSignInPage(options), { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
}
