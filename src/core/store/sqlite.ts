// Loads sql.js once per process. The WASM binary is read from disk and handed to
// sql.js so that neither fetch nor a bundler's path rewriting is involved.

import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import type { SqlJsStatic } from 'sql.js';

let loading: Promise<SqlJsStatic> | undefined;
let configuredWasmPath: string | undefined;

/** Bundled entry points call this with the wasm copied beside them. */
export function setSqlWasmPath(wasmPath: string): void {
  configuredWasmPath = wasmPath;
}

function findWasm(): string {
  const candidates = [
    configuredWasmPath,
    process.env.MLOPS_SQL_WASM,
    path.join(__dirname, 'sql-wasm.wasm'),
    path.join(process.cwd(), 'node_modules', 'sql.js', 'dist', 'sql-wasm.wasm'),
  ];
  for (const candidate of candidates) {
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  try {
    return require.resolve('sql.js/dist/sql-wasm.wasm');
  } catch {
    throw new Error(
      `sql-wasm.wasm was not found (looked in ${candidates.filter(Boolean).join(', ')}); ` +
        'reinstall the extension or set MLOPS_SQL_WASM to its path',
    );
  }
}

export function loadSqlJs(): Promise<SqlJsStatic> {
  if (!loading) {
    const wasm = fs.readFileSync(findWasm());
    loading = initSqlJs({
      wasmBinary: wasm.buffer.slice(
        wasm.byteOffset,
        wasm.byteOffset + wasm.byteLength,
      ) as ArrayBuffer,
    });
  }
  return loading;
}
