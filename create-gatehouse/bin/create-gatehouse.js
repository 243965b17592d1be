#!/usr/bin/env node
// `npx create-gatehouse my-app` and `npm create gatehouse@latest my-app` both run this file.
import { main } from '../src/main.js';

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`create-gatehouse: ${error?.stack ?? String(error)}\n`);
  process.exit(1);
});
