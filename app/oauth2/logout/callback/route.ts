import { logoutCallback } from '@/lib/actions/logout';
import { route } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const GET = route(logoutCallback);
