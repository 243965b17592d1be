// The Kubernetes manifests (SPEC §10, issue 8 item 3) without a cluster: every object of every
// shape (deploy/kubernetes/{bff,sidecar,sso}) is read as `kubectl apply -k` would read it, validated
// against the Kubernetes API schemas, and held to the contract the README and the image promise:
// ports, probe paths, documented variable names, Secrets that the shape's README tells how to
// create, a grace period that covers the drain, and a hardened securityContext.
//
//   node --import tsx --test test/deploy/kubernetes.test.ts

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IService } from 'kubernetes-models/v1/Service';
import { parseDuration } from '../../lib/duration';
import { ROOT } from '../harness/app';
import { configurationNames, documentedSecrets, imageDefaults } from './documented';
import { validateAgainstSchema } from './k8s-schema';
import { loadKustomization, readYamlDocuments, yamlFilesIn, type Manifest } from './kustomize';
import { byKind, containersOf, effectiveSecurityContext, environment, gatehouseContainers, literal, portNumber, selects, type Objects } from './pods';

const SHAPES = ['bff', 'sidecar', 'sso'] as const;
const K8S = path.join(ROOT, 'deploy', 'kubernetes');
const image = imageDefaults();
/** SPEC §2 defaults of the drain. */
const DEFAULT_DRAIN = { SHUTDOWN_WAIT: '5s', SHUTDOWN_GRACE: '20s' };
/** Time the process needs after the drain to close Redis and exit. */
const EXIT_MARGIN_S = 5;

const where = (m: Manifest) => `${m.file}: ${String(m.object.kind)} ${String((m.object.metadata as { name?: string }).name)}`;

function ingressPath(ingress: string | undefined): string {
  if (!ingress) return '';
  return new URL(ingress.split(',')[0].trim()).pathname.replace(/\/+$/, '');
}

