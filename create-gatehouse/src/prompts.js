// The interactive questions, one per choice no flag gave (SPEC §13), with @clack/prompts. Each
// answer goes through the same check as its flag. A cancelled prompt (Ctrl-C, Esc) throws
// `Cancelled` before anything is written.

import * as p from '@clack/prompts';
import {
  DEFAULTS,
  checkClientId,
  checkDirectory,
  checkIssuer,
  checkSidecar,
  checkUpstream,
} from './choices.js';
import { targetProblem } from './project.js';
import path from 'node:path';

export class Cancelled extends Error {
  name = 'Cancelled';
}

function answer(value) {
  if (p.isCancel(value)) throw new Cancelled('cancelled');
  return value;
}

/** Optional text: an empty answer is "none"; otherwise `check` must accept it. */
const optional = (check) => (value) => (value && value.trim() ? check(value.trim()) : undefined);

/** "a=b, c=d" → ["a=b", "c=d"]. */
const list = (value) => (value ?? '').split(/[\s,]+/).filter(Boolean);

/**
 * Asks for every choice `flags` leaves open and returns the full set of choices.
 * @param {{ directory?: string, flags: object }} given
 */
export async function ask(given) {
  const { flags } = given;
  p.intro('create-gatehouse');

  const directory =
    given.directory ??
    answer(
      await p.text({
        message: 'Where should the new project go?',
        placeholder: 'my-app',
        defaultValue: 'my-app',
        validate: (value) => {
          const dir = value?.trim() || 'my-app';
          return checkDirectory(dir) ?? targetProblem(path.resolve(dir));
        },
      }),
    ).trim();

  const store =
    flags.store ??
    answer(
      await p.select({
        message: 'Where should sessions live?',
        initialValue: DEFAULTS.store,
        options: [
          { value: 'cookie', label: 'Sealed cookies', hint: 'no server-side state' },
          { value: 'redis', label: 'Redis', hint: 'revocable; needs REDIS_URL' },
        ],
      }),
    );

  const upstreams =
    flags.upstreams ??
    list(
      answer(
        await p.text({
          message: 'API routes to forward with the Bearer token (PREFIX=URL, comma-separated; empty for the demo API)',
          placeholder: '/api=http://localhost:8080',
          defaultValue: '',
          validate: (value) => list(value).map(checkUpstream).find(Boolean),
        }),
      ),
    );

  const sidecar =
    flags.sidecar ??
    (answer(
      await p.text({
        message: 'Run as a sidecar in front of one app? Its URL (empty for no)',
        placeholder: 'http://127.0.0.1:8080',
        defaultValue: '',
        validate: optional(checkSidecar),
      }),
    ).trim() ||
      undefined);

  const autoLogin =
    flags.autoLogin ??
    answer(await p.confirm({ message: 'Require a login on every path (auto-login)?', initialValue: DEFAULTS.autoLogin }));

  const provider =
    flags.provider ??
    answer(
      await p.select({
        message: 'Identity provider preset',
        initialValue: DEFAULTS.provider,
        options: [
          { value: 'openid', label: 'OpenID Connect', hint: 'any standard provider' },
          { value: 'azure', label: 'Microsoft Entra ID (Azure AD)' },
          { value: 'idporten', label: 'ID-porten' },
        ],
      }),
    );

  const issuer =
    flags.issuer ??
    (answer(
      await p.text({
        message: 'Issuer URL of your identity provider (empty: the embedded dev IdP)',
        placeholder: 'https://login.example.com',
        defaultValue: '',
        validate: optional(checkIssuer),
      }),
    ).trim() ||
      undefined);

  // The dev IdP registers its own client; a real provider needs the id you registered there.
  const clientId =
    flags.clientId ??
    (issuer
      ? answer(await p.text({ message: 'Client id registered at that identity provider', validate: (v) => checkClientId(v?.trim() ?? '') })).trim()
      : undefined);

  const install = flags.install ?? answer(await p.confirm({ message: 'Install dependencies (npm install)?', initialValue: DEFAULTS.install }));
  const git = flags.git ?? answer(await p.confirm({ message: 'Create a git repository?', initialValue: DEFAULTS.git }));

  return { directory, choices: { store, upstreams, sidecar, autoLogin, provider, issuer, clientId, install, git } };
}

/** `--yes`: the defaults for every choice no flag gave. */
export function defaults(given) {
  return { directory: given.directory, choices: { ...DEFAULTS, ...given.flags } };
}
