/**
 * The browser's view of the Gatehouse session, without React: reads `GET /oauth2/session`,
 * refreshes through `POST /oauth2/session/refresh` when the access token is about to expire, and
 * keeps the tabs of one ingress in step over a BroadcastChannel. `useSession()` renders it.
 *
 * Cross-tab protocol: a tab that learns the session from the server (a read, a refresh, a 401) and
 * finds it changed posts what it learned; the other tabs adopt it without asking the server again
 * and never re-post it, so one change costs one request whatever the number of tabs. A tab that
 * starts a logout posts "no session" before it leaves: the local session ends on that first hop.
 */
import { nextStep, retryDelayMs, sameSession } from './schedule';
import { isSessionJson, type SessionJson, type SessionTimes, type SessionUser, type TokenTiming } from './types';
import { channelName, currentPage, loginUrl, logoutUrl, refreshUrl, sessionUrl, type LoginOptions, type LogoutOptions } from './urls';

export type SessionStatus = 'loading' | 'authenticated' | 'unauthenticated';

export type SessionState =
  | { status: 'loading' | 'unauthenticated'; user: null; session: null; tokens: null }
  | { status: 'authenticated'; user: SessionUser; session: SessionTimes; tokens: TokenTiming };

export const LOADING: SessionState = Object.freeze({ status: 'loading', user: null, session: null, tokens: null });
const UNAUTHENTICATED: SessionState = Object.freeze({ status: 'unauthenticated', user: null, session: null, tokens: null });

/** An inactive session (idle timeout) is still stored but cannot be used: the app sees no session. */
export const stateOf = (json: SessionJson | null): SessionState =>
  json && json.session.active ? { status: 'authenticated', user: json.user, session: json.session, tokens: json.tokens } : UNAUTHENTICATED;

export interface Channel {
  postMessage(message: unknown): void;
  /** Calls `receive` with every message another tab posts. */
  listen(receive: (data: unknown) => void): void;
  close(): void;
}

function broadcastChannel(name: string): Channel | null {
  if (typeof BroadcastChannel === 'undefined') return null;
  const channel = new BroadcastChannel(name);
  return {
    postMessage: (message) => channel.postMessage(message),
    listen: (receive) => channel.addEventListener('message', (event) => receive(event.data)),
    close: () => channel.close(),
  };
}

/** What the client needs from the browser; tests pass their own. */
export interface BrowserParts {
  fetch(url: string, init: RequestInit): Promise<Response>;
  /** null where BroadcastChannel does not exist: tabs then only learn on their own reads. */
  channel(name: string): Channel | null;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
  /** Calls `run` when the tab becomes visible again; returns the unsubscribe. */
  onVisible(run: () => void): () => void;
  location(): { pathname: string; search: string };
  navigate(url: string): void;
}

export const browserParts = (): BrowserParts => ({
  fetch: (url, init) => fetch(url, init),
  channel: broadcastChannel,
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
  onVisible: (run) => {
    // Hidden tabs get their timers throttled: catch up as soon as the person looks again.
    const listener = () => {
      if (document.visibilityState === 'visible') run();
    };
    document.addEventListener('visibilitychange', listener);
    return () => document.removeEventListener('visibilitychange', listener);
  },
  location: () => window.location,
  navigate: (url) => window.location.assign(url),
});

const MESSAGE = 'gatehouse.session';
interface SessionMessage {
  type: typeof MESSAGE;
  json: SessionJson | null;
}
const isMessage = (data: unknown): data is SessionMessage =>
  typeof data === 'object' && data !== null && (data as SessionMessage).type === MESSAGE
  && ((data as SessionMessage).json === null || isSessionJson((data as SessionMessage).json));

/** The outcome of one request: the session the server reported (null: none), or no answer. */
type Answer = { known: true; json: SessionJson | null } | { known: false };

export class SessionClient {
  private state: SessionState = LOADING;
  private json: SessionJson | null = null;
  private readonly listeners = new Set<() => void>();
  private channel: Channel | null = null;
  private stopVisible: (() => void) | null = null;
  private timer: unknown = null;
  private inFlight: Promise<SessionState> | null = null;
  private failures = 0;
  /** Bumped whenever another tab's news is adopted: an answer to a request sent before is stale. */
  private epoch = 0;

