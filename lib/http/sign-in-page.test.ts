import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderSignInPage } from './sign-in-page';

describe('renderSignInPage', () => {
  const html = renderSignInPage([
    { id: 'corp', name: 'Corp <employees>', loginUrl: '/oauth2/login?provider=corp&redirect=%2F"x', available: true },
    { id: 'partner', name: 'Partner', loginUrl: '/oauth2/login?provider=partner', available: false },
  ]);

  test('a language, a title and a heading', () => {
    assert.match(html, /<html lang="en">/);
    assert.match(html, /<title>Sign in · Gatehouse<\/title>/);
    assert.match(html, /<h1 id="title">Sign in<\/h1>/);
  });

  test('an available provider is a link with its escaped name and URL', () => {
    assert.match(html, /<a class="button" id="provider-corp" href="\/oauth2\/login\?provider=corp&amp;redirect=%2F&quot;x">Corp &lt;employees&gt;<\/a>/);
  });

  test('an unavailable provider is a disabled button that says so, with no link to follow', () => {
    assert.match(html, /<button class="button" id="provider-partner" type="button" disabled aria-describedby="provider-partner-status">Partner<span class="unavailable" id="provider-partner-status">Unavailable right now<\/span><\/button>/);
    assert.doesNotMatch(html, /provider=partner/);
  });

  test('no script: it works without JavaScript', () => {
    assert.doesNotMatch(html, /<script/i);
  });
});
