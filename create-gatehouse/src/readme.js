// The new project's README.md: what was chosen, the two commands, what to do before production,
// and which files are Gatehouse's (so later versions can be merged in). GATEHOUSE.md beside it is
// Gatehouse's full reference.

import { upstreamsValue } from './choices.js';

const PROVIDER_NAMES = { openid: 'any OpenID Connect provider', azure: 'Microsoft Entra ID (Azure AD)', idporten: 'ID-porten' };

function settingsTable(choices) {
  const upstreams = upstreamsValue(choices);
  const rows = [
    ['Session store', choices.store === 'redis' ? 'Redis (`REDIS_URL`); the cookie holds only a sealed ticket' : 'sealed cookies (no server-side state)'],
    ['Identity provider', choices.issuer ? `\`${choices.issuer}\` (${PROVIDER_NAMES[choices.provider]})` : `the embedded dev IdP in \`npm run dev\`; preset \`${choices.provider}\` (${PROVIDER_NAMES[choices.provider]})`],
    ['Client id', choices.clientId ? `\`${choices.clientId}\`` : 'the dev IdP\'s (`gatehouse-dev`)'],
    ['Upstreams', upstreams ? upstreams.split(',').map((u) => `\`${u}\``).join(', ') : 'none: `npm run dev` mounts a demo API at `/api`'],
    ['Auto-login', choices.autoLogin ? 'on: every path needs a session' : 'off: pages decide, `/oauth2/login` starts a login'],
  ];
  return ['| Setting | Value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

/**
 * @param {object} choices resolved choices
 * @param {{ name: string, gatehouseVersion?: string, commit?: string }} meta
 */
export function renderReadme(choices, meta) {
  const origin = meta.commit ? `Gatehouse ${meta.gatehouseVersion} (commit \`${meta.commit.slice(0, 12)}\`)` : `Gatehouse ${meta.gatehouseVersion}`;
  return `# ${meta.name}

An OpenID Connect login in front of your app, made with \`create-gatehouse\` from ${origin}.
Gatehouse runs the login with your identity provider, keeps the tokens on the server and
forwards requests to your APIs with \`Authorization: Bearer <access_token>\`; the browser never
holds a token. [GATEHOUSE.md](GATEHOUSE.md) is Gatehouse's full reference (configuration,
endpoints, sessions, deployment).

## Two commands

\`\`\`sh
npm run dev    # http://localhost:3000: log in with any user name and password
npm test       # build, type check, unit tests and a login smoke test against the production build
\`\`\`

\`npm run dev\` reads \`.env.local\`${choices.issuer ? ' and logs in through your identity provider' : ' and, with no `OIDC_ISSUER` there, starts an embedded identity provider that accepts any user name and password'}.
The other test tiers run on demand: \`npm run test:integration\` (needs \`redis-server\`) and
\`npm run test:e2e\` (needs Chromium at \`/usr/bin/chromium\`).

## Settings

${settingsTable(choices)}

They live in \`.env.local\` (not committed; it holds this app's \`SESSION_SECRET\`). Every
variable is described in [GATEHOUSE.md, Configuration](GATEHOUSE.md#configuration).

## Before production

- Register \`<ingress>/oauth2/callback\` as redirect URI and \`<ingress>/oauth2/logout/callback\`
  as post-logout redirect URI at your identity provider.
- Set \`INGRESS\`, \`OIDC_ISSUER\`, \`OIDC_CLIENT_ID\`, \`OIDC_CLIENT_SECRET\` (or
  \`OIDC_CLIENT_JWK\`) and a \`SESSION_SECRET\` of at least 32 characters in the environment${choices.store === 'redis' ? ', and `REDIS_URL`' : ''}.
- \`npm run build\`, then \`npm start\`; or build the \`Dockerfile\`; Kubernetes manifests are in
  \`deploy/kubernetes/\`.

## Which files are whose

Gatehouse's (take them from new Gatehouse versions, change them only with care): \`lib/\`,
\`app/oauth2/\`, \`proxy.ts\`, \`server.ts\`, \`scripts/\`, \`dev/\`, \`deploy/\`, \`test/\`, \`e2e/\`,
\`Dockerfile\`, \`next.config.ts\`, \`tsconfig*.json\` and \`GATEHOUSE.md\`.
Yours: the pages and components in \`app/\` outside \`app/oauth2/\`, \`.env.local\`, this README,
and whatever you add.

To take a later Gatehouse version, scaffold a fresh project with the same choices next to this
one (\`npx create-gatehouse@latest ../${meta.name}-next --yes --no-install --no-git …\`) and diff
Gatehouse's files, or merge from the Gatehouse repository as an upstream remote (see
[GATEHOUSE.md, Upgrade a fork](GATEHOUSE.md#upgrade-a-fork)).
`;
}
