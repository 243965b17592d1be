// The container image, built and run for real (SPEC §10, issue 8 item 2): the Dockerfile is built
// with podman on a locally made base image (no registry is reachable here), then started the way a
// hardened pod starts it — read-only root file system, tmpfs on /tmp and on Next's cache — with a
// real dev IdP and a recording upstream on the host. A user logs in through the container and the
// upstream must receive the Bearer token; the server must be the container's PID 1, running as the
// image's numeric uid. Skipped, with the reason printed, only where podman or runc is not installed.
//
//   node --import tsx --test test/deploy/image.test.ts
//
// Cold (no base image, no layer cache) this takes a few minutes: debootstrap, `npm ci` twice and
// `next build` inside the build. A second run reuses the base image and every layer.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { demoClient, startIdp, type Idp } from '../../dev/idp';
import { startUpstream, type Upstream } from '../../dev/upstream';
import { ROOT } from '../harness/app';
import { baseAppEnv } from '../harness/env';
import { Browser, loginViaIdp } from '../harness/http';
import { freePort } from '../harness/ports';
import { exited, terminate, track } from '../harness/processes';
import { eventually } from '../harness/wait';
import { IMAGE_TAG, buildImage, ensureBaseImage, revision } from './image-build';
import { podman, podmanArgs, podmanEnv, podmanRun, removeContainerSync, whyNoContainerRuntime } from './podman';

const missing = whyNoContainerRuntime();
if (missing) process.stdout.write(`# container image test skipped: ${missing}\n`);

/** What `podman image inspect` says of the parts this test reads. */
interface ImageInfo {
  Id: string;
  Size: number;
  Config: {
    User: string;
    Env: string[];
    Cmd: string[];
    ExposedPorts: Record<string, unknown>;
    Labels: Record<string, string>;
    WorkingDir: string;
    /** Docker's inspect puts it here... */
    Healthcheck?: { Test: string[] };
  };
  /** ...podman's here. */
  Healthcheck?: { Test: string[] };
}

const CACHE_DIR = '/app/.next/cache';
const MiB = 1024 * 1024;

