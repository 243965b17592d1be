import { frontChannelLogout } from '@/lib/actions/channels';
import { relyingPartyRoute } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const GET = relyingPartyRoute(frontChannelLogout);
