// The neutral model of MLflow data that both readers produce (mlruns.ts for a
// FileStore folder, mlflowDb.ts for an SQLAlchemy mlflow.db) and the writer consumes,
// and the list of what could not be read. Runs are read one at a time and metric
// points in chunks, so an import does not hold a whole store in memory.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LifecycleStage, RunStatus } from '../model/tracking.ts';

export type MlflowSourceFormat = 'mlruns' | 'mlflow.db';

export interface SourceExperiment {
  /** MLflow's experiment id. */
  id: string;
  name: string;
  lifecycleStage: LifecycleStage;
  tags: Record<string, string>;
}

/** Enough of a run to order runs parents-first before each is read whole. */
export interface SourceRunHead {
  runId: string;
  experimentId: string;
  parentRunId: string | null;
  /** Where the run is, for messages: its folder, or `mlflow.db runs <id>`. */
  where: string;
}

export interface SourceRun extends SourceRunHead {
  runName: string | null;
  userId: string | null;
  status: RunStatus;
  startTime: number | null;
  endTime: number | null;
  lifecycleStage: LifecycleStage;
  artifactUri: string | null;
  params: Record<string, string>;
  tags: Record<string, string>;
}

export interface SourceMetricPoint {
  value: number;
  timestamp: number;
  step: number;
}

/** Consecutive points of one metric; a long history comes as several chunks. */
export interface SourceMetricChunk {
  key: string;
  points: SourceMetricPoint[];
}

/** Where a run's artifact files are, as far as this machine can tell. */
export type ArtifactSource =
  { kind: 'local'; dir: string } | { kind: 'none' } | { kind: 'unavailable'; reason: string };

export interface SourceModelVersion {
  version: number;
  source: string | null;
  runId: string | null;
  /** MLflow's ModelVersionStatus: READY, PENDING_REGISTRATION, FAILED_REGISTRATION. */
  status: string;
  description: string | null;
  /** MLflow deletes a version by setting its stage to Deleted_Internal. */
  deleted: boolean;
  tags: Record<string, string>;
}

export interface SourceModel {
  name: string;
  description: string | null;
  tags: Record<string, string>;
  versions: SourceModelVersion[];
  /** alias -> version number */
  aliases: Record<string, number>;
}

export interface MlflowSource {
  readonly format: MlflowSourceFormat;
  /** The absolute path read. */
  readonly location: string;
  experiments(): SourceExperiment[];
  runHeads(): SourceRunHead[];
  /** The whole run (without metrics); undefined when it cannot be read (reported). */
  run(head: SourceRunHead): SourceRun | undefined;
  metrics(run: SourceRun): Iterable<SourceMetricChunk>;
  artifacts(run: SourceRun): ArtifactSource;
  models(): SourceModel[];
  close(): void;
}

export interface SkippedItem {
  /** What was not imported: `run 5f1c0b7e`, `mlruns/1/abc/metrics/loss:3`... */
  item: string;
  reason: string;
}

/** What the readers and the writer could not import, and why. */
export class ImportIssues {
  readonly skipped: SkippedItem[] = [];
  readonly notes: string[] = [];

  skip(item: string, reason: string): void {
    this.skipped.push({ item, reason });
  }

  note(message: string): void {
    if (!this.notes.includes(message)) this.notes.push(message);
  }
}

/** A source that cannot be read at all: missing, not a database, not MLflow's. */
export class MlflowSourceError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'MlflowSourceError';
  }
}

/** Chunk size of metric points: one durable write of the tracking API. */
export const METRIC_CHUNK = 1000;

/** MLflow's RunStatus numbers (the FileStore writes the number into meta.yaml). */
const STATUS_BY_NUMBER: Record<number, RunStatus> = {
  1: 'RUNNING',
  2: 'SCHEDULED',
  3: 'FINISHED',
  4: 'FAILED',
  5: 'KILLED',
};
const STATUS_NAMES = new Set<string>(Object.values(STATUS_BY_NUMBER));

/** A run status from MLflow's number or name; undefined if it is neither. */
export function runStatus(raw: unknown): RunStatus | undefined {
  if (typeof raw === 'number') return STATUS_BY_NUMBER[raw];
  if (typeof raw === 'string' && STATUS_NAMES.has(raw)) return raw as RunStatus;
  return undefined;
}

/** Epoch milliseconds from a YAML or SQL value; null when absent or not a whole number. */
export function millis(raw: unknown): number | null {
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return raw;
  if (typeof raw === 'bigint') return Number(raw);
  if (typeof raw === 'string' && /^-?\d+$/.test(raw.trim())) return Number(raw.trim());
  return null;
}

const URI_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Resolves an MLflow artifact URI on this machine: `file:` URIs and plain paths
 * (relative ones against `baseDir`) are local; `mlflow-artifacts:/<path>` is what a
 * tracking server serves from its `--artifacts-destination` (by default `./mlartifacts`
 * beside the database), tried there; any other scheme (s3:, gs:, dbfs:, http:...) is
 * not local.
 */
export function resolveArtifactUri(
  uri: string,
  baseDir: string,
  exists: (p: string) => boolean,
): ArtifactSource {
  const scheme = URI_SCHEME.exec(uri)?.[1]?.toLowerCase();
  let local: string;
  if (scheme === 'file') {
    try {
      local = fileURLToPath(uri.replace(/^file:(?!\/\/)/i, 'file://'));
    } catch {
      return { kind: 'unavailable', reason: `${uri} is not a file path this machine can read` };
    }
  } else if (scheme === 'mlflow-artifacts') {
    const rest = uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\/?/i, '');
    local = path.join(baseDir, 'mlartifacts', ...rest.split('/').filter(Boolean));
    if (!exists(local)) {
      return {
        kind: 'unavailable',
        reason: `${uri} is served by an MLflow tracking server; it is not under ${path.join(baseDir, 'mlartifacts')}`,
      };
    }
    return { kind: 'local', dir: local };
  } else if (scheme && !(scheme.length === 1 && process.platform === 'win32')) {
    return {
      kind: 'unavailable',
      reason: `${uri} is not on this machine (only local folders are copied)`,
    };
  } else {
    local = path.resolve(baseDir, uri);
  }
  if (!exists(local)) {
    return {
      kind: 'unavailable',
      reason: `the local folder ${local} does not exist (moved, on another machine, or the run logged no artifacts)`,
    };
  }
  return { kind: 'local', dir: local };
}

/**
 * The files under `dir` (following links), each with its path relative to `dir` in
 * '/' form, sorted: param, tag and metric keys with '/' are nested files, and
 * artifacts keep their relative paths. None if `dir` does not exist.
 */
export function listFiles(dir: string): { rel: string; file: string }[] {
  const out: { rel: string; file: string }[] = [];
  const walk = (folder: string, prefix: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(folder).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const full = path.join(folder, name);
      let stat: fs.Stats;
      try {
        stat = fs.statSync(full);
      } catch {
        continue; // a dangling link
      }
      const rel = prefix ? `${prefix}/${name}` : name;
      if (stat.isDirectory()) walk(full, rel);
      else if (stat.isFile()) out.push({ rel, file: full });
    }
  };
  walk(dir, '');
  return out;
}
