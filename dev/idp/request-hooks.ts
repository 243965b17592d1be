// What the dev IdP does to a request before oidc-provider's router sees it: record authorization
// requests as the relying party sent them, map `prompt=select_account` to `login`, inject token
// endpoint faults, delays and holds on a test's demand, and strip the devInteractions pages' web-font
// import. One Koa middleware, because oidc-provider lets us in only ahead of its whole router.

import { Buffer } from 'node:buffer';
import type http from 'node:http';
import type { Provider } from 'oidc-provider';
import type { GrantEvent, TokenFault } from './types';

export interface RequestHooks {
  /** Authorization requests as the relying party sent them (query or PAR body), in order. */
  authorizationRequests: Array<Record<string, string>>;
  /** The next `count` token requests answer `status` (default 503 temporarily_unavailable). */
  failTokenRequests(count?: number, status?: number, body?: Record<string, string>): void;
  /** Delay every token request by `ms` (0 turns it off). */
  delayTokenRequests(ms: number): void;
  /** Hold every token request that arrives from now on until the returned function is called. */
  holdTokenRequests(): () => void;
  /** Token requests being held right now (a test polls this to know one has arrived). */
  readonly heldTokenRequests: number;
  /** Forget recorded requests and switch faults and delays off. */
  reset(): void;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `prompt=select_account` has no devInteractions page (it answers 501); a dev IdP with one account per
 *  login can treat it as `login`, which is what "pick an account" amounts to there. */
function mapPrompt(params: URLSearchParams): boolean {
  const prompt = params.get('prompt');
  if (!prompt || !prompt.split(' ').includes('select_account')) return false;
  const mapped = [...new Set(prompt.split(' ').map((p) => (p === 'select_account' ? 'login' : p)))];
  params.set('prompt', mapped.join(' '));
  return true;
}

/** Installs the middleware on `provider`; injected faults are logged to `grantLog`. */
export function installRequestHooks(provider: Provider, grantLog: GrantEvent[]): RequestHooks {
  const authorizationRequests: Array<Record<string, string>> = [];
  let tokenFault: TokenFault | undefined;
  let tokenDelayMs = 0;
  // Pending while a hold is on; a held request awaits it, so releasing lets them all go at once.
  let hold: { released: Promise<void>; release: () => void } | undefined;
  let held = 0;

  const authorizationPath = provider.pathFor('authorization');
  const parPath = provider.pathFor('pushed_authorization_request');
  const tokenPath = provider.pathFor('token');

  // Runs before oidc-provider's own router (Provider#use inserts ahead of it).
  provider.use(async (ctx, next) => {
    // Record authorization requests as sent, and map prompt=select_account (see mapPrompt).
    if (ctx.method === 'GET' && ctx.path === authorizationPath) {
      const params = new URLSearchParams(ctx.querystring);
      if (!params.has('request_uri')) authorizationRequests.push(Object.fromEntries(params));
      if (mapPrompt(params)) ctx.querystring = params.toString();
    } else if (ctx.method === 'POST' && ctx.path === parPath && ctx.is('application/x-www-form-urlencoded')) {
      // Reading the body here means oidc-provider falls back to `req.body` (a string it re-parses).
      const raw = await readBody(ctx.req);
      const params = new URLSearchParams(raw);
      authorizationRequests.push(Object.fromEntries(params));
      mapPrompt(params);
      ctx.req.body = params.toString();
    } else if (ctx.method === 'POST' && ctx.path === tokenPath) {
      if (tokenDelayMs > 0) await new Promise((r) => setTimeout(r, tokenDelayMs));
      if (hold) {
        held += 1;
        try {
          await hold.released;
        } finally {
          held -= 1;
        }
      }
      if (tokenFault && tokenFault.remaining > 0) {
        tokenFault.remaining -= 1;
        ctx.status = tokenFault.status;
        ctx.type = 'application/json';
        ctx.set('cache-control', 'no-store');
        ctx.body = tokenFault.body;
        grantLog.push({ type: 'injected-fault', ok: false, error: tokenFault.body.error, at: Date.now() });
        return;
      }
    }
    await next();
    // devInteractions pages @import Google Fonts; offline (tests, CI) that stalls page loads.
    if (typeof ctx.body === 'string' && ctx.type.includes('html')) {
      ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
    }
  });

  return {
    authorizationRequests,
    failTokenRequests(n = 1, status = 503, body = { error: 'temporarily_unavailable', error_description: 'injected by the test' }) {
      tokenFault = { remaining: n, status, body };
    },
    delayTokenRequests(ms: number) {
      tokenDelayMs = ms;
    },
    holdTokenRequests() {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const mine = { released, release };
      hold?.release(); // a new hold replaces the old one; nothing stays held forever
      hold = mine;
      return () => {
        if (hold === mine) hold = undefined;
        mine.release();
      };
    },
    get heldTokenRequests() {
      return held;
    },
    reset() {
      authorizationRequests.length = 0;
      tokenFault = undefined;
      tokenDelayMs = 0;
      hold?.release();
      hold = undefined;
    },
  };
}
