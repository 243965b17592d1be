/**
 * Readiness probe (SPEC §3 `/oauth2/ready`): 200 `{"ready":true}` when this instance can serve a
 * login, 503 `{"ready":false,"reason":…}` when it cannot or is shutting down. Liveness is
 * `/oauth2/ping`, which touches nothing: a restart cures neither an IdP nor a Redis outage.
 *
 * Every check is bounded well under a probe's usual one-second timeout: a frozen IdP or Redis
 * makes the probe fail, never hang.
 */
import type { Gatehouse } from '../gatehouse';
import { json } from '../http/responses';
import { log } from '../log';
import { processWide } from '../process-wide';
import { isShuttingDown } from '../server/shutdown';

export type NotReadyReason = 'shutting_down' | 'idp_unavailable' | 'store_unavailable';

/**
 * How long a probe waits for a discovery in progress. A discovery that takes longer goes on in the
 * background (openid-client's own timeout bounds it) and the next probe finds it loaded.
 */
const IDP_WAIT_MS = 500;

/**
 * The IdP's discovery document (and so its endpoints) is loaded; the first probe may load it.
 * With several identity providers (SPEC §12): ready when any of them is loaded. Each probe starts
 * the discovery of every provider not loaded yet; one that is down only greys out its button on
 * the sign-in page, and taking the instance out of service would lock out the others' users too.
 */
async function idpReady(gh: Gatehouse): Promise<boolean> {
  // SPEC §8: an SSO proxy never talks to the IdP, so only its store counts.
  const rp = gh.relyingParty;
  if (rp === null) return true;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(resolve, IDP_WAIT_MS, false)));
  try {
    const anyLoaded = Promise.any(rp.providers.map((p) => rp.oidc(p))).then(() => true, () => false);
    return await Promise.race([anyLoaded, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

/** The store's backing service (Redis), when it has one, answers within the client's fast-fail command timeout. */
async function storeReady(gh: Gatehouse): Promise<boolean> {
  const ping = gh.sessions.primary?.ping;
  if (!ping) return true;
  try {
    await ping.call(gh.sessions.primary);
    return true;
  } catch {
    return false;
  }
}

/** Why this instance should not get traffic now, or null when it should. */
export async function notReadyReason(gh: Gatehouse): Promise<NotReadyReason | null> {
  if (isShuttingDown()) return 'shutting_down';
  const [idp, store] = await Promise.all([idpReady(gh), storeReady(gh)]);
  if (isShuttingDown()) return 'shutting_down'; // the signal came while we checked
  if (!idp) return 'idp_unavailable';
  if (!store) return 'store_unavailable';
  return null;
}

const last = processWide('readiness.last', () => ({ reason: null as NotReadyReason | null }));

/** Logs changes only: probes come every few seconds, an outage must not flood the log. */
function logChange(reason: NotReadyReason | null) {
  if (last.reason === reason) return;
  last.reason = reason;
  if (reason) log.warn('not ready', { reason });
  else log.info('ready again');
}

export async function getReadiness(gh: Gatehouse): Promise<Response> {
  const reason = await notReadyReason(gh);
  logChange(reason);
  return reason ? json(503, { ready: false, reason }) : json(200, { ready: true });
}
