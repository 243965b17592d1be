// Validation of manifests against the Kubernetes API schemas, through the models of the
// `kubernetes-models` package (generated from the Kubernetes OpenAPI spec; each model's validate()
// checks types, required fields and enums of the whole object tree). A kind not listed here is an
// error, never a silent pass: add its model when a manifest starts using it.
//
// The schemas accept fields they do not know (as the OpenAPI spec does), so a misspelt field name
// is not caught here; the contract checks in kubernetes.test.ts read the fields that matter.

import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

const MODELS: Record<string, ModelClass> = {
  'apps/v1 Deployment': Deployment as unknown as ModelClass,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as ModelClass,
  'networking.k8s.io/v1 NetworkPolicy': NetworkPolicy as unknown as ModelClass,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget as unknown as ModelClass,
  'v1 ConfigMap': ConfigMap as unknown as ModelClass,
  'v1 Secret': Secret as unknown as ModelClass,
  'v1 Service': Service as unknown as ModelClass,
};

/** Throws with the schema's complaint (JSON pointer + message) unless `object` is a valid object of
 *  a known kind. */
export function validateAgainstSchema(object: Record<string, unknown>): void {
  const key = `${String(object.apiVersion)} ${String(object.kind)}`;
  const Model = MODELS[key];
  if (!Model) throw new Error(`no schema model for ${key}`);
  const meta = object.metadata as { name?: unknown } | undefined;
  if (typeof meta?.name !== 'string' || meta.name === '') throw new Error(`${key}: metadata.name is required`);
  new Model(object as never).validate();
}
