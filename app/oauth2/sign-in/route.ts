import { signIn } from '@/lib/actions/sign-in';
import { route } from '@/lib/http/route';

/** The choice of identity provider (SPEC §12): lib/actions/sign-in.ts decides. */
export const dynamic = 'force-dynamic';
export const GET = route(signIn);
