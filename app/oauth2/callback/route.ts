import { callback } from '@/lib/actions/callback';
import { route } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const GET = route(callback);
