import { backChannelLogout } from '@/lib/actions/channels';
import { route } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const POST = route(async (gh, ctx, request) => backChannelLogout(gh, ctx, await request.text()));
