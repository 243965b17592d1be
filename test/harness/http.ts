// The test HTTP client in one import: `httpRequest` (exact headers over node:http; Node's fetch
// forces `Sec-Fetch-Mode: cors`), the cookie-jar `Browser`, the IdP form parser, and the login and
// logout flows through the dev IdP.

export { Browser, formatHops, type FollowOptions, type Hop, type Page, type StoredCookie } from './browser';
export { parseForms, type ParsedForm } from './forms';
export { loginViaIdp, logoutViaIdp, sessionCookieOf, type LoginOptions, type LoginResult } from './idp-login';
export { FETCH_HEADERS, NAVIGATION_HEADERS, httpRequest } from './transport';