  constructor(readonly basePath: string, private readonly browser: BrowserParts = browserParts()) {}

  getState = (): SessionState => this.state;

  /** React's useSyncExternalStore contract. The first subscriber starts the client, the last one stops it. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  };

  /** Reads the session again (`GET /oauth2/session`). */
  reload = (): Promise<SessionState> => this.ask('GET', sessionUrl(this.basePath));

  /** Refreshes the tokens now (`POST /oauth2/session/refresh`; inside the cooldown the server answers without refreshing). */
  refresh = (): Promise<SessionState> => this.ask('POST', refreshUrl(this.basePath));

  /** Navigates to the login, coming back to this page unless `redirect` says otherwise. */
  login = (options: LoginOptions = {}): void => {
    this.browser.navigate(loginUrl(this.basePath, { redirect: currentPage(this.browser.location()), ...options }));
  };

  /** Navigates to the logout (local session, then the IdP's), coming back to this page unless `redirect` says otherwise. */
  logout = (options: LogoutOptions = {}): void => {
    this.post(null);
    this.browser.navigate(logoutUrl(this.basePath, { redirect: currentPage(this.browser.location()), ...options }));
  };

  private start() {
    this.channel = this.browser.channel(channelName(this.basePath));
    this.channel?.listen((data) => {
      if (!isMessage(data)) return;
      this.epoch += 1;
      this.adopt(data.json, false);
    });
    this.stopVisible = this.browser.onVisible(() => void this.reload());
    void this.reload();
  }

  private stop() {
    this.clearTimer();
    this.stopVisible?.();
    this.stopVisible = null;
    this.channel?.close();
    this.channel = null;
  }

  private ask(method: 'GET' | 'POST', url: string): Promise<SessionState> {
    // One request at a time: a refresh asked for during a read waits for it instead of racing it.
    if (this.inFlight) return this.inFlight;
    const epoch = this.epoch;
    const request = this.send(method, url).then((answer) => {
      this.inFlight = null;
      if (epoch !== this.epoch) {
        this.schedule();
      } else if (answer.known) {
        this.failures = 0;
        this.adopt(answer.json, true);
      } else {
        this.failures += 1;
        this.later(() => void this.reload(), retryDelayMs(this.failures));
      }
      return this.state;
    });
    this.inFlight = request;
    return request;
  }

  private async send(method: 'GET' | 'POST', url: string): Promise<Answer> {
    try {
      const response = await this.browser.fetch(url, { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
      if (response.status === 401) {
        await response.body?.cancel();
        return { known: true, json: null };
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        return { known: false };
      }
      const json: unknown = await response.json();
      return isSessionJson(json) ? { known: true, json } : { known: false };
    } catch {
      return { known: false };
    }
  }

  /** Takes `json` as the session; tells the other tabs when it is news and came from the server. */
  private adopt(json: SessionJson | null, fromServer: boolean) {
    const changed = this.state === LOADING || !sameSession(this.json, json);
    this.json = json;
    if (changed) {
      this.state = stateOf(json);
      if (fromServer) this.post(json);
      for (const listener of [...this.listeners]) listener();
    }
    this.schedule();
  }

  private post(json: SessionJson | null) {
    try {
      this.channel?.postMessage({ type: MESSAGE, json } satisfies SessionMessage);
    } catch {
      // A closed channel (the page is going away) has no one left to tell.
    }
  }

  private schedule() {
    const step = nextStep(this.json);
    if (!step) return this.clearTimer();
    this.later(() => void (step.kind === 'refresh' ? this.refresh() : this.reload()), step.delayMs);
  }

  private later(run: () => void, ms: number) {
    this.clearTimer();
    if (this.listeners.size === 0) return;
    this.timer = this.browser.setTimeout(() => {
      this.timer = null;
      run();
    }, ms);
  }

  private clearTimer() {
    if (this.timer !== null) this.browser.clearTimeout(this.timer);
    this.timer = null;
  }
}
