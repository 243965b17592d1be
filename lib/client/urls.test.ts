import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelName, currentPage, loginUrl, logoutUrl, normalizeBasePath, refreshUrl, sessionUrl } from './urls';
import { displayName } from './user';

test('login URLs sit under the ingress path and carry the redirect and login parameters', () => {
  const cases: { name: string; basePath: string; options: Parameters<typeof loginUrl>[1]; want: string }[] = [
    { name: 'root ingress, no options', basePath: '', options: {}, want: '/oauth2/login' },
    { name: 'root ingress, redirect', basePath: '', options: { redirect: '/examples/client?x=1' }, want: '/oauth2/login?redirect=%2Fexamples%2Fclient%3Fx%3D1' },
    { name: 'path ingress, redirect includes the ingress path', basePath: '/app', options: { redirect: '/app/page' }, want: '/app/oauth2/login?redirect=%2Fapp%2Fpage' },
    { name: 'trailing slash on the ingress path', basePath: '/app/', options: {}, want: '/app/oauth2/login' },
    { name: 'ingress path given as /', basePath: '/', options: {}, want: '/oauth2/login' },
    {
      name: 'every parameter, in the SPEC names',
      basePath: '',
      options: { redirect: '/', level: 'high', locale: 'nb', prompt: 'login', domainHint: 'example.com', provider: 'corp' },
      want: '/oauth2/login?redirect=%2F&level=high&locale=nb&prompt=login&domain_hint=example.com&provider=corp',
    },
    { name: 'empty values are left out', basePath: '', options: { redirect: '', level: '' }, want: '/oauth2/login' },
    { name: 'a hostile redirect is only encoded (Gatehouse sanitises it)', basePath: '', options: { redirect: '//evil.example/&x' }, want: '/oauth2/login?redirect=%2F%2Fevil.example%2F%26x' },
  ];
  for (const c of cases) assert.equal(loginUrl(c.basePath, c.options), c.want, c.name);
});

test('logout, session and refresh URLs sit under the ingress path', () => {
  assert.equal(logoutUrl(''), '/oauth2/logout');
  assert.equal(logoutUrl('/app', { redirect: '/app/bye' }), '/app/oauth2/logout?redirect=%2Fapp%2Fbye');
  assert.equal(sessionUrl(''), '/oauth2/session');
  assert.equal(sessionUrl('/a/b'), '/a/b/oauth2/session');
  assert.equal(refreshUrl('/app'), '/app/oauth2/session/refresh');
});

test('the current page as a redirect target: path and query, never the fragment', () => {
  assert.equal(currentPage({ pathname: '/app/examples/client', search: '?tab=2' }), '/app/examples/client?tab=2');
  assert.equal(currentPage({ pathname: '/', search: '' }), '/');
});

test('base path normalisation and one channel per ingress path', () => {
  assert.equal(normalizeBasePath(undefined), '');
  assert.equal(normalizeBasePath('/app//'), '/app');
  assert.equal(channelName(''), channelName('/'));
  assert.notEqual(channelName('/app'), channelName(''));
});

test('display name: name, else preferred_username, else sub', () => {
  assert.equal(displayName({ sub: 'alice', name: 'Alice Demo', preferred_username: 'al' }), 'Alice Demo');
  assert.equal(displayName({ sub: 'alice', name: ' ', preferred_username: 'al' }), 'al');
  assert.equal(displayName({ sub: 'alice', name: 42 }), 'alice');
  assert.equal(displayName(null), '');
});
