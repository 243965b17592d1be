import { backChannelLogout, MAX_LOGOUT_FORM_BYTES } from '@/lib/actions/channels';
import { readTextLimited } from '@/lib/http/body';
import { relyingPartyRoute } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const POST = relyingPartyRoute(async (gh, ctx, request) => backChannelLogout(gh, ctx, await readTextLimited(request, MAX_LOGOUT_FORM_BYTES)));
