/**
 * A route handler that calls an API on the server, with the user's access token: the pattern for
 * APIs the browser should not call itself (or that Gatehouse does not forward as an upstream
 * route). It must not live under an `UPSTREAMS` prefix: those requests go to the upstream and
 * never reach Next.js.
 *
 * The demo upstream of `npm run dev` (`/api`) answers with the request it received, Authorization
 * header included, so this page shows the token that was sent. A real API does not echo it; never
 * put the token into a response yourself.
 */
import { getAccessToken, loginHref, upstreamUrlFor } from '@/lib/app-server';

export const dynamic = 'force-dynamic';

const NO_STORE = { 'Cache-Control': 'no-store' };

export async function GET(request: Request) {
  const accessToken = await getAccessToken();
  if (!accessToken) {
    return Response.json({ error: 'unauthenticated', login_url: await loginHref('/examples/api-call') }, { status: 401, headers: NO_STORE });
  }
  // Where UPSTREAMS sends `/api/whoami`; a real app would name its API's URL in its own config.
  const target = upstreamUrlFor('/api/whoami');
  if (!target) {
    return Response.json({ error: 'not_configured', error_description: 'UPSTREAMS has no route for /api' }, { status: 501, headers: NO_STORE });
  }
  let upstream: Response;
  try {
    upstream = await fetch(target, {
      headers: {
        Authorization: `Bearer ${accessToken}`,
        Accept: 'application/json',
        // The same correlation id in Gatehouse's logs and the API's.
        'X-Request-Id': request.headers.get('x-request-id') ?? '',
      },
      cache: 'no-store',
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    return Response.json({ error: 'bad_gateway', error_description: 'the API did not answer' }, { status: 502, headers: NO_STORE });
  }
  const text = await upstream.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: shown as text.
  }
  return Response.json({ upstream_status: upstream.status, upstream: body }, { headers: NO_STORE });
}
