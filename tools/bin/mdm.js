#!/usr/bin/env node
// `npx mdm` from the repository: the operator CLI, built into tools/lib by `npm run build`.
import { existsSync } from 'node:fs';
const entry = new URL('../lib/cli/run.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('mdm: not built yet - run `npm run build` in the repository first\n');
  process.exit(1);
}
await import(entry.href);