describe('the container image', { skip: missing ?? false, timeout: 15 * 60_000 }, () => {
  const name = `gatehouse-test-${process.pid}`;
  const timings: Record<string, number> = {};
  let image: ImageInfo;
  let cachedBuildId: string;
  let idp: Idp;
  let upstream: Upstream;
  let port: number;
  let metricsPort: number;
  let appUrl: string;
  let container: ChildProcess;
  const logs: string[] = [];
  const logTail = () => `container output:\n${logs.slice(-40).join('')}`;

  before(async () => {
    const base = await ensureBaseImage();
    timings.baseImageMs = base.ms;
    const built = await buildImage(base.tag);
    timings.buildMs = built.ms;
    // The same build again: every layer must come from the cache.
    const cached = await buildImage(base.tag);
    timings.cachedBuildMs = cached.ms;
    cachedBuildId = cached.id;
    [image] = JSON.parse(await podman(['image', 'inspect', built.id])) as ImageInfo[];

    port = await freePort();
    metricsPort = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    const client = demoClient(appUrl);
    idp = await startIdp({ clients: [client] });
    upstream = await startUpstream();
    const env: Record<string, string> = {
      ...baseAppEnv({ appUrl, idp, client, upstream }),
      // The image's own defaults otherwise (HOSTNAME=0.0.0.0, NODE_ENV=production); with the host's
      // network the listener and metrics need ports nobody else holds.
      PORT: String(port),
      METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
    };

    process.once('exit', () => removeContainerSync(name));
    const t0 = performance.now();
    // Attached, not --detach: the podman client lives as long as the container, streams its output
    // and exits with its exit code.
    container = spawn(
      'podman',
      podmanArgs([
        'run', '--rm', '--name', name,
        '--network', 'host',
        // Podman mounts a tmpfs root-owned 0755 whatever mode= says; :U hands it to the container's
        // user, as a Kubernetes emptyDir (0777) or Docker's --tmpfs (1777) leave it writable.
        '--read-only', '--tmpfs', '/tmp', '--tmpfs', `${CACHE_DIR}:U`,
        ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
        built.id,
      ]),
      { env: podmanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    track(container);
    for (const stream of [container.stdout, container.stderr]) stream?.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    await eventually(
      'pong from the container',
      90_000,
      async () => {
        if (container.exitCode !== null) throw new Error(`the container exited with ${container.exitCode} before answering\n${logTail()}`);
        try {
          const res = await fetch(`${appUrl}/oauth2/ping`, { signal: AbortSignal.timeout(1_000) });
          return res.status === 200 && (await res.text()).trim() === 'pong';
        } catch {
          return false;
        }
      },
      { minDelayMs: 20, maxDelayMs: 100, detail: logTail },
    );
    timings.coldStartMs = performance.now() - t0;
  }, { timeout: 14 * 60_000 });

  after(async () => {
    if (container && container.exitCode === null) {
      await podmanRun(['rm', '--force', '--time', '0', name]);
      await terminate(container, 'SIGTERM', 10_000);
    }
    await idp?.close();
    await upstream?.close();
  });

  test('measurements: image size, build times, container cold start', (t) => {
    t.diagnostic(`image ${IMAGE_TAG} (${image.Id.slice(0, 12)}): ${(image.Size / MiB).toFixed(0)} MiB`);
    t.diagnostic(`base image ready in ${(timings.baseImageMs / 1000).toFixed(1)} s (cached by tag after its first build)`);
    t.diagnostic(`build ${(timings.buildMs / 1000).toFixed(1)} s, rebuild without changes ${(timings.cachedBuildMs / 1000).toFixed(1)} s`);
    t.diagnostic(`cold start (podman run → /oauth2/ping pong) ${(timings.coldStartMs / 1000).toFixed(2)} s`);
    assert.ok(image.Size > 0);
  });

  test('a rebuild without changes reuses every layer (same image id)', () => {
    assert.equal(cachedBuildId, image.Id.replace(/^sha256:/, ''));
  });

  test('image config: numeric non-root user, pod-ready listener defaults, ports, HEALTHCHECK without curl, OCI labels, plain node command', () => {
    const c = image.Config;
    assert.match(c.User, /^[1-9]\d*(:\d+)?$/, 'USER is a numeric non-root uid');
    const env = Object.fromEntries(c.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    assert.equal(env.PORT, '3000');
    assert.equal(env.HOSTNAME, '0.0.0.0');
    assert.equal(env.METRICS_ADDRESS, '0.0.0.0:3001');
    assert.equal(env.NODE_ENV, 'production');
    assert.deepEqual(Object.keys(c.ExposedPorts).sort(), ['3000/tcp', '3001/tcp']);
    assert.deepEqual(c.Cmd, ['node', 'dist/server.js']);
    assert.equal(c.WorkingDir, '/app');
    const healthcheck = (image.Healthcheck ?? c.Healthcheck)?.Test ?? [];
    assert.deepEqual(healthcheck.slice(0, 3), ['CMD', 'node', '-e'], 'HEALTHCHECK runs node in exec form (no shell, no curl)');
    assert.match(healthcheck[3], /oauth2\/ping/);
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string };
    assert.equal(c.Labels['org.opencontainers.image.title'], 'Gatehouse');
    assert.equal(c.Labels['org.opencontainers.image.version'], pkg.version);
    assert.equal(c.Labels['org.opencontainers.image.revision'], revision());
    assert.match(c.Labels['org.opencontainers.image.base.name'] ?? '', /gatehouse-base/);
  });

  test('carries the build output and the production dependencies only', async () => {
    // Top-level package names in node_modules, scoped ones as @scope/name.
    const script = [
      "const fs=require('fs');",
      "const pkgs=fs.readdirSync('node_modules').flatMap(n=>n.startsWith('@')?fs.readdirSync('node_modules/'+n).map(m=>n+'/'+m):[n]);",
      "console.log(JSON.stringify({app:fs.readdirSync('.'),pkgs,cache:fs.readdirSync('.next/cache'),server:fs.statSync('dist/server.js').size}))",
    ].join('');
    const listing = JSON.parse(await podman(['run', '--rm', '--network', 'host', image.Id, 'node', '-e', script])) as {
      app: string[];
      pkgs: string[];
      cache: string[];
      server: number;
    };
    assert.deepEqual(listing.app.sort(), ['.next', 'dist', 'next.config.ts', 'node_modules', 'package-lock.json', 'package.json']);
    assert.deepEqual(listing.cache, [], "the build's cache is not shipped");
    assert.ok(listing.server > 0, 'dist/server.js');
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const installed = new Set(listing.pkgs);
    assert.deepEqual(Object.keys(pkg.devDependencies).filter((d) => installed.has(d)), [], 'devDependencies in the image');
    for (const d of Object.keys(pkg.dependencies)) assert.ok(installed.has(d), `dependency ${d} is missing`);
  });

  test('logs a user in through the container; the upstream receives the Bearer access token the IdP issued', async () => {
    const browser = new Browser();
    await loginViaIdp(browser, appUrl);
    const res = await browser.get(`${appUrl}/api/me`);
    assert.equal(res.status, 200, logTail());
    const authorization = String(upstream.last('/me')?.headers.authorization);
    assert.match(authorization, /^Bearer \S+$/);
    // The token is the IdP's own for the user who logged in: its userinfo endpoint accepts it.
    const discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as { userinfo_endpoint: string };
    const userinfo = await fetch(discovery.userinfo_endpoint, { headers: { authorization } });
    assert.equal(userinfo.status, 200);
    assert.equal(((await userinfo.json()) as { sub: string }).sub, 'alice');
  });

  test("the server is the container's PID 1, running as the image's numeric uid, on a read-only root with writable /tmp and Next cache", async () => {
    const [info] = JSON.parse(await podman(['container', 'inspect', name])) as Array<{ State: { Pid: number }; HostConfig: { ReadonlyRootfs: boolean } }>;
    assert.equal(info.HostConfig.ReadonlyRootfs, true);
    // Rootful podman without a user namespace: the uid on the host is the uid in the container.
    const status = readFileSync(`/proc/${info.State.Pid}/status`, 'utf8');
    const uid = image.Config.User.split(':')[0];
    assert.ok(Number(uid) > 0, `USER ${image.Config.User} is root`);
    assert.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'));
    assert.equal(readFileSync(`/proc/${info.State.Pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '), 'node dist/server.js');

    const write = (file: string) => podmanRun(['exec', name, 'node', '-e', `require('fs').writeFileSync(${JSON.stringify(file)}, 'x')`]);
    assert.notEqual((await write('/app/written-at-run-time')).code, 0, 'the root file system is writable');
    for (const dir of ['/tmp', CACHE_DIR]) {
      const r = await write(`${dir}/written-at-run-time`);
      assert.equal(r.code, 0, `${dir} is not writable by uid ${uid}: ${r.stderr}`);
    }
  });

  test('the HEALTHCHECK passes against the running container', async () => {
    const r = await podmanRun(['healthcheck', 'run', name]);
    assert.equal(r.code, 0, `healthcheck: ${r.stdout}${r.stderr}`);
  });

  test('metrics are served on METRICS_ADDRESS', async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^gatehouse_logins_total\b/m);
  });

  test('readiness answers 200 in the container (IdP discovery loaded)', async () => {
    const res = await fetch(`${appUrl}/oauth2/ready`);
    assert.equal(res.status, 200, logTail());
    assert.deepEqual(await res.json(), { ready: true });
  });

  test('SIGTERM to the container reaches the server as PID 1: readiness fails at once while it still serves, then it exits 0', async () => {
    const done = exited(container);
    await podman(['kill', '--signal', 'SIGTERM', name]);
    // Within SHUTDOWN_WAIT (default 5 s): the probe says 503, liveness still answers.
    await eventually('readiness 503 after SIGTERM', 3_000, async () => (await fetch(`${appUrl}/oauth2/ready`)).status === 503, { minDelayMs: 20, maxDelayMs: 100 });
    assert.equal((await (await fetch(`${appUrl}/oauth2/ping`)).text()).trim(), 'pong');
    const { code } = await done;
    assert.equal(code, 0, logTail());
  });
});