for (const shape of SHAPES) {
  const dir = path.join(K8S, shape);
  const load = (): Objects => byKind(loadKustomization(dir));

  describe(`deploy/kubernetes/${shape}`, () => {
    test('every YAML file of the shape (optional ones too) and every applied object is valid against the Kubernetes schemas', () => {
      const applied = loadKustomization(dir);
      assert.ok(applied.length > 0, 'the kustomization applies nothing');
      const optional = yamlFilesIn(dir).flatMap((file) => readYamlDocuments(file).map((object) => ({ file: path.relative(dir, file), object })));
      const failures: string[] = [];
      for (const m of [...applied, ...optional]) {
        try {
          validateAgainstSchema(m.object);
        } catch (error) {
          failures.push(`${where(m)}: ${(error as Error).message}`);
        }
      }
      assert.deepEqual(failures, []);
    });

    test('kustomize view: names are unique per kind, no Secret with values is committed, every Gatehouse image is set by `images`', () => {
      const { all, deployments } = load();
      const seen = new Set<string>();
      for (const m of all) {
        const key = `${String(m.object.kind)}/${String((m.object.metadata as { name: string }).name)}`;
        assert.ok(!seen.has(key), `${key} is defined twice (kustomize refuses that)`);
        seen.add(key);
        if (m.object.kind === 'Secret') {
          assert.ok(!m.object.data && !m.object.stringData, `${where(m)} carries values: create Secrets with kubectl, never commit them`);
        }
      }
      const gatehouse = gatehouseContainers(deployments);
      assert.ok(gatehouse.length > 0, 'no container named gatehouse');
      for (const { deployment, container } of gatehouse) {
        assert.match(container.image ?? '', /\/gatehouse:[^:/]+$/, `${deployment.metadata!.name}: image ${container.image} was not rewritten by the kustomization's images`);
      }
      for (const d of deployments) {
        assert.ok(selects(d.spec!.selector.matchLabels, d), `${d.metadata!.name}: spec.selector does not match the pod template's labels`);
      }
    });

    test('Gatehouse listens on 3000 and serves metrics on 3001; liveness /oauth2/ping, readiness /oauth2/ready under the ingress path', () => {
      const { deployments, configMaps } = load();
      for (const { deployment, container } of gatehouseContainers(deployments)) {
        const name = deployment.metadata!.name;
        const env = environment(container, configMaps);
        const port = Number(literal(env, 'PORT') ?? image.env.PORT);
        const metricsPort = Number((literal(env, 'METRICS_ADDRESS') ?? image.env.METRICS_ADDRESS).split(':').pop());
        assert.equal(port, 3000, `${name}: PORT`);
        assert.equal(metricsPort, 3001, `${name}: METRICS_ADDRESS port`);
        const ports = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
        assert.equal(ports.get('http'), port, `${name}: container port "http"`);
        assert.equal(ports.get('metrics'), metricsPort, `${name}: container port "metrics"`);

        const base = ingressPath(literal(env, 'INGRESS'));
        const probes = { liveness: container.livenessProbe, readiness: container.readinessProbe, startup: container.startupProbe };
        const want = { liveness: `${base}/oauth2/ping`, readiness: `${base}/oauth2/ready`, startup: `${base}/oauth2/ping` };
        for (const kind of ['liveness', 'readiness', 'startup'] as const) {
          const probe = probes[kind];
          if (kind === 'startup' && !probe) continue; // optional; liveness then covers the start
          assert.ok(probe?.httpGet, `${name}: ${kind} probe must be an HTTP GET`);
          assert.equal(probe.httpGet.path, want[kind], `${name}: ${kind} probe path`);
          assert.equal(portNumber(container, probe.httpGet.port), port, `${name}: ${kind} probe port`);
        }
      }
    });

    test('every variable given to Gatehouse is a documented configuration variable (README "Configuration" or SPEC §2)', (t) => {
      const { names, sources } = configurationNames();
      t.diagnostic(`variable names from ${sources.join(' and ')}`);
      const { deployments, configMaps } = load();
      const unknown: string[] = [];
      for (const { deployment, container } of gatehouseContainers(deployments)) {
        for (const envName of environment(container, configMaps).keys()) {
          if (!names.has(envName)) unknown.push(`${deployment.metadata!.name}: ${envName}`);
        }
      }
      assert.deepEqual(unknown, []);
    });

    test("every Secret reference names a Secret and key that the shape's README tells how to create; every ConfigMap reference exists", () => {
      const readme = path.join(dir, 'README.md');
      assert.ok(existsSync(readme), `${shape} has no README.md`);
      const documented = documentedSecrets(readme);
      const { deployments, configMaps } = load();
      const problems: string[] = [];
      let references = 0;
      for (const d of deployments) {
        for (const c of containersOf(d)) {
          const at = `${d.metadata!.name}/${c.name}`;
          for (const e of c.env ?? []) {
            const s = e.valueFrom?.secretKeyRef;
            if (s) {
              references++;
              if (!documented.get(s.name!)?.has(s.key)) problems.push(`${at}: ${e.name} from Secret ${s.name} key ${s.key}: no \`kubectl create secret generic ${s.name} --from-literal=${s.key}=…\` in README.md`);
            }
            const cm = e.valueFrom?.configMapKeyRef;
            if (cm && configMaps.get(cm.name!)?.data?.[cm.key] === undefined) problems.push(`${at}: ${e.name} from missing ConfigMap key ${cm.name}/${cm.key}`);
          }
          for (const source of c.envFrom ?? []) {
            if (source.secretRef) {
              references++;
              if (!documented.has(source.secretRef.name!)) problems.push(`${at}: envFrom Secret ${source.secretRef.name} is not created in README.md`);
            }
            if (source.configMapRef && !configMaps.has(source.configMapRef.name!)) problems.push(`${at}: envFrom ConfigMap ${source.configMapRef.name} does not exist`);
          }
        }
      }
      assert.ok(references > 0, 'no Secret is referenced: where do SESSION_SECRET and the client credential come from?');
      assert.deepEqual(problems, []);
    });

    test('terminationGracePeriodSeconds covers SHUTDOWN_WAIT + SHUTDOWN_GRACE with a margin for the exit', () => {
      const { deployments, configMaps } = load();
      for (const { deployment, container } of gatehouseContainers(deployments)) {
        const env = environment(container, configMaps);
        const ms = (k: keyof typeof DEFAULT_DRAIN) => {
          const value = literal(env, k) ?? DEFAULT_DRAIN[k];
          const parsed = parseDuration(value);
          assert.ok(parsed !== null, `${deployment.metadata!.name}: ${k}=${value} is not a duration`);
          return parsed;
        };
        const drainS = (ms('SHUTDOWN_WAIT') + ms('SHUTDOWN_GRACE')) / 1000;
        const grace = deployment.spec!.template.spec!.terminationGracePeriodSeconds;
        assert.ok(grace !== undefined, `${deployment.metadata!.name}: terminationGracePeriodSeconds is not set (the default 30 s is not derived from the drain)`);
        assert.ok(grace >= drainS + EXIT_MARGIN_S, `${deployment.metadata!.name}: terminationGracePeriodSeconds ${grace} < drain ${drainS} s + ${EXIT_MARGIN_S} s`);
      }
    });

    test('every container runs hardened: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp; Gatehouse as the image uid', () => {
      const { deployments } = load();
      const problems: string[] = [];
      for (const d of deployments) {
        for (const c of containersOf(d)) {
          const sc = effectiveSecurityContext(d, c);
          const at = `${d.metadata!.name}/${c.name}`;
          if (sc.runAsNonRoot !== true) problems.push(`${at}: runAsNonRoot`);
          if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem`);
          if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation`);
          if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${at}: capabilities.drop ALL`);
          if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${at}: capabilities.add`);
          if (sc.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${at}: seccompProfile RuntimeDefault`);
          if (sc.privileged) problems.push(`${at}: privileged`);
          if (c.name === 'gatehouse' && sc.runAsUser !== image.uid) problems.push(`${at}: runAsUser ${sc.runAsUser} is not the image's USER ${image.uid}`);
          if (sc.runAsUser !== undefined && !(Number.isInteger(sc.runAsUser) && sc.runAsUser > 0)) problems.push(`${at}: runAsUser must be a numeric non-root uid`);
        }
      }
      assert.deepEqual(problems, []);
    });

    test('Gatehouse gets a writable /tmp and Next cache from emptyDir volumes; every container has requests and a memory limit', () => {
      const { deployments } = load();
      const cacheDir = path.posix.join(image.workdir, '.next', 'cache');
      for (const d of deployments) {
        const volumes = new Map((d.spec!.template.spec!.volumes ?? []).map((v) => [v.name, v]));
        for (const c of containersOf(d)) {
          const at = `${d.metadata!.name}/${c.name}`;
          assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, `${at}: resources.requests cpu and memory`);
          assert.ok(c.resources?.limits?.memory, `${at}: resources.limits.memory`);
          if (c.name !== 'gatehouse') continue;
          for (const mountPath of ['/tmp', cacheDir]) {
            const mount = c.volumeMounts?.find((m) => m.mountPath === mountPath);
            assert.ok(mount, `${at}: nothing mounted at ${mountPath}`);
            assert.ok(volumes.get(mount.name)?.emptyDir, `${at}: ${mountPath} is not an emptyDir volume`);
            assert.ok(!mount.readOnly, `${at}: ${mountPath} is mounted read-only`);
          }
        }
      }
    });

    test('Prometheus scrape annotations on each Gatehouse pod name its metrics port and /metrics', () => {
      const { deployments } = load();
      for (const { deployment, container } of gatehouseContainers(deployments)) {
        const a = deployment.spec!.template.metadata?.annotations ?? {};
        assert.equal(a['prometheus.io/scrape'], 'true', `${deployment.metadata!.name}: prometheus.io/scrape`);
        assert.equal(Number(a['prometheus.io/port']), portNumber(container, 'metrics'), `${deployment.metadata!.name}: prometheus.io/port`);
        assert.equal(a['prometheus.io/path'], '/metrics', `${deployment.metadata!.name}: prometheus.io/path`);
      }
    });

    test("each Gatehouse Deployment has a Service on its http port and a PodDisruptionBudget; the optional autoscaler targets a Deployment of the shape", () => {
      const { deployments, all } = load();
      const services = all.filter((m) => m.object.kind === 'Service').map((m) => m.object as unknown as IService);
      const pdbs = all.filter((m) => m.object.kind === 'PodDisruptionBudget').map((m) => m.object as unknown as IPodDisruptionBudget);
      for (const { deployment, container } of gatehouseContainers(deployments)) {
        const name = deployment.metadata!.name;
        const svc = services.find((s) => selects(s.spec?.selector, deployment));
        assert.ok(svc, `${name}: no Service selects its pods`);
        assert.ok(
          svc.spec!.ports!.some((p) => portNumber(container, p.targetPort ?? p.port) === 3000),
          `${name}: Service ${svc.metadata!.name} does not target Gatehouse's port`,
        );
        const pdb = pdbs.find((p) => selects(p.spec?.selector?.matchLabels, deployment));
        assert.ok(pdb, `${name}: no PodDisruptionBudget selects its pods`);
        assert.ok(pdb.spec!.maxUnavailable !== undefined || pdb.spec!.minAvailable !== undefined, `${pdb.metadata!.name}: neither maxUnavailable nor minAvailable`);
      }
      const hpaFile = path.join(dir, 'hpa.yaml');
      if (existsSync(hpaFile)) {
        const names = new Set(deployments.map((d) => d.metadata!.name));
        for (const hpa of readYamlDocuments(hpaFile) as unknown as IHorizontalPodAutoscaler[]) {
          assert.equal(hpa.spec!.scaleTargetRef.kind, 'Deployment');
          assert.ok(names.has(hpa.spec!.scaleTargetRef.name), `${hpa.metadata!.name} targets ${hpa.spec!.scaleTargetRef.name}, not a Deployment of ${shape}`);
          assert.ok((hpa.spec!.minReplicas ?? 1) >= 2, `${hpa.metadata!.name}: minReplicas below 2 leaves the PodDisruptionBudget nothing to spare`);
        }
      }
    });

    test(`the ${shape} shape`, () => shapeChecks[shape](load()));
  });
}

