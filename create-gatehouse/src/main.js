// `create-gatehouse [directory] [flags]`: check the flags, ask for what they leave open, write the
// project, install, commit. Exit codes: 0 done, 1 a usage error, a refused target or a failed step
// (nothing is left behind), 130 cancelled (nothing is left behind).

import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { USAGE, UsageError, parseCommandLine } from './args.js';
import { Cancelled, ask, defaults } from './prompts.js';
import { Target, targetProblem, templateInfo } from './project.js';
import { gitInit, npmInstall } from './steps.js';

const PACKAGE = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8'));

const say = (line = '') => process.stdout.write(`${line}\n`);
const fail = (message, code = 1) => {
  process.stderr.write(`create-gatehouse: ${message}\n`);
  process.exit(code);
};

/** `cd` argument as the user would type it from where they are. */
function cdArgument(dir) {
  const relative = path.relative(process.cwd(), dir) || '.';
  return /[\s'"$`\\]/.test(relative) ? `'${relative.replaceAll("'", "'\\''")}'` : relative;
}

export async function main(argv) {
  let given;
  try {
    given = parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) fail(`${error.message}\nRun create-gatehouse --help for the options.`);
    throw error;
  }
  if (given.help) return say(USAGE);
  if (given.version) return say(PACKAGE.version);

  // Refuse a bad target before asking anything.
  if (given.directory !== undefined) {
    const problem = targetProblem(path.resolve(given.directory));
    if (problem) fail(problem);
  }
  if (!given.yes && !(process.stdin.isTTY && process.stdout.isTTY)) {
    fail('there is no terminal to ask in: pass --yes (with flags for what you want) to run without questions');
  }

  let resolved;
  try {
    resolved = given.yes ? defaults(given) : await ask(given);
  } catch (error) {
    if (error instanceof Cancelled) fail('cancelled; nothing was written', 130);
    throw error;
  }
  const { choices } = resolved;
  const dir = path.resolve(resolved.directory);
  const target = new Target(dir);

  // From the first file written until the end: a Ctrl-C (or a kill) removes what was written.
  // npm, in our process group, gets the terminal's SIGINT itself; we wait for it to go.
  let installing;
  const onSignal = async (signal) => {
    if (installing) {
      installing.kill(signal);
      await new Promise((resolve) => (installing.exitCode !== null || installing.signalCode !== null ? resolve() : installing.once('close', resolve)));
    }
    target.discard();
    fail(`interrupted; removed ${dir}`, 130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);

  try {
    const { name } = target.write(choices);
    say(`Created ${name} in ${dir}`);
    if (choices.install) {
      say('Installing dependencies (npm install)…');
      await npmInstall(dir, (child) => (installing = child));
      installing = undefined;
    }
    if (choices.git) {
      const info = templateInfo();
      const warning = await gitInit(dir, `Start from create-gatehouse ${PACKAGE.version} (Gatehouse ${info.gatehouseVersion})`);
      if (warning) say(`Note: ${warning}`);
    }
  } catch (error) {
    target.discard();
    fail(`${error.message}\nNothing was left behind in ${dir}.`);
  }
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  process.removeListener('SIGHUP', onSignal);

  say();
  say('Next:');
  say(`  cd ${cdArgument(dir)}`);
  if (!choices.install) say('  npm install');
  say('  npm run dev');
  say();
  say(`Then open http://localhost:3000${choices.issuer ? '' : ' and log in with any user name and password'}. \`npm test\` runs the checks.`);
}
