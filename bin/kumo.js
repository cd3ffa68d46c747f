#!/usr/bin/env node
// The kumo executable: a thin launcher for the compiled CLI (built by `npm run build`, run on `npm ci` by `prepare`).
import { main } from '../dist/cli/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`kumo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
