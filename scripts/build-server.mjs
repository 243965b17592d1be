// Second half of `npm run build`: bundles server.ts and the lib/ code it imports into
// dist/server.js, so production runs plain JavaScript with `node` (no TypeScript loader, no
// esbuild at run time). Packages stay external: they come from the production node_modules.
import { build } from 'esbuild';

await build({
  entryPoints: ['server.ts'],
  outfile: 'dist/server.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.9',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
