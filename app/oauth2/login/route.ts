import { login } from '@/lib/actions/login';
import { route } from '@/lib/http/route';

export const dynamic = 'force-dynamic';
export const GET = route(login);
