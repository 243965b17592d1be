// What a new project can be made with, and the one place that checks each value, for the flags
// and the prompts alike. Every check returns an error message (naming what is allowed) or
// undefined. Values end up in .env.local, which Next's dotenv reads with `$` expansion and `#`
// comments: values that would be read back differently are refused instead of quoted.

export const STORES = ['cookie', 'redis'];
export const PROVIDERS = ['openid', 'azure', 'idporten'];

export const DEFAULTS = Object.freeze({
  store: 'cookie',
  upstreams: [],
  sidecar: undefined,
  autoLogin: false,
  provider: 'openid',
  issuer: undefined,
  clientId: undefined,
  install: true,
  git: true,
});

/** Characters .env.local cannot carry as written (whitespace, quotes, `#`, `$`, `\`, `,`). */
const UNSAFE_IN_ENV = /[\s"'`#$\\,]/;

export function checkStore(value) {
  return STORES.includes(value) ? undefined : `must be ${STORES.join(' or ')}`;
}

export function checkProvider(value) {
  return PROVIDERS.includes(value) ? undefined : `must be one of ${PROVIDERS.join(', ')}`;
}

/** An absolute http(s) URL that .env.local can hold. */
export function checkHttpUrl(value) {
  let url;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an absolute http:// or https:// URL';
  if (UNSAFE_IN_ENV.test(value)) return 'must not contain spaces, quotes, "#", "$", "\\" or ","';
  if (url.username || url.password) return 'must not carry credentials';
  return undefined;
}

/** `PREFIX=URL` as UPSTREAMS takes it (README "Configuration"): `/api=http://api:8080`. */
export function checkUpstream(value) {
  const eq = value.indexOf('=');
  if (eq < 0) return 'must be PREFIX=URL, e.g. /api=http://localhost:8080';
  const prefix = value.slice(0, eq);
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(prefix) || prefix.includes('//')) {
    return `must be PREFIX=URL with a PREFIX that starts with "/" (letters, digits, "-", ".", "_", "~", "/"), got "${prefix}"`;
  }
  const urlProblem = checkHttpUrl(value.slice(eq + 1));
  return urlProblem ? `must be PREFIX=URL, and the URL ${urlProblem}` : undefined;
}

/** The sidecar's one app: every non-/oauth2 path goes there (`/=URL`). */
export function checkSidecar(value) {
  return checkHttpUrl(value);
}

export function checkIssuer(value) {
  return checkHttpUrl(value);
}

export function checkClientId(value) {
  if (!value) return 'must not be empty';
  if (UNSAFE_IN_ENV.test(value) || /[\u0000-\u001f\u007f]/.test(value)) return 'must not contain spaces, quotes, "#", "$", "\\", "," or control characters';
  return undefined;
}

/** The target directory as typed. Its name becomes the package name. */
export function checkDirectory(value) {
  if (!value || !value.trim()) return 'must not be empty';
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'must not contain control characters';
  return undefined;
}

/** npm's rules for a package name, applied to the directory's name (`My App` → `my-app`). */
export function packageNameFor(directoryName) {
  const name = directoryName
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+/, '')
    .replace(/-+$/, '')
    .slice(0, 214);
  return name || 'gatehouse-app';
}

/** The UPSTREAMS value for a set of choices: the routes, then the sidecar's catch-all. */
export function upstreamsValue(choices) {
  const routes = [...choices.upstreams];
  if (choices.sidecar) routes.push(`/=${choices.sidecar}`);
  return routes.join(',');
}
