// Label cardinality stays bounded whatever clients send (SPEC §11: `route` is an endpoint, an
// upstream prefix or `app`, never a raw path; `method` from a closed set). Against the production
// build: after one warm-up request of every kind (upstream route, page, unknown /oauth2 path,
// unreadable path; with and without a session; every method), 1,000 requests to distinct random
// paths and queries, with random methods, must not add a single Gatehouse series, must all be
// counted, and no random path may appear anywhere in the exposition.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/metrics-cardinality.test.ts

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Browser, FETCH_HEADERS, loginViaIdp } from '../harness/http';
import { freePort } from '../harness/ports';
import { startStack, type Stack } from '../harness/stack';
import { parseExposition } from './metrics-scrape';

const REQUESTS = 1_000;
const PARALLEL = 10;
/** Known methods and ones outside the label set (PROPFIND, MKCOL, PURGE: Node's parser admits them). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'MKCOL', 'PURGE'];
/** Paths by kind; `r` is the random part. */
const KINDS: Array<(r: string) => string> = [
  (r) => `/api/${r}?q=${r}`,
  (r) => `/${r}/page?x=${r}`,
  (r) => `/oauth2/${r}`,
  (r) => `/oauth2/session/${r}`,
  (r) => `/%ZZ${r}`, // not a readable path: the `invalid` route
];

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];
const random = () => `r${randomBytes(8).toString('hex')}`;

describe('metrics: 1,000 requests to random paths add no series', () => {
  let stack: Stack;
  let metricsUrl: string;
  const signedIn = new Browser();
  const anonymous = new Browser();

  before(async () => {
    const metricsPort = await freePort();
    stack = await startStack({ env: { METRICS_ADDRESS: `127.0.0.1:${metricsPort}` } });
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    await loginViaIdp(signedIn, stack.app.url);
  });
  after(async () => {
    await stack?.close();
  });

  const exposition = async () => {
    const res = await fetch(metricsUrl);
    assert.equal(res.status, 200);
    return res.text();
  };
  /** The Gatehouse series (process metrics such as GC kinds are prom-client's and come and go). */
  const gatehouseSeries = (text: string) => [...parseExposition(text).samples.keys()].filter((k) => k.startsWith('gatehouse_')).sort();
  const requestsCounted = (text: string) =>
    [...parseExposition(text).samples].filter(([k]) => k.startsWith('gatehouse_http_requests_total{')).reduce((sum, [, v]) => sum + v, 0);

  async function send(browser: Browser, method: string, path: string): Promise<number> {
    const res = await browser.request(`${stack.app.url}${path}`, { method, headers: FETCH_HEADERS });
    await res.body?.cancel();
    return res.status;
  }

  test(`${REQUESTS} distinct random paths, methods and queries leave the set of series as it was`, async () => {
    // Warm-up: every kind × method × session once, so each label combination they lead to exists.
    for (const browser of [signedIn, anonymous]) {
      for (const kind of KINDS) {
        for (const method of METHODS) await send(browser, method, kind(random()));
      }
    }
    const before = await exposition();

    const sent: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < REQUESTS) {
          next++;
          const r = random();
          sent.push(r);
          const status = await send(pick([signedIn, anonymous]), pick(METHODS), pick(KINDS)(r));
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    const after = await exposition();

    assert.deepEqual(gatehouseSeries(after), gatehouseSeries(before), 'no Gatehouse series was added or removed');
    assert.equal(requestsCounted(after) - requestsCounted(before), REQUESTS, 'every request was counted');
    assert.ok(statuses.size > 2, `the requests got a mix of answers: ${JSON.stringify([...statuses])}`);
    const leaked = sent.filter((r) => after.includes(r));
    assert.deepEqual(leaked, [], 'no random path or query appears in the exposition');
  });
});
