export const dynamic = 'force-dynamic';

/** Liveness probe (SPEC §3): answers without touching the IdP or the session store. */
export function GET() {
  return new Response('pong', { headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' } });
}