/** Redis Deployments of a shape and whether each Gatehouse REDIS_URL host is their Service. */
function checkInClusterRedis(objects: Objects, redisUrls: string[]): void {
  const services = objects.all.filter((m) => m.object.kind === 'Service').map((m) => m.object as unknown as IService);
  const redis = objects.deployments.filter((d) => containersOf(d).some((c) => c.name === 'redis'));
  assert.equal(redis.length, 1, 'one in-cluster Redis');
  const redisService = services.find((s) => selects(s.spec?.selector, redis[0]));
  assert.ok(redisService, 'a Service for Redis');
  const password = containersOf(redis[0])
    .flatMap((c) => c.env ?? [])
    .find((e) => e.valueFrom?.secretKeyRef)?.valueFrom?.secretKeyRef;
  assert.ok(password, 'Redis takes its password from a Secret');
  for (const url of redisUrls) {
    const u = new URL(url);
    assert.equal(u.hostname, redisService.metadata!.name, `REDIS_URL ${url} does not name the Redis Service`);
    assert.equal(Number(u.port || 6379), redisService.spec!.ports![0].port, `REDIS_URL ${url}: port`);
    assert.equal(u.password, '', 'the Redis password comes from REDIS_PASSWORD, not the URL in a ConfigMap');
  }
  for (const { deployment, container } of gatehouseContainers(objects.deployments)) {
    const ref = container.env?.find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef;
    assert.deepEqual(ref && { name: ref.name, key: ref.key }, { name: password.name, key: password.key }, `${deployment.metadata!.name}: REDIS_PASSWORD is Redis's own`);
  }
}

