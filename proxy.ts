/**
 * The gate for everything Next.js serves itself (SPEC §4): read the session, refresh it when due,
 * and enforce auto-login. `/oauth2/*` and build assets never come here (see `config.matcher`);
 * upstream routes are forwarded by the server before Next sees them (server.ts explains why).
 * Next 16 renamed `middleware.ts` to `proxy.ts`; it always runs on Node.js, where ioredis works.
 */
import { NextResponse, type NextRequest } from 'next/server';
import { gatehouse } from '@/lib/gatehouse';
import { GatehouseError } from '@/lib/errors';
import { unauthenticatedBody } from '@/lib/gate';
import { createContext } from '@/lib/http/context';
import { basePathOf } from '@/lib/http/ingress';
import { INGRESS_HEADER } from '@/lib/http/internal-headers';
import { isNavigation } from '@/lib/http/navigation';
import { readRequestPath } from '@/lib/http/request-path';
import { errorResponse, finish, withCookies } from '@/lib/http/responses';
import { log } from '@/lib/log';
import { gateRequest } from '@/lib/request-gate';

export async function proxy(request: NextRequest) {
  const gh = gatehouse();
  const { config } = gh;
  const path = readRequestPath(request.nextUrl.pathname);
  if (!path) return NextResponse.json({ error: 'bad_request' }, { status: 400 });
  const ingress = config.ingresses[Number(request.headers.get(INGRESS_HEADER) ?? 0) || 0] ?? config.ingresses[0];
  const basePath = basePathOf(ingress);
  const gate = await gateRequest(gh, {
    cookieHeader: request.headers.get('cookie'),
    basePath,
    decodedPath: path.decoded,
    returnTo: basePath + path.raw + request.nextUrl.search,
    navigation: isNavigation(request.method, request.headers),
    upstream: false,
    now: Date.now(),
  });
  log.debug('page gate', { outcome: gate.kind, session: gate.session !== null });
  // Next insists on absolute URLs in a Location set here; they are built from the ingress.
  const absolute = (location: string) => `${ingress.origin}${location}`;
  if (gate.kind === 'forbidden') {
    // SPEC §12: the error page for a navigation (or ERROR_PATH), 403 JSON for anything else.
    const ingressIndex = config.ingresses.indexOf(ingress);
    const ctx = createContext(config, { method: request.method, innerPath: path.raw, search: request.nextUrl.search, headers: request.headers, ingressIndex });
    return finish(errorResponse(config, ctx, new GatehouseError('forbidden'), { html: ctx.navigation, setCookies: gate.setCookies }), ctx);
  }
  let response: NextResponse;
  if (gate.kind === 'login') {
    response = new NextResponse(null, { status: 302, headers: { Location: absolute(gate.location), 'Cache-Control': 'no-store' } });
  } else if (gate.kind === 'unauthenticated') {
    response = new NextResponse(unauthenticatedBody(gate.loginUrl), {
      status: 401,
      headers: { Location: absolute(gate.loginUrl), 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    });
  } else {
    response = NextResponse.next();
  }
  // Safe here: this is not a rewrite, so these cookies go to the browser only.
  withCookies(response.headers, gate.setCookies);
  return response;
}

export const config = {
  matcher: ['/((?!oauth2/|_next/static/|_next/image|favicon\\.ico$|robots\\.txt$).*)'],
};
