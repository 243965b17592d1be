// `prepack`: copies the Gatehouse project this package lives in into template/, so the template
// shipped in the tarball is always the repository as it is at pack time (nothing to keep in sync
// by hand). `postpack` (`--clean`) removes it again: template/ is build output, never committed,
// and a second copy of lib/ must not linger in the repository for tsc, Next or editors to find.
//
// The project's package.json and package-lock.json are rewritten for a new app (name, version,
// private, the test script) without touching the dependency tree, so `npm install` in a scaffolded
// project installs exactly what the repository's lock file pins.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renameForPack } from '../src/template-names.js';

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.dirname(PACKAGE_DIR);
const TEMPLATE = path.join(PACKAGE_DIR, 'template');
const INFO = path.join(PACKAGE_DIR, 'template.json');
/** Files of this package laid over the copy: the template's smoke test. */
const OVERLAY = path.join(PACKAGE_DIR, 'overlay');

/** What a new app gets from the repository (bench/ too: the integration tests measure with its
 *  helpers). Everything else (.ci/, this package) stays behind; the repository's README comes
 *  along as GATEHOUSE.md. */
const INCLUDE = [
  'app',
  'lib',
  'proxy.ts',
  'server.ts',
  'scripts',
  'dev',
  'test',
  'e2e',
  'bench',
  'deploy',
  'next.config.ts',
  'tsconfig.json',
  'tsconfig.build.json',
  '.env.example',
  '.gitignore',
  '.dockerignore',
  'Dockerfile',
  'SECURITY.md',
];

/** Never copied, at any depth: dependencies, build output, local secrets, test leftovers. */
const EXCLUDED_NAMES = [/^node_modules$/, /^\.next/, /^dist$/, /\.tsbuildinfo$/, /^next-env\.d\.ts$/, /^test-results$/, /^\.env(\..+)?$/];
/** Never copied, by path from the repository root: the scaffold's own tests pack this package. */
const EXCLUDED_PATHS = new Set(['test/scaffold', 'bench/results']);

function keep(relative) {
  const rel = relative.split(path.sep).join('/');
  if (EXCLUDED_PATHS.has(rel)) return false;
  const name = path.basename(rel);
  if (name === '.env.example') return true;
  return !EXCLUDED_NAMES.some((pattern) => pattern.test(name));
}

function copyProject() {
  for (const entry of INCLUDE) {
    const from = path.join(REPO, entry);
    if (!existsSync(from)) throw new Error(`pack-template: ${entry} is missing from the repository`);
    cpSync(from, path.join(TEMPLATE, entry), {
      recursive: true,
      filter: (src) => keep(path.relative(REPO, src)),
    });
  }
}

/** The repository's manifest, made the manifest of a new app. */
function appManifest(repoManifest) {
  const scripts = { ...repoManifest.scripts };
  // A new app's `npm test` stays fast: the build, the type check, the unit tier and a smoke test
  // that logs a user in through the embedded dev IdP against the production build. The full
  // integration and browser tiers come along and run on demand.
  scripts['test:smoke'] = "node --import tsx --test $(find test/smoke -name '*.test.ts' | sort)";
  scripts.test = 'npm run build && npm run typecheck && npm run test:unit && npm run test:smoke';
  return {
    name: 'gatehouse-app',
    version: '0.1.0',
    private: true,
    description: repoManifest.description,
    type: repoManifest.type,
    engines: repoManifest.engines,
    scripts,
    dependencies: repoManifest.dependencies,
    devDependencies: repoManifest.devDependencies,
  };
}

/** Same tree, new root name and version (npm install keeps every pinned version). */
function appLock(repoLock) {
  const lock = structuredClone(repoLock);
  lock.name = 'gatehouse-app';
  lock.version = '0.1.0';
  if (lock.packages?.['']) {
    lock.packages[''].name = 'gatehouse-app';
    lock.packages[''].version = '0.1.0';
  }
  return lock;
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined; // packed from a copy without .git
  }
}

function writeJson(file, value) {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function clean() {
  rmSync(TEMPLATE, { recursive: true, force: true });
  rmSync(INFO, { force: true });
}

function build() {
  clean();
  mkdirSync(TEMPLATE, { recursive: true });
  copyProject();
  cpSync(OVERLAY, TEMPLATE, { recursive: true });
  // The scaffold writes a README about the new app; Gatehouse's own reference comes along beside it.
  cpSync(path.join(REPO, 'README.md'), path.join(TEMPLATE, 'GATEHOUSE.md'));
  const repoManifest = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  writeJson(path.join(TEMPLATE, 'package.json'), appManifest(repoManifest));
  writeJson(path.join(TEMPLATE, 'package-lock.json'), appLock(JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8'))));
  // npm pack leaves out or reinterprets some names (a .gitignore, nested package-lock.json):
  // store them under other names; the scaffold restores them (src/template-names.js).
  renameForPack(TEMPLATE);
  writeJson(INFO, { gatehouseVersion: repoManifest.version, commit: gitCommit(), packedAt: new Date().toISOString() });
}

if (process.argv.includes('--clean')) clean();
else build();
