#!/usr/bin/env node
// Entry point of the bundled `mlops` binary.

import * as path from 'node:path';
import { setSqlWasmPath } from '../core/store/sqlite.ts';
import { main } from './main.ts';

setSqlWasmPath(path.join(__dirname, 'sql-wasm.wasm'));
main(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mlops: ${(e as Error).message}\n`);
    process.exitCode = 2;
  },
);