const shapeChecks: Record<(typeof SHAPES)[number], (objects: Objects) => void> = {
  bff(objects) {
    const gatehouse = gatehouseContainers(objects.deployments);
    assert.equal(gatehouse.length, 1);
    const env = environment(gatehouse[0].container, objects.configMaps);
    assert.ok(literal(env, 'UPSTREAMS'), 'a BFF forwards to APIs (UPSTREAMS)');
    assert.ok((gatehouse[0].deployment.spec!.replicas ?? 1) >= 2, 'more than one replica: the point of sessions in Redis');
    checkInClusterRedis(objects, [literal(env, 'REDIS_URL')!]);
  },

  sidecar(objects) {
    const gatehouse = gatehouseContainers(objects.deployments);
    assert.equal(gatehouse.length, 1);
    const { deployment, container } = gatehouse[0];
    const env = environment(container, objects.configMaps);
    const route = /^\/=http:\/\/127\.0\.0\.1:(\d+)$/.exec(literal(env, 'UPSTREAMS') ?? '');
    assert.ok(route, `UPSTREAMS=${literal(env, 'UPSTREAMS')}: a sidecar sends / to the app on loopback`);
    const app = containersOf(deployment).filter((c) => c !== container);
    assert.ok(
      app.some((c) => c.ports?.some((p) => p.containerPort === Number(route[1]))),
      `no other container of ${deployment.metadata!.name} has container port ${route[1]}`,
    );
    // The app must outlive Gatehouse's drain, or requests forwarded during it find nothing.
    const drain = (parseDuration(literal(env, 'SHUTDOWN_WAIT') ?? '5s')! + parseDuration(literal(env, 'SHUTDOWN_GRACE') ?? '20s')!) / 1000;
    for (const c of app) {
      const pause = c.lifecycle?.preStop?.sleep?.seconds;
      assert.ok(pause !== undefined && pause >= drain, `${c.name}: a preStop pause of at least ${drain} s`);
    }
    const grace = deployment.spec!.template.spec!.terminationGracePeriodSeconds!;
    assert.ok(grace > drain, 'the grace period outlasts the app pause');
    assert.ok(!objects.deployments.some((d) => containersOf(d).some((c) => c.name === 'redis')), 'the sidecar shape runs without Redis');
  },

  sso(objects) {
    const gatehouse = gatehouseContainers(objects.deployments).map((g) => ({ ...g, env: environment(g.container, objects.configMaps) }));
    const servers = gatehouse.filter((g) => literal(g.env, 'SSO_MODE') === 'server');
    const proxies = gatehouse.filter((g) => literal(g.env, 'SSO_MODE') === 'proxy');
    assert.equal(servers.length, 1, 'one SSO server');
    assert.equal(proxies.length, 2, 'proxies in front of two apps');
    assert.equal(servers.length + proxies.length, gatehouse.length, 'every Gatehouse is the server or a proxy');
    const [server] = servers;
    assert.ok(literal(server.env, 'SSO_DOMAIN'), 'SSO_DOMAIN on the server');
    assert.ok(literal(server.env, 'OIDC_ISSUER') && literal(server.env, 'OIDC_CLIENT_ID'), 'the server is the relying party');
    assert.equal(server.env.get('UPSTREAMS'), undefined, 'the server forwards nothing (UPSTREAMS is refused)');
    const serverUrl = literal(server.env, 'INGRESS')!.split(',')[0].trim();
    const shared = ['REDIS_URL', 'SSO_SESSION_COOKIE_NAME', 'SESSION_MAX_LIFETIME', 'SESSION_INACTIVITY_TIMEOUT', 'SESSION_REFRESH_BEFORE'];
    const secret = (g: (typeof gatehouse)[number]) => JSON.stringify(g.env.get('SESSION_SECRET'));
    assert.equal(server.env.get('SESSION_SECRET')?.from, 'secret', 'SESSION_SECRET from a Secret');
    const domain = literal(server.env, 'SSO_DOMAIN')!;
    for (const p of proxies) {
      const name = p.deployment.metadata!.name;
      assert.equal(literal(p.env, 'SSO_SERVER_URL'), serverUrl, `${name}: SSO_SERVER_URL is the server's ingress`);
      for (const k of shared) assert.equal(literal(p.env, k), literal(server.env, k), `${name}: ${k} as on the server`);
      assert.equal(secret(p), secret(server), `${name}: the server's SESSION_SECRET`);
      assert.deepEqual([...p.env.keys()].filter((k) => k.startsWith('OIDC_')), [], `${name}: a proxy holds no IdP settings`);
      assert.ok(literal(p.env, 'UPSTREAMS'), `${name}: forwards to its app`);
      const host = new URL(literal(p.env, 'INGRESS')!.split(',')[0]).hostname;
      assert.ok(host === domain || host.endsWith(`.${domain}`), `${name}: ingress ${host} is on ${domain}`);
    }
    assert.notEqual(literal(proxies[0].env, 'UPSTREAMS'), literal(proxies[1].env, 'UPSTREAMS'), 'two different apps');
    checkInClusterRedis(objects, [server, ...proxies].map((g) => literal(g.env, 'REDIS_URL')!));
  },
};
