import { frontChannelLogout } from '@/lib/actions/channels';
import { route } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const GET = route(frontChannelLogout);
