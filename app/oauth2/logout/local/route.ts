import { logoutLocal } from '@/lib/actions/logout';
import { relyingPartyRoute } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const GET = relyingPartyRoute(logoutLocal);
