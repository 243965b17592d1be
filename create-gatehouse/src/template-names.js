// npm pack drops a package's `.gitignore` files (it reads them as ignore rules) and treats nested
// `package-lock.json` and `.npmrc` specially, so the template stores such files under a `_`
// prefix; the scaffold gives them their real names back when it writes a project.

import { readdirSync, renameSync } from 'node:fs';
import path from 'node:path';

/** Real name → name inside the tarball. */
const PACKED_NAMES = new Map([
  ['.gitignore', '_gitignore'],
  ['.npmignore', '_npmignore'],
  ['.npmrc', '_npmrc'],
  ['package-lock.json', '_package-lock.json'],
]);
const REAL_NAMES = new Map([...PACKED_NAMES].map(([real, packed]) => [packed, real]));

function renameAll(dir, names) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) renameAll(from, names);
    else if (names.has(entry.name)) renameSync(from, path.join(dir, names.get(entry.name)));
  }
}

/** At pack time: give the files npm would mangle their stored names. */
export function renameForPack(dir) {
  renameAll(dir, PACKED_NAMES);
}

/** In a freshly copied project: give them their real names back. */
export function restoreNames(dir) {
  renameAll(dir, REAL_NAMES);
}
