// Refresh under concurrency (SPEC §5, "single-flight per session across replicas"): several
// sessions whose access token is due for a refresh each get a burst of parallel requests, spread
// over two Gatehouse replicas that share Redis. With an IdP that rotates refresh tokens, a second
// refresh grant for the same session would replay a used refresh token and revoke the grant, so
// the only right answer is exactly one refresh grant per session and round, and no failed request.

import http from 'node:http';
import type { Idp } from '../dev/idp';
import type { App } from '../test/harness/app';
import { Browser, FETCH_HEADERS, loginViaIdp } from '../test/harness/http';

export interface RefreshOptions {
  /** Replicas sharing one Redis and SESSION_SECRET; logins go through the first. */
  replicas: App[];
  idp: Idp;
  sessions: number;
  /** Parallel requests per session and round, spread round-robin over the replicas. */
  parallel: number;
  /** One entry per round: the IdP's token endpoint delay (a slow IdP widens the race). */
  rounds: Array<{ idpDelayMs: number }>;
  /** Refresh cooldown of these tokens (half their lifetime for tokens of ≤ 2 min). */
  cooldownMs: number;
}

export interface SessionRound {
  sub: string;
  /** GET /oauth2/session said the refresh was due (cooldown over) just before the burst. */
  due: boolean;
  requests: number;
  /** Non-200 answers and transport errors. */
  errors: number;
  statuses: Record<string, number>;
  /** Successful refresh_token grants the IdP issued for this session in this round. */
  refreshGrants: number;
  /** Requests the upstream saw with a token other than the one before the round. */
  servedWithNewToken: number;
  /** Distinct access tokens the upstream saw in this round (1 or 2 when single-flight holds). */
  distinctTokens: number;
  /** The session still answers 200 `active:true` after the round. */
  aliveAfter: boolean;
}

export interface RefreshRound {
  round: number;
  idpDelayMs: number;
  burstMs: number;
  /** Failed refresh grants at the IdP during the round (all sessions). */
  refreshGrantErrors: number;
  sessions: SessionRound[];
}

export interface RefreshResult {
  replicas: number;
  parallel: number;
  rounds: RefreshRound[];
  /** Every session in every round: due, exactly one grant, no error, still alive. */
  ok: boolean;
}

interface BenchSession {
  sub: string;
  cookie: string;
  /** Upper bound of the time of the last token response Gatehouse got for it. */
  tokensAt: number;
  token: string | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function get(agent: http.Agent, url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

const tokenOf = (body: string): string | undefined => {
  try {
    return (JSON.parse(body) as { token?: string }).token;
  } catch {
    return undefined;
  }
};

async function sessionState(app: App, cookie: string): Promise<{ status: number; active: boolean; cooldown: boolean; nextRefreshIn: number }> {
  const agent = new http.Agent();
  const res = await get(agent, `${app.url}/oauth2/session`, { ...FETCH_HEADERS, cookie });
  agent.destroy();
  if (res.status !== 200) return { status: res.status, active: false, cooldown: true, nextRefreshIn: -1 };
  const json = JSON.parse(res.body) as { session: { active: boolean }; tokens: { refresh_cooldown: boolean; next_auto_refresh_in_seconds: number } };
  return { status: 200, active: json.session.active, cooldown: json.tokens.refresh_cooldown, nextRefreshIn: json.tokens.next_auto_refresh_in_seconds };
}

export async function runRefreshScenario(opts: RefreshOptions): Promise<RefreshResult> {
  const [first] = opts.replicas;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const sessions: BenchSession[] = [];

  for (let i = 0; i < opts.sessions; i++) {
    const sub = `bench-refresh-${i + 1}`;
    const browser = new Browser();
    await loginViaIdp(browser, first.url, { login: sub, redirect: '/api/whoami', stopAfterCallback: true });
    const cookie = browser.cookieHeader(`${first.url}/api/whoami`);
    if (!cookie) throw new Error(`refresh scenario: no session cookie after logging in ${sub}`);
    const tokensAt = Date.now();
    // Still in its cooldown: this request cannot refresh; it tells which token the session holds.
    const probe = await get(agent, `${first.url}/api/whoami`, { ...FETCH_HEADERS, cookie });
    if (probe.status !== 200) throw new Error(`refresh scenario: ${sub} got ${probe.status} right after login: ${probe.body}`);
    sessions.push({ sub, cookie, tokensAt, token: tokenOf(probe.body) });
  }

  const rounds: RefreshRound[] = [];
  for (const [index, round] of opts.rounds.entries()) {
    // Due = the cooldown since the last token response is over (SESSION_REFRESH_BEFORE exceeds
    // the token lifetime, so the cooldown is what holds the refresh back). 250 ms of margin.
    await sleep(Math.max(...sessions.map((s) => s.tokensAt)) + opts.cooldownMs + 250 - Date.now());
    const due = await Promise.all(sessions.map(async (s) => {
      const st = await sessionState(first, s.cookie);
      return st.status === 200 && st.active && !st.cooldown && st.nextRefreshIn === 0;
    }));

    opts.idp.delayTokenRequests(round.idpDelayMs);
    const logStart = opts.idp.grantLog.length;
    const errorsBefore = opts.idp.grants.refreshGrantErrors;
    const t0 = Date.now();
    const bursts = await Promise.all(sessions.map((s) =>
      Promise.all(Array.from({ length: opts.parallel }, (_, j) => {
        const app = opts.replicas[j % opts.replicas.length];
        return get(agent, `${app.url}/api/whoami`, { ...FETCH_HEADERS, cookie: s.cookie });
      })),
    ));
    const burstMs = Date.now() - t0;
    opts.idp.delayTokenRequests(0);
    const events = opts.idp.grantLog.slice(logStart);

    const results: SessionRound[] = [];
    for (const [i, s] of sessions.entries()) {
      const answers = bursts[i];
      const statuses: Record<string, number> = {};
      for (const a of answers) {
        const key = a.status === 0 ? 'error' : String(a.status);
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
      const tokens = answers.map((a) => (a.status === 200 ? tokenOf(a.body) : undefined)).filter((t): t is string => !!t);
      const newer = tokens.filter((t) => t !== s.token);
      const after = await sessionState(first, s.cookie);
      results.push({
        sub: s.sub,
        due: due[i],
        requests: answers.length,
        errors: answers.length - (statuses['200'] ?? 0),
        statuses,
        refreshGrants: events.filter((e) => e.type === 'refresh_token' && e.ok && e.sub === s.sub).length,
        servedWithNewToken: newer.length,
        distinctTokens: new Set(tokens).size,
        aliveAfter: after.status === 200 && after.active,
      });
      if (newer.length) s.token = newer[newer.length - 1];
      s.tokensAt = Date.now();
    }
    rounds.push({
      round: index + 1,
      idpDelayMs: round.idpDelayMs,
      burstMs,
      refreshGrantErrors: opts.idp.grants.refreshGrantErrors - errorsBefore,
      sessions: results,
    });
  }
  agent.destroy();

  const ok = rounds.every((r) => r.refreshGrantErrors === 0 && r.sessions.every((s) => s.due && s.refreshGrants === 1 && s.errors === 0 && s.aliveAfter));
  return { replicas: opts.replicas.length, parallel: opts.parallel, rounds, ok };
}
