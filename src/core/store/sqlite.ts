// Loads sql.js once per process. The WASM binary is read from disk and handed to
// sql.js so that neither fetch nor a bundler's path rewriting is involved.

import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic } from 'sql.js';

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

/**
 * Per-connection settings; sql.js resets them whenever the image is exported.
 * LIKE is case-sensitive as in MLflow (ILIKE is lower() LIKE lower()). SQLite's own
 * rollback journal stays in memory: durability comes from the store's journal, and
 * this makes inserts about 40% faster than a rollback file in sql.js's in-memory FS.
 */
export function configureDatabase(db: Database): void {
  db.exec('PRAGMA case_sensitive_like = ON; PRAGMA journal_mode = MEMORY');
}
