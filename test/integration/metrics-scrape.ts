// Reads Gatehouse's METRICS_ADDRESS /metrics the way Prometheus does (text exposition format 0.0.4)
// into samples keyed by name and labels, so a test can compare two scrapes.

import assert from 'node:assert/strict';

export type Labels = Record<string, string>;

export interface Scrape {
  contentType: string;
  /** `name{a="1",b="2"}` (labels sorted) → value. */
  samples: Map<string, number>;
  /** Metric name → type, from the `# TYPE` lines. */
  types: Map<string, string>;
}

/** The key of one sample: labels sorted, so it does not depend on the order the server prints. */
export function seriesKey(name: string, labels: Labels = {}): string {
  const parts = Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const unescape = (v: string) => v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

export function parseExposition(text: string): { samples: Map<string, number>; types: Map<string, string> } {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k] = unescape(v);
    const key = seriesKey(m[1], labels);
    assert.ok(!samples.has(key), `sample printed twice: ${key}`);
    samples.set(key, Number(m[3]));
  }
  return { samples, types };
}

export async function scrape(metricsUrl: string): Promise<Scrape> {
  const res = await fetch(metricsUrl);
  const text = await res.text();
  assert.equal(res.status, 200, `GET ${metricsUrl}: ${res.status} ${text.slice(0, 200)}`);
  return { contentType: res.headers.get('content-type') ?? '', ...parseExposition(text) };
}

/** A sample's value; fails when the series does not exist (every possible series exists at 0). */
export function valueOf(s: Scrape, name: string, labels: Labels = {}): number {
  const key = seriesKey(name, labels);
  const v = s.samples.get(key);
  assert.ok(v !== undefined, `no series ${key}; have ${[...s.samples.keys()].filter((k) => k.startsWith(name)).slice(0, 20).join(' ')}`);
  return v;
}

/** How much a series moved between two scrapes (a series that appeared counts from 0). */
export function delta(before: Scrape, after: Scrape, name: string, labels: Labels = {}): number {
  const key = seriesKey(name, labels);
  assert.ok(after.samples.has(key), `no series ${key} after`);
  return after.samples.get(key)! - (before.samples.get(key) ?? 0);
}

/** Every series of `prefix` whose value changed, with the change: what a step moved, and nothing else. */
export function changes(before: Scrape, after: Scrape, prefix: string): Map<string, number> {
  const moved = new Map<string, number>();
  for (const [key, value] of after.samples) {
    if (!key.startsWith(prefix)) continue;
    const d = value - (before.samples.get(key) ?? 0);
    if (d !== 0) moved.set(key, d);
  }
  return moved;
}
