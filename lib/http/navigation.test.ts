import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasSecFetchHeaders, isNavigation } from './navigation';

const CHROME_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

const cases: { name: string; method?: string; headers: Record<string, string>; want: boolean }[] = [
  { name: 'browser navigation', headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: CHROME_ACCEPT }, want: true },
  { name: 'Sec-Fetch values are case-insensitive', headers: { 'Sec-Fetch-Mode': 'Navigate', 'Sec-Fetch-Dest': 'DOCUMENT' }, want: true },
  { name: 'Sec-Fetch wins over Accept', headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: 'application/json' }, want: true },
  { name: 'lower-case method', method: 'get', headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }, want: true },
  { name: 'HEAD is not a navigation', method: 'HEAD', headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }, want: false },
  { name: 'POST form submission', method: 'POST', headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }, want: false },
  { name: 'fetch() with text/html Accept', headers: { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', accept: 'text/html' }, want: false },
  { name: 'same-origin fetch', headers: { 'sec-fetch-mode': 'same-origin', 'sec-fetch-dest': 'empty' }, want: false },
  { name: 'iframe navigation', headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe', accept: CHROME_ACCEPT }, want: false },
  { name: 'image request', headers: { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }, want: false },
  { name: 'only Sec-Fetch-Mode', headers: { 'sec-fetch-mode': 'navigate', accept: CHROME_ACCEPT }, want: false },
  { name: 'only Sec-Fetch-Dest', headers: { 'sec-fetch-dest': 'document', accept: CHROME_ACCEPT }, want: false },
  { name: 'no Sec-Fetch, browser Accept', headers: { accept: CHROME_ACCEPT }, want: true },
  { name: 'no Sec-Fetch, Sec-Fetch-Site only', headers: { 'sec-fetch-site': 'none', accept: CHROME_ACCEPT }, want: true },
  { name: 'no Sec-Fetch, Accept upper case with spaces', headers: { accept: 'application/json , TEXT/HTML ; charset=utf-8' }, want: true },
  { name: 'no Sec-Fetch, text/html with q', headers: { accept: 'application/json, text/html;q=0.5' }, want: true },
  { name: 'no Sec-Fetch, text/html;q=0', headers: { accept: 'text/html;q=0, application/json' }, want: false },
  { name: 'no Sec-Fetch, text/html;q=0.000', headers: { accept: 'text/html; q=0.000' }, want: false },
  { name: 'no Sec-Fetch, malformed q', headers: { accept: 'text/html;q=abc' }, want: false },
  { name: 'no Sec-Fetch, q above 1', headers: { accept: 'text/html;q=2' }, want: false },
  { name: 'no Sec-Fetch, wildcard only', headers: { accept: '*/*' }, want: false },
  { name: 'no Sec-Fetch, text/* only', headers: { accept: 'text/*' }, want: false },
  { name: 'no Sec-Fetch, lookalike type', headers: { accept: 'text/html5, application/xhtml+xml' }, want: false },
  { name: 'no Sec-Fetch, JSON', headers: { accept: 'application/json' }, want: false },
  { name: 'no headers at all', headers: {}, want: false },
];

for (const { name, method = 'GET', headers, want } of cases) {
  test(`isNavigation: ${name}`, () => {
    assert.equal(isNavigation(method, new Headers(headers)), want);
  });
}

test('hasSecFetchHeaders', () => {
  assert.equal(hasSecFetchHeaders(new Headers({ 'Sec-Fetch-Site': 'same-origin' })), true);
  assert.equal(hasSecFetchHeaders(new Headers({ 'sec-fetch-user': '?1' })), true);
  assert.equal(hasSecFetchHeaders(new Headers({ 'sec-fetch-mode': 'cors', accept: '*/*' })), true);
  assert.equal(hasSecFetchHeaders(new Headers({ accept: 'text/html', 'sec-ch-ua': '"Chromium"' })), false);
  assert.equal(hasSecFetchHeaders(new Headers()), false);
});
