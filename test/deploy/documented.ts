// What the documentation promises, read from the documents themselves: the configuration variable
// names (README "Configuration" table, SPEC §2 table) and the Secrets a deploy README tells the
// reader to create (`kubectl create secret generic NAME --from-literal=KEY=… --from-file=KEY=…`).

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../harness/app';

/** The SPEC lives in the shared folder next to the checkout (../shared in CI and in the main
 *  checkout; two levels up from a worktree under wt/). */
export function specPath(): string | undefined {
  return [path.join(ROOT, '..', 'shared', 'SPEC.md'), path.join(ROOT, '..', '..', 'shared', 'SPEC.md')].find((p) => existsSync(p));
}

/** The markdown between the heading matching `heading` and the next heading of the same level. */
function section(markdown: string, heading: RegExp): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => heading.test(l));
  if (start < 0) throw new Error(`no section ${heading}`);
  const level = /^#+/.exec(lines[start])![0].length;
  const end = lines.findIndex((l, i) => i > start && new RegExp(`^#{1,${level}} `).test(l));
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** Variable names in the first column of the section's tables: every backticked UPPER_CASE token. */
function tableNames(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) continue;
    const first = line.split('|')[1] ?? '';
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1]);
  }
  return names;
}

/** Configuration variable names documented in README "Configuration" and, when the SPEC is found,
 *  SPEC §2. Without the SPEC the set is smaller, so a check against it is only stricter. */
export function configurationNames(): { names: Set<string>; sources: string[] } {
  const names = tableNames(section(readFileSync(path.join(ROOT, 'README.md'), 'utf8'), /^## Configuration\b/));
  const sources = ['README.md "Configuration"'];
  const spec = specPath();
  if (spec) {
    for (const n of tableNames(section(readFileSync(spec, 'utf8'), /^## 2\. Configuration/))) names.add(n);
    sources.push(`${spec} §2`);
  }
  return { names, sources };
}

/** Secret name → keys, from every `kubectl create secret generic` command in the file (lines
 *  continued with a backslash are joined). */
export function documentedSecrets(readmeFile: string): Map<string, Set<string>> {
  const text = readFileSync(readmeFile, 'utf8').replace(/\\\n\s*/g, ' ');
  const secrets = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const command = /kubectl create secret generic ([a-z0-9][a-z0-9.-]*)(.*)$/.exec(line);
    if (!command) continue;
    const keys = secrets.get(command[1]) ?? new Set<string>();
    for (const m of command[2].matchAll(/--from-(?:literal|file)=([A-Za-z0-9_.-]+)=/g)) keys.add(m[1]);
    secrets.set(command[1], keys);
  }
  return secrets;
}

/** What the Dockerfile's last stage sets: the numeric USER, the WORKDIR and the ENV defaults. */
export function imageDefaults(): { uid: number; workdir: string; env: Record<string, string> } {
  const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const lines = text.split('\n').map((l) => l.trim());
  const lastFrom = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  const stage = lines.slice(lastFrom);
  const user = stage.filter((l) => /^USER\s/i.test(l)).pop();
  const uid = Number(/^USER\s+(\d+)(?::\d+)?$/i.exec(user ?? '')?.[1]);
  if (!Number.isInteger(uid)) throw new Error(`Dockerfile: the last stage has no numeric USER (${user ?? 'none'})`);
  const workdir = stage.filter((l) => /^WORKDIR\s/i.test(l)).pop()?.split(/\s+/)[1];
  if (!workdir) throw new Error('Dockerfile: the last stage has no WORKDIR');
  const env: Record<string, string> = {};
  for (const l of stage.filter((s) => /^ENV\s/i.test(s))) {
    for (const m of l.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S*)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  return { uid, workdir, env };
}
