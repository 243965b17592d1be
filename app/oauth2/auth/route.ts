import { forwardAuth } from '@/lib/actions/forward-auth';
import { route } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const GET = route(forwardAuth);
