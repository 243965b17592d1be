import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../config';
import { basePathOf, matchIngress, publicUrl } from './ingress';

/** Ingresses as the config delivers them. */
const ingressesOf = (value: string) => loadConfig({ INGRESS: value }).ingresses;

describe('matchIngress', () => {
  const root = ingressesOf('https://example.com');
  const app = ingressesOf('https://example.com/app');
  const mixed = ingressesOf('https://example.com,https://example.com/app,https://example.com/app/admin');
  const hosts = ingressesOf('https://a.example/app,https://b.example/app,https://c.example:8443/app');

  const cases: { name: string; ingresses: URL[]; path: string; host?: string; want: { index: number; basePath: string; innerPath: string } | null }[] = [
    { name: 'root ingress: root', ingresses: root, path: '/', want: { index: 0, basePath: '', innerPath: '/' } },
    { name: 'root ingress: any path', ingresses: root, path: '/a/b', want: { index: 0, basePath: '', innerPath: '/a/b' } },
    { name: 'path ingress: its own path', ingresses: app, path: '/app', want: { index: 0, basePath: '/app', innerPath: '/' } },
    { name: 'path ingress: below it', ingresses: app, path: '/app/x', want: { index: 0, basePath: '/app', innerPath: '/x' } },
    { name: 'path ingress: oauth2 below it', ingresses: app, path: '/app/oauth2/login', want: { index: 0, basePath: '/app', innerPath: '/oauth2/login' } },
    { name: 'path ingress: not /apple', ingresses: app, path: '/apple', want: null },
    { name: 'path ingress: not the root', ingresses: app, path: '/', want: null },
    { name: 'path ingress: not elsewhere', ingresses: app, path: '/other/app', want: null },
    { name: 'path ingress: case-sensitive', ingresses: app, path: '/APP/x', want: null },
    { name: 'longest path wins', ingresses: mixed, path: '/app/admin/users', want: { index: 2, basePath: '/app/admin', innerPath: '/users' } },
    { name: 'middle path', ingresses: mixed, path: '/app/x', want: { index: 1, basePath: '/app', innerPath: '/x' } },
    { name: '/apple falls back to the root ingress', ingresses: mixed, path: '/apple', want: { index: 0, basePath: '', innerPath: '/apple' } },
    { name: 'longest path wins over a matching host', ingresses: mixed, path: '/app/admin', host: 'example.com', want: { index: 2, basePath: '/app/admin', innerPath: '/' } },
    { name: 'equal paths: the Host picks', ingresses: hosts, path: '/app/x', host: 'b.example', want: { index: 1, basePath: '/app', innerPath: '/x' } },
    { name: 'equal paths: Host compared case-insensitively', ingresses: hosts, path: '/app/x', host: 'B.EXAMPLE', want: { index: 1, basePath: '/app', innerPath: '/x' } },
    { name: 'equal paths: Host with port', ingresses: hosts, path: '/app', host: 'c.example:8443', want: { index: 2, basePath: '/app', innerPath: '/' } },
    { name: 'equal paths: wrong port is another host', ingresses: hosts, path: '/app', host: 'c.example', want: { index: 0, basePath: '/app', innerPath: '/' } },
    { name: 'equal paths: unknown Host takes the first', ingresses: hosts, path: '/app', host: 'evil.example', want: { index: 0, basePath: '/app', innerPath: '/' } },
    { name: 'equal paths: no Host takes the first', ingresses: hosts, path: '/app', want: { index: 0, basePath: '/app', innerPath: '/' } },
    { name: 'a Host never admits a path outside every ingress', ingresses: hosts, path: '/other', host: 'a.example', want: null },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = matchIngress(c.ingresses, c.path, c.host);
      assert.deepEqual(got && { index: got.index, basePath: got.basePath, innerPath: got.innerPath }, c.want);
      if (got) assert.equal(got.ingress, c.ingresses[got.index]);
    });
  }

  test('a non-ASCII ingress path matches the decoded request path', () => {
    // Decisions see the decoded path (lib/http/request-path.ts); the URL keeps its path encoded.
    const got = matchIngress(ingressesOf('https://example.com/søk'), '/søk/x', 'example.com');
    assert.deepEqual(got && { index: got.index, innerPath: got.innerPath }, { index: 0, innerPath: '/x' });
  });
});

describe('publicUrl', () => {
  const cases: { name: string; ingress: string; input: string; want: string }[] = [
    { name: 'root ingress', ingress: 'https://example.com', input: '/oauth2/callback', want: 'https://example.com/oauth2/callback' },
    { name: 'path ingress', ingress: 'https://example.com/app', input: '/oauth2/callback', want: 'https://example.com/app/oauth2/callback' },
    { name: 'trailing slash in config', ingress: 'https://example.com/app/', input: '/oauth2/logout/callback', want: 'https://example.com/app/oauth2/logout/callback' },
    { name: 'port kept', ingress: 'http://localhost:3000', input: '/oauth2/callback', want: 'http://localhost:3000/oauth2/callback' },
    { name: 'default port dropped', ingress: 'https://example.com:443/app', input: '/', want: 'https://example.com/app/' },
  ];
  for (const { name, ingress, input, want } of cases) {
    test(name, () => {
      assert.equal(publicUrl(ingressesOf(ingress)[0], input), want);
    });
  }

  test('basePathOf', () => {
    assert.equal(basePathOf(new URL('https://example.com/')), '');
    assert.equal(basePathOf(ingressesOf('https://example.com/app/')[0]), '/app');
  });
});
