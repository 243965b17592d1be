import { callback } from '@/lib/actions/callback';
import { relyingPartyRoute } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const GET = relyingPartyRoute(callback);
