// create-gatehouse's questions, answered by the test through a real terminal: @clack/prompts needs
// a TTY (raw mode, cursor keys), so the packed scaffold runs under util-linux `script`, which gives
// it a pseudo-terminal and passes our keystrokes in. Every answer lands in .env.local, a wrong
// answer gets the flag's message and another try, and Ctrl-C at a question leaves nothing.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { track } from '../harness/processes';
import { eventually } from '../harness/wait';
import { cleanEnv, collect, packScaffold, readEnvFile, runScaffold, scaffoldCommand, tempDir, type Packed, type Run } from './support';

const ENTER = '\r';
const DOWN = '\u001b[B';
const BACKSPACE = '\u007f';
const CTRL_C = '\u0003';

/** What a terminal shows, without colours and cursor movement. */
const plain = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b[()][A-Za-z0-9]|\u001b[=>78]/g, '');

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** The scaffold in a pseudo-terminal; `answer` waits for a question, then types. */
class Terminal {
  readonly child: ChildProcess;
  private screen = '';
  private seen = 0;
  readonly done: Promise<Run>;

  constructor(tarball: string, args: string[], cwd: string) {
    const [npm, npmArgs] = scaffoldCommand(tarball, args);
    // -q quiet, -f flush at once, -e exit with the command's code, -c the command; no log file.
    // The pseudo-terminal starts 0 columns wide (our stdin is no terminal to copy a size from),
    // which makes clack wrap after every character: give it a size first.
    const command = `stty cols 120 rows 40 && exec ${[npm, ...npmArgs].map(shellQuote).join(' ')}`;
    this.child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd,
      env: cleanEnv({ TERM: 'xterm-256color' }),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    track(this.child);
    this.child.stdout?.on('data', (d: Buffer) => (this.screen += plain(d.toString('utf8'))));
    this.done = collect(this.child, 120_000, `create-gatehouse ${args.join(' ')} in a terminal`);
  }

  /** Waits until `question` shows up after the previous one, then types `keys`. */
  async answer(question: RegExp, keys: string): Promise<void> {
    await this.waitFor(question);
    this.child.stdin?.write(keys);
  }

  async waitFor(pattern: RegExp): Promise<void> {
    const at = await eventually(`${pattern} on the terminal`, 60_000, () => {
      const rest = this.screen.slice(this.seen);
      const m = pattern.exec(rest);
      return m ? this.seen + m.index + m[0].length : undefined;
    }, { detail: () => `screen so far:\n${this.screen.slice(-3000)}` });
    this.seen = at;
  }

  get text(): string {
    return this.screen;
  }
}

describe('create-gatehouse questions in a terminal, from the packed tarball', { timeout: 300_000 }, () => {
  let work: string;
  let packed: Packed;
  before(async () => {
    work = await tempDir('scaffold-prompts');
    packed = await packScaffold(work);
  });
  after(() => work && rmSync(work, { recursive: true, force: true }));

  test('each answer reaches the project; a wrong one is refused with the flag\'s message and asked again', async () => {
    const term = new Terminal(packed.tarball, ['--no-install', '--no-git'], work);
    await term.answer(/Where should the new project go\?/, `prompted-app${ENTER}`);
    await term.answer(/Where should sessions live\?/, `${DOWN}${ENTER}`); // cookie → redis
    const bad = 'api=http://127.0.0.1:8080';
    await term.answer(/API routes to forward/, `${bad}${ENTER}`);
    await term.answer(/must be PREFIX=URL with a PREFIX that starts with "\/"/, `${BACKSPACE.repeat(bad.length)}/api=http://127.0.0.1:8080${ENTER}`);
    await term.answer(/Run as a sidecar/, ENTER); // none
    await term.answer(/Require a login on every path/, 'y');
    await term.answer(/Identity provider preset/, `${DOWN}${DOWN}${ENTER}`); // openid → azure → idporten
    await term.answer(/Issuer URL of your identity provider/, `https://idp.example.com${ENTER}`);
    await term.answer(/Client id registered at that identity provider/, `prompted-client${ENTER}`);
    const run = await term.done;
    assert.equal(run.code, 0, term.text);
    assert.match(term.text, /cd prompted-app/);

    const env = await readEnvFile(path.join(work, 'prompted-app'));
    assert.equal(env.REDIS_URL, 'redis://localhost:6379');
    assert.equal(env.UPSTREAMS, '/api=http://127.0.0.1:8080');
    assert.equal(env.AUTO_LOGIN, 'true');
    assert.equal(env.OIDC_PROVIDER, 'idporten');
    assert.equal(env.OIDC_ISSUER, 'https://idp.example.com');
    assert.equal(env.OIDC_CLIENT_ID, 'prompted-client');
    assert.match(env.SESSION_SECRET, /^[A-Za-z0-9_-]{43}$/);
  });

  test('a flag answers its question: only the rest are asked', async () => {
    const term = new Terminal(packed.tarball, ['flagged-app', '--store', 'cookie', '--upstream', '/api=http://127.0.0.1:9000', '--sidecar', 'http://127.0.0.1:8080', '--provider', 'azure', '--no-install', '--no-git'], work);
    await term.answer(/Require a login on every path/, 'n');
    await term.answer(/Issuer URL of your identity provider/, ENTER); // none: the dev IdP, no client id asked
    const run = await term.done;
    assert.equal(run.code, 0, term.text);
    for (const asked of [/Where should the new project go/, /Where should sessions live/, /API routes/, /Run as a sidecar/, /Identity provider preset/, /Client id/]) {
      assert.doesNotMatch(term.text, asked);
    }
    const env = await readEnvFile(path.join(work, 'flagged-app'));
    assert.equal(env.UPSTREAMS, '/api=http://127.0.0.1:9000,/=http://127.0.0.1:8080');
    assert.equal(env.OIDC_PROVIDER, 'azure');
    assert.equal(env.AUTO_LOGIN, 'false');
    assert.equal(env.OIDC_ISSUER, undefined);
  });

  test('Ctrl-C at a question: exit 130, nothing written', async () => {
    const term = new Terminal(packed.tarball, ['cancelled-app'], work);
    await term.answer(/Where should sessions live\?/, `${DOWN}${ENTER}`);
    await term.answer(/API routes to forward/, `/api=http://127.0.0.1:8080${CTRL_C}`);
    const run = await term.done;
    assert.equal(run.code, 130, term.text);
    assert.match(term.text, /cancelled; nothing was written/);
    assert.equal(existsSync(path.join(work, 'cancelled-app')), false);
    assert.deepEqual(readdirSync(work).filter((f) => f.startsWith('cancelled')), []);
  });

  test('without a terminal and without --yes: exit 1 saying to pass --yes, nothing written', async () => {
    const run = await runScaffold(packed.tarball, ['no-tty-app', '--no-install'], { cwd: work });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no terminal to ask in: pass --yes/);
    assert.equal(existsSync(path.join(work, 'no-tty-app')), false);
  });
});
