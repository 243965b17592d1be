import { refreshSession } from '@/lib/actions/session';
import { route } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const POST = route(refreshSession);
