// The part of `kubectl apply -k` that decides what a kustomization applies, for manifests that use
// only `resources` (files, or directories with their own kustomization.yaml) and `images`: load each
// listed file, every YAML document in it, recursively, and rewrite container images the way the
// `images` transformer does. Anything else in a kustomization is refused, so a feature this reader
// does not implement (patches, generators, namePrefix...) cannot change the result unseen.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One object as read from a manifest, before schema validation. */
export interface Manifest {
  /** Path relative to the directory given to `loadKustomization`. */
  file: string;
  object: Record<string, unknown>;
}

interface ImageRule {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

const UNDERSTOOD = new Set(['apiVersion', 'kind', 'resources', 'images']);

/** Every YAML document of `file` (comments-only documents skipped). Throws on a parse error. */
export function readYamlDocuments(file: string): Array<Record<string, unknown>> {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const out: Array<Record<string, unknown>> = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${file}: a document is not an object`);
    out.push(value as Record<string, unknown>);
  }
  return out;
}

function readKustomization(dir: string): { resources: string[]; images: ImageRule[] } {
  const [k, ...rest] = readYamlDocuments(path.join(dir, 'kustomization.yaml'));
  if (!k || rest.length > 0) throw new Error(`${dir}/kustomization.yaml: expected exactly one document`);
  if (k.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || k.kind !== 'Kustomization') {
    throw new Error(`${dir}/kustomization.yaml: not a kustomize.config.k8s.io/v1beta1 Kustomization`);
  }
  const unknown = Object.keys(k).filter((key) => !UNDERSTOOD.has(key));
  if (unknown.length > 0) throw new Error(`${dir}/kustomization.yaml: fields this reader does not implement: ${unknown.join(', ')}`);
  return { resources: (k.resources as string[] | undefined) ?? [], images: (k.images as ImageRule[] | undefined) ?? [] };
}

/** `name[:tag][@digest]` → name, as kustomize matches images. */
function imageName(image: string): string {
  const at = image.indexOf('@');
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

function applyImages(object: Record<string, unknown>, rules: ImageRule[]): void {
  const podSpec = ((object.spec as Record<string, unknown> | undefined)?.template as Record<string, unknown> | undefined)?.spec as
    | Record<string, unknown>
    | undefined;
  if (!podSpec) return;
  for (const key of ['containers', 'initContainers']) {
    for (const container of (podSpec[key] as Array<Record<string, unknown>> | undefined) ?? []) {
      if (typeof container.image !== 'string') continue;
      const rule = rules.find((r) => r.name === imageName(container.image as string));
      if (!rule) continue;
      let image = rule.newName ?? rule.name;
      if (rule.digest) image += `@${rule.digest}`;
      else if (rule.newTag) image += `:${rule.newTag}`;
      container.image = image;
    }
  }
}

/** The objects `kubectl apply -k dir` would apply, with the file each came from. Images are
 *  rewritten by the nearest kustomization's rules first, then by each enclosing one's. */
export function loadKustomization(dir: string, root = dir): Manifest[] {
  const { resources, images } = readKustomization(dir);
  const out: Manifest[] = [];
  for (const entry of resources) {
    const target = path.resolve(dir, entry);
    if (statSync(target).isDirectory()) {
      out.push(...loadKustomization(target, root));
    } else {
      for (const object of readYamlDocuments(target)) out.push({ file: path.relative(root, target), object });
    }
  }
  for (const m of out) applyImages(m.object, images);
  return out;
}

/** Every *.yaml / *.yml file directly in `dir`, except kustomization.yaml: the optional ones too. */
export function yamlFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .sort()
    .map((f) => path.join(dir, f));
}
