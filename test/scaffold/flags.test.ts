// create-gatehouse from its packed tarball, without questions (SPEC §13, issue 12 items 1 and 3):
// the flags reach .env.local and the files, the template is the repository as packed, a bad flag
// or a non-empty target is refused with exit 1 and nothing written, and a step that fails halfway
// (npm install) leaves nothing behind. Also what `npm publish --dry-run` would publish.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../harness/app';
import { listFiles, packScaffold, publishDryRun, readEnvFile, runScaffold, tempDir, type Packed } from './support';

describe('create-gatehouse with flags, from the packed tarball', { timeout: 600_000 }, () => {
  let work: string;
  let packed: Packed;
  before(async () => {
    work = await tempDir('scaffold-flags');
    packed = await packScaffold(work);
  });
  after(() => work && rmSync(work, { recursive: true, force: true }));

  const scaffold = (args: string[], options: { cwd?: string; env?: Record<string, string>; pathPrefix?: string[] } = {}) =>
    runScaffold(packed.tarball, args, { cwd: work, ...options });

  test('the tarball carries the bin, the code and the template, and no dependencies or build output', () => {
    for (const file of ['package.json', 'bin/create-gatehouse.js', 'src/main.js', 'template.json', 'template/package.json', 'template/_package-lock.json', 'template/_gitignore', 'template/lib/config.ts', 'template/server.ts', 'template/proxy.ts', 'template/app/oauth2/login/route.ts', 'template/test/smoke/login.test.ts', 'template/test/harness/stack.ts', 'template/dev/start.ts', 'template/deploy/kubernetes/bff/kustomization.yaml']) {
      assert.ok(packed.files.includes(file), `${file} is packed`);
    }
    const unwanted = packed.files.filter((f) => /(^|\/)(node_modules|\.next[^/]*|dist|\.git|create-gatehouse|results|scaffold|overlay|scripts\/pack-template\.js)(\/|$)|(^|\/)\.env(\.local)?$|tsbuildinfo/.test(f));
    assert.deepEqual(unwanted, []);
    // The repository's working tree is as before: postpack removed the generated template.
    assert.equal(existsSync(path.join(ROOT, 'create-gatehouse', 'template')), false);
  });

  test('--yes --store redis --upstream … --no-git --no-install writes the project, .env.local and a README about the choices', async () => {
    const run = await scaffold(['my-app', '--yes', '--store', 'redis', '--upstream', '/api=http://127.0.0.1:8080', '--upstream', '/reports=https://reports.internal.example/v1', '--no-git', '--no-install']);
    assert.equal(run.code, 0, run.stderr);
    const app = path.join(work, 'my-app');

    // The next commands, as the user types them from where they are.
    assert.match(run.stdout, /^ {2}cd my-app$/m);
    assert.match(run.stdout, /^ {2}npm install$/m);
    assert.match(run.stdout, /^ {2}npm run dev$/m);

    const env = await readEnvFile(app);
    assert.match(env.SESSION_SECRET, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(env.REDIS_URL, 'redis://localhost:6379');
    assert.equal(env.UPSTREAMS, '/api=http://127.0.0.1:8080,/reports=https://reports.internal.example/v1');
    assert.equal(env.AUTO_LOGIN, 'false');
    assert.equal(env.OIDC_PROVIDER, 'openid');
    // No issuer: `npm run dev` uses the embedded dev IdP with its own client.
    assert.equal(env.OIDC_ISSUER, undefined);
    assert.equal(env.OIDC_CLIENT_ID, undefined);
    assert.equal(statSync(path.join(app, '.env.local')).mode & 0o077, 0, '.env.local is readable by its owner only');

    // The template is this repository: Gatehouse's files byte for byte.
    for (const file of ['lib/config.ts', 'server.ts', 'proxy.ts', 'dev/start.ts', 'test/harness/stack.ts', 'next.config.ts', 'Dockerfile', '.env.example']) {
      assert.equal(readFileSync(path.join(app, file), 'utf8'), readFileSync(path.join(ROOT, file), 'utf8'), `${file} as in the repository`);
    }
    assert.equal(readFileSync(path.join(app, '.gitignore'), 'utf8'), readFileSync(path.join(ROOT, '.gitignore'), 'utf8'));
    assert.equal(readFileSync(path.join(app, 'GATEHOUSE.md'), 'utf8'), readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    const files = listFiles(app);
    assert.deepEqual(files.filter((f) => /^(node_modules|dist|bench\/results|create-gatehouse|\.ci)\/|^test\/scaffold\/|^_|\/_gitignore$|_package-lock\.json$/.test(f)), []);
    assert.ok(!existsSync(path.join(app, '.git')), '--no-git: no repository');
    assert.ok(!existsSync(path.join(app, 'node_modules')), '--no-install: nothing installed');

    const manifest = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'));
    const repoManifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.equal(manifest.name, 'my-app');
    assert.equal(manifest.private, true);
    assert.deepEqual(manifest.dependencies, repoManifest.dependencies);
    assert.deepEqual(manifest.devDependencies, repoManifest.devDependencies);
    assert.equal(manifest.scripts.dev, repoManifest.scripts.dev);
    assert.match(manifest.scripts.test, /npm run build && npm run typecheck && npm run test:unit && npm run test:smoke/);
    assert.equal(manifest.scripts.bench, repoManifest.scripts.bench);
    const lock = JSON.parse(readFileSync(path.join(app, 'package-lock.json'), 'utf8'));
    assert.equal(lock.name, 'my-app');
    assert.equal(lock.packages[''].name, 'my-app');
    assert.deepEqual(lock.packages[''].dependencies, repoManifest.dependencies);

    const readme = readFileSync(path.join(app, 'README.md'), 'utf8');
    assert.match(readme, /^# my-app$/m);
    assert.match(readme, /Redis \(`REDIS_URL`\)/);
    assert.match(readme, /`\/api=http:\/\/127\.0\.0\.1:8080`, `\/reports=https:\/\/reports\.internal\.example\/v1`/);
    assert.match(readme, /embedded dev IdP/);
  });

  test('every other flag reaches .env.local; each project gets its own SESSION_SECRET', async () => {
    const run = await scaffold(['nested/dir/Second App', '--yes', '--sidecar', 'http://127.0.0.1:8080', '--auto-login', '--provider', 'azure', '--issuer', 'https://login.example.com/tenant/v2.0', '--client-id', 'my-client-1', '--no-git', '--no-install']);
    assert.equal(run.code, 0, run.stderr);
    const app = path.join(work, 'nested/dir/Second App');
    const env = await readEnvFile(app);
    assert.equal(env.UPSTREAMS, '/=http://127.0.0.1:8080');
    assert.equal(env.AUTO_LOGIN, 'true');
    assert.equal(env.OIDC_PROVIDER, 'azure');
    assert.equal(env.OIDC_ISSUER, 'https://login.example.com/tenant/v2.0');
    assert.equal(env.OIDC_CLIENT_ID, 'my-client-1');
    assert.equal(env.REDIS_URL, undefined, 'the cookie store by default');
    const first = await readEnvFile(path.join(work, 'my-app'));
    assert.notEqual(env.SESSION_SECRET, first.SESSION_SECRET);
    assert.equal(JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')).name, 'second-app');
    assert.match(run.stdout, /^ {2}cd 'nested\/dir\/Second App'$/m);
  });

  const BAD_FLAGS: Array<{ name: string; args: string[]; want: RegExp }> = [
    { name: 'unknown store', args: ['--store', 'memcached'], want: /--store must be cookie or redis \(got "memcached"\)/ },
    { name: 'unknown provider', args: ['--provider', 'okta'], want: /--provider must be one of openid, azure, idporten \(got "okta"\)/ },
    { name: 'upstream without a prefix', args: ['--upstream', 'http://127.0.0.1:8080'], want: /--upstream must be PREFIX=URL/ },
    { name: 'upstream prefix without a slash', args: ['--upstream', 'api=http://127.0.0.1:8080'], want: /--upstream must be PREFIX=URL with a PREFIX that starts with "\/"/ },
    { name: 'upstream to a non-http URL', args: ['--upstream', '/api=ftp://files.example.com'], want: /--upstream .*http:\/\/ or https:\/\//i },
    { name: 'the same prefix twice', args: ['--upstream', '/api=http://a.example', '--upstream', '/api=http://b.example'], want: /--upstream prefix "\/api" is given twice/ },
    { name: 'sidecar that is no URL', args: ['--sidecar', 'localhost:8080'], want: /--sidecar must be an absolute http:\/\/ or https:\/\/ URL/ },
    { name: 'issuer with a "$" (dotenv would expand it)', args: ['--issuer', 'https://idp.example.com/$tenant', '--client-id', 'x'], want: /--issuer must not contain/ },
    { name: 'client id with a space', args: ['--client-id', 'my client'], want: /--client-id must not contain/ },
    { name: '--issuer with --yes and no --client-id', args: ['--issuer', 'https://idp.example.com'], want: /--client-id is required with --issuer/ },
    { name: 'a flag that does not exist', args: ['--database', 'postgres'], want: /Unknown option '--database'/ },
    { name: 'a value missing', args: ['--store'], want: /--store/ },
  ];

  for (const { name, args, want } of BAD_FLAGS) {
    test(`bad flag (${name}): exit 1, a message naming the flag, nothing written`, async () => {
      const dir = `bad-${name.replace(/\W+/g, '-')}`;
      const run = await scaffold([dir, '--yes', '--no-install', '--no-git', ...args]);
      assert.equal(run.code, 1, `exit code\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stderr, want);
      assert.match(run.stderr, /--help/);
      assert.equal(existsSync(path.join(work, dir)), false, 'nothing written');
    });
  }

  test('a non-empty target is refused: exit 1, its files untouched, nothing added', async () => {
    const dir = path.join(work, 'taken');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const run = await scaffold(['taken', '--yes', '--no-install', '--no-git']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /taken is not empty/);
    assert.deepEqual(readdirSync(dir), ['notes.txt']);
    assert.equal(readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'mine');

    writeFileSync(path.join(work, 'a-file'), '');
    const onFile = await scaffold(['a-file', '--yes', '--no-install', '--no-git']);
    assert.equal(onFile.code, 1);
    assert.match(onFile.stderr, /a-file exists and is not a directory/);
  });

  test('an empty target directory is used as it is', async () => {
    const dir = path.join(work, 'empty-one');
    mkdirSync(dir);
    const run = await scaffold(['.', '--yes', '--no-install', '--no-git'], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(path.join(dir, 'package.json')));
    assert.match(run.stdout, /^ {2}cd \.$/m);
  });

  describe('npm install failing halfway', () => {
    let failingNpm: string;
    before(() => {
      // A PATH whose `npm` fails as a broken install would (npm exec itself runs our real npm).
      failingNpm = path.join(work, 'failing-bin');
      mkdirSync(failingNpm);
      writeFileSync(path.join(failingNpm, 'npm'), '#!/bin/sh\necho "npm ERR! network: the registry is unreachable" >&2\nexit 7\n');
      chmodSync(path.join(failingNpm, 'npm'), 0o755);
    });

    test('a directory it created is removed: exit 1, npm\'s error shown, nothing left', async () => {
      const run = await scaffold(['deep/new-app', '--yes', '--no-git'], { pathPrefix: [failingNpm] });
      assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stderr, /npm install failed \(exit code 7\)/);
      assert.match(run.stdout + run.stderr, /the registry is unreachable/);
      assert.match(run.stderr, /Nothing was left behind/);
      assert.equal(existsSync(path.join(work, 'deep')), false, 'not even the parent it created');
    });

    test('an empty directory it was given is emptied again and kept', async () => {
      const dir = path.join(work, 'given-empty');
      mkdirSync(dir);
      const run = await scaffold(['given-empty', '--yes'], { pathPrefix: [failingNpm] });
      assert.equal(run.code, 1);
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  test('npm publish --dry-run lists the package contents and publishes nothing', async () => {
    const { stdout, stderr } = await publishDryRun();
    const out = `${stdout}\n${stderr}`;
    assert.match(out, /create-gatehouse@\d+\.\d+\.\d+/);
    assert.match(out, /bin\/create-gatehouse\.js/);
    assert.match(out, /template\/lib\/config\.ts/);
    assert.match(out, /dry-run/i);
    assert.doesNotMatch(out, /node_modules\//);
    assert.equal(existsSync(path.join(ROOT, 'create-gatehouse', 'template')), false);
  });
});
