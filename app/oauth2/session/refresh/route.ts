import { refreshSession } from '@/lib/actions/session';
import { relyingPartyRoute } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const POST = relyingPartyRoute(refreshSession);
