// The command line (SPEC §13): `create-gatehouse [directory] [flags]`. Every prompt has a flag;
// `--yes` takes the defaults for whatever no flag gave. Parsing is pure: it returns the choices
// the flags made (undefined = not given, ask or default) or a usage error, and never exits.

import { parseArgs } from 'node:util';
import { checkClientId, checkDirectory, checkIssuer, checkProvider, checkSidecar, checkStore, checkUpstream } from './choices.js';

export class UsageError extends Error {
  name = 'UsageError';
}

const OPTIONS = {
  store: { type: 'string' },
  upstream: { type: 'string', multiple: true },
  sidecar: { type: 'string' },
  'auto-login': { type: 'boolean' },
  provider: { type: 'string' },
  issuer: { type: 'string' },
  'client-id': { type: 'string' },
  install: { type: 'boolean' },
  'no-install': { type: 'boolean' },
  git: { type: 'boolean' },
  'no-git': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
};

export const USAGE = `Usage: create-gatehouse [directory] [options]

Creates a new Gatehouse project in <directory> (which must be empty or not exist yet).
Asks for each choice unless a flag gives it; --yes takes the defaults without asking.

Options:
  --store cookie|redis              session store (default: cookie)
  --upstream PREFIX=URL             an API route, e.g. /api=http://localhost:8080 (repeatable)
  --sidecar URL                     run in front of one app: every other path goes to URL
  --auto-login                      require a login on every path (default: off)
  --provider openid|azure|idporten  identity provider preset (default: openid)
  --issuer URL                      your identity provider (default: the embedded dev IdP)
  --client-id ID                    the client registered at that identity provider
  --no-install                      do not run npm install
  --no-git                          do not create a git repository
  -y, --yes                         take the defaults for everything not given
  -h, --help                        show this help
  -v, --version                     show the version
`;

function check(flag, value, checker) {
  const problem = checker(value);
  if (problem) throw new UsageError(`--${flag} ${problem} (got "${value}")`);
  return value;
}

/**
 * @param {string[]} argv the arguments after the command name
 * @returns {{ help?: true, version?: true, directory?: string, yes: boolean, flags: object }}
 * @throws {UsageError} with a message naming the flag and what it allows
 */
export function parseCommandLine(argv) {
  let parsed;
  try {
    // `--no-install`/`--no-git` are declared as their own flags: parseArgs on Node 20.9 has no
    // `allowNegative`.
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error.message.replace(/\. To specify a positional argument.*$/s, '.'));
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (values.version) return { version: true };
  if (positionals.length > 1) throw new UsageError(`expected one directory, got ${positionals.length}: ${positionals.join(' ')}`);

  const flags = {};
  if (values.store !== undefined) flags.store = check('store', values.store, checkStore);
  if (values.upstream !== undefined) flags.upstreams = values.upstream.map((u) => check('upstream', u, checkUpstream));
  if (values.sidecar !== undefined) flags.sidecar = check('sidecar', values.sidecar, checkSidecar);
  if (values['auto-login']) flags.autoLogin = true;
  if (values.provider !== undefined) flags.provider = check('provider', values.provider, checkProvider);
  if (values.issuer !== undefined) flags.issuer = check('issuer', values.issuer, checkIssuer);
  if (values['client-id'] !== undefined) flags.clientId = check('client-id', values['client-id'], checkClientId);
  if (values['no-install']) flags.install = false;
  else if (values.install) flags.install = true;
  if (values['no-git']) flags.git = false;
  else if (values.git) flags.git = true;

  const upstreamPrefixes = (flags.upstreams ?? []).map((u) => u.slice(0, u.indexOf('=')));
  const duplicate = upstreamPrefixes.find((p, i) => upstreamPrefixes.indexOf(p) !== i);
  if (duplicate) throw new UsageError(`--upstream prefix "${duplicate}" is given twice`);
  if (flags.sidecar && upstreamPrefixes.includes('/')) throw new UsageError('--sidecar and --upstream /=URL both route "/": give one of them');

  const directory = positionals[0];
  if (directory !== undefined) {
    const problem = checkDirectory(directory);
    if (problem) throw new UsageError(`the directory ${problem}`);
  }
  // Without a prompt to ask, a real identity provider needs its client id from the command line.
  if (values.yes && flags.issuer && !flags.clientId) throw new UsageError('--client-id is required with --issuer when --yes takes the defaults');
  if (values.yes && directory === undefined) throw new UsageError('a directory is required with --yes (create-gatehouse my-app --yes)');
  return { directory, yes: Boolean(values.yes), flags };
}
