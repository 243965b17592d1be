// Writing the new project, all or nothing: a `Target` remembers whether it created the directory,
// and `discard()` removes what this run wrote (the directory it made, or the contents of the empty
// one it was given), so a failure or a Ctrl-C halfway leaves the disk as it was.

import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageNameFor } from './choices.js';
import { newSessionSecret, renderEnvFile } from './env-file.js';
import { renderReadme } from './readme.js';
import { restoreNames } from './template-names.js';

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TEMPLATE_DIR = path.join(PACKAGE_DIR, 'template');

/** Version and commit of the Gatehouse the template was packed from (scripts/pack-template.js). */
export function templateInfo() {
  try {
    return JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'template.json'), 'utf8'));
  } catch {
    return { gatehouseVersion: 'unknown' };
  }
}

/** Why `dir` cannot receive a new project, or undefined when it can (missing or empty). */
export function targetProblem(dir) {
  if (!existsSync(dir)) return undefined;
  if (!statSync(dir).isDirectory()) return `${dir} exists and is not a directory`;
  const entries = readdirSync(dir);
  if (entries.length > 0) return `${dir} is not empty (${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}): choose a new or empty directory`;
  return undefined;
}

export class Target {
  /** @param {string} dir absolute path */
  constructor(dir) {
    this.dir = dir;
    /** The outermost directory this run created (mkdir -p may make parents too), if any. */
    this.createdRoot = undefined;
    this.touched = false;
  }

  /** Creates the directory (remembering whether it existed) and copies the template into it. */
  write(choices) {
    const problem = targetProblem(this.dir);
    if (problem) throw new Error(problem);
    if (!existsSync(TEMPLATE_DIR)) throw new Error(`the template is missing from this package (${TEMPLATE_DIR}): reinstall create-gatehouse`);
    if (!existsSync(this.dir)) {
      this.createdRoot = mkdirSync(this.dir, { recursive: true });
    }
    this.touched = true;
    cpSync(TEMPLATE_DIR, this.dir, { recursive: true });
    restoreNames(this.dir);

    const name = packageNameFor(path.basename(this.dir));
    for (const file of ['package.json', 'package-lock.json']) {
      const json = JSON.parse(readFileSync(path.join(this.dir, file), 'utf8'));
      json.name = name;
      if (json.packages?.['']) json.packages[''].name = name;
      writeFileSync(path.join(this.dir, file), `${JSON.stringify(json, null, 2)}\n`);
    }
    const info = templateInfo();
    // 0600: the file holds the session secret.
    writeFileSync(path.join(this.dir, '.env.local'), renderEnvFile(choices, newSessionSecret()), { mode: 0o600 });
    writeFileSync(path.join(this.dir, 'README.md'), renderReadme(choices, { name, ...info }));
    return { name };
  }

  /** Removes everything this run wrote. Safe to call more than once, and before write(). */
  discard() {
    if (!this.touched) return;
    if (this.createdRoot) {
      rmSync(this.createdRoot, { recursive: true, force: true });
    } else if (existsSync(this.dir)) {
      // The directory was there and empty before: empty it again, keep it.
      for (const entry of readdirSync(this.dir)) rmSync(path.join(this.dir, entry), { recursive: true, force: true });
    }
    this.touched = false;
  }
}
