import { getReadiness } from '@/lib/actions/ready';
import { route } from '@/lib/http/route';

/** Readiness probe (SPEC §3): lib/actions/ready.ts decides; dispatch keeps it off every upstream. */
export const dynamic = 'force-dynamic';
export const GET = route(getReadiness);
