// Reading validated manifests the way the kubelet would: which containers a Deployment runs, the
// environment each one ends up with (envFrom ConfigMaps in order, then `env`, which wins), and the
// security context in force (the container's fields over the pod's).

import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { Manifest } from './kustomize';

export interface Objects {
  deployments: IDeployment[];
  configMaps: Map<string, IConfigMap>;
  all: Manifest[];
}

export function byKind(manifests: Manifest[]): Objects {
  const deployments = manifests.filter((m) => m.object.kind === 'Deployment').map((m) => m.object as unknown as IDeployment);
  const configMaps = new Map<string, IConfigMap>();
  for (const m of manifests) {
    if (m.object.kind === 'ConfigMap') {
      const cm = m.object as unknown as IConfigMap;
      configMaps.set(cm.metadata!.name!, cm);
    }
  }
  return { deployments, configMaps, all: manifests };
}

export function containersOf(d: IDeployment): IContainer[] {
  return [...(d.spec?.template.spec?.initContainers ?? []), ...(d.spec?.template.spec?.containers ?? [])];
}

/** The Gatehouse containers of a shape: named `gatehouse` (each shape's manifests say so). */
export function gatehouseContainers(deployments: IDeployment[]): Array<{ deployment: IDeployment; container: IContainer }> {
  return deployments.flatMap((deployment) =>
    containersOf(deployment)
      .filter((c) => c.name === 'gatehouse')
      .map((container) => ({ deployment, container })),
  );
}

export type EnvSource =
  | { from: 'value'; value: string }
  | { from: 'configMap'; configMap: string; value: string | undefined }
  | { from: 'secret'; secret: string; key: string }
  | { from: 'other' };

/** Every variable the container gets, with where it comes from. A ConfigMap that does not exist
 *  contributes nothing (the reference itself is checked separately). */
export function environment(container: IContainer, configMaps: Map<string, IConfigMap>): Map<string, EnvSource> {
  const env = new Map<string, EnvSource>();
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (!name) continue;
    for (const [key, value] of Object.entries(configMaps.get(name)?.data ?? {})) {
      env.set(`${source.prefix ?? ''}${key}`, { from: 'configMap', configMap: name, value });
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env.set(e.name, { from: 'value', value: e.value });
    else if (e.valueFrom?.secretKeyRef) env.set(e.name, { from: 'secret', secret: e.valueFrom.secretKeyRef.name!, key: e.valueFrom.secretKeyRef.key });
    else if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      env.set(e.name, { from: 'configMap', configMap: ref.name!, value: configMaps.get(ref.name!)?.data?.[ref.key] });
    } else env.set(e.name, { from: 'other' });
  }
  return env;
}

/** A literal value (inline or from a ConfigMap), or undefined. */
export function literal(env: Map<string, EnvSource>, name: string): string | undefined {
  const source = env.get(name);
  return source && (source.from === 'value' || source.from === 'configMap') ? source.value : undefined;
}

/** The security context in force for `container`: its own fields over the pod's. */
export function effectiveSecurityContext(d: IDeployment, container: IContainer): ISecurityContext & IPodSecurityContext {
  return { ...(d.spec?.template.spec?.securityContext ?? {}), ...(container.securityContext ?? {}) };
}

/** A probe's or Service's port (number or container port name) as a number. */
export function portNumber(container: IContainer, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** True when every label of `selector` is on the pod template of `d`. */
export function selects(selector: Record<string, string> | undefined, d: IDeployment): boolean {
  const labels = d.spec?.template.metadata?.labels ?? {};
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}
