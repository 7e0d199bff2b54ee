// MLflow's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/...`): upload (PUT raw
// bytes), download (GET), delete and list. Proxy paths read
// `<experiment_id>/<run_id>/artifacts/<path>` and land in the run's artifact folder of
// the store; anything that could leave it (`..`, absolute, encoded) is refused. A trace's
// `<experiment_id>/traces/<trace_id>/artifacts/traces.json` is its spans (traceArtifacts.ts).

import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ValidationError } from '../core/model/errors.ts';
import type { Tracking } from '../core/tracking/tracking.ts';
import { invalidParameter, notFound } from './errors.ts';
import type { MlflowError } from './errors.ts';

export const ARTIFACTS_PREFIXES = [
  '/api/2.0/mlflow-artifacts/artifacts',
  '/ajax-api/2.0/mlflow-artifacts/artifacts',
];

export interface ArtifactFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

function invalidPath(shown: string, why: string): MlflowError {
  return invalidParameter(`Invalid artifact path '${shown}': ${why}.`);
}

/** Checks decoded path segments; the proxy never normalizes, it refuses. */
function checkSegments(segments: string[], shown: string): string[] {
  for (const s of segments) {
    if (s === '') throw invalidPath(shown, 'it is absolute or has an empty segment');
    if (s === '.' || s === '..') throw invalidPath(shown, "'.' and '..' segments are not allowed");
    if (/[\\\0/]/.test(s)) throw invalidPath(shown, 'a segment holds a slash, backslash or NUL');
    if (/^[A-Za-z]:/.test(s)) throw invalidPath(shown, 'it names a drive');
  }
  return segments;
}

/** Segments of a raw (percent-encoded) URL path below the proxy prefix. */
export function urlPathSegments(raw: string): string[] {
  const segments = raw.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw invalidPath(raw, 'it is not valid percent-encoding');
    }
  });
  return checkSegments(segments, raw);
}

/** Segments of an already decoded path (the `path` query argument of the list call). */
export function plainPathSegments(value: string): string[] {
  const trimmed = value.replace(/\/+$/, '');
  if (trimmed === '') return [];
  return checkSegments(trimmed.split('/'), value);
}

interface RunLocation {
  runId: string;
  /** Relative to the run's artifact root; '' is the root. */
  relative: string;
}

/** `<experiment_id>/<run_id>/artifacts/<rest>` to the run and the rest. */
function locate(tracking: Tracking, segments: string[], shown: string): RunLocation {
  const [experimentId, runId, artifacts, ...rest] = segments;
  if (!experimentId || !runId || artifacts !== 'artifacts') {
    throw invalidPath(shown, 'proxy paths read <experiment_id>/<run_id>/artifacts/<path>');
  }
  const info = tracking.getRunInfo(runId);
  if (info.experimentId !== experimentId) {
    throw notFound(`Run ${runId} is not in experiment ${experimentId}.`);
  }
  return { runId, relative: rest.join('/') };
}

/** The run's absolute path for `relative`, through core's check that it stays inside. */
function absolute(tracking: Tracking, where: RunLocation): string {
  try {
    return tracking.artifactPath(where.runId, where.relative);
  } catch (e) {
    if (e instanceof ValidationError) throw invalidParameter(e.message);
    throw e;
  }
}

let uploadCounter = 0;

/** Streams the body into the file: a temporary beside it, fsync'd, then renamed. */
export async function uploadArtifact(
  tracking: Tracking,
  segments: string[],
  shown: string,
  req: http.IncomingMessage,
): Promise<void> {
  const where = locate(tracking, segments, shown);
  if (where.relative === '') throw invalidPath(shown, 'it names the run folder, not a file');
  const info = tracking.getRunInfo(where.runId);
  if (info.lifecycleStage !== 'active') {
    throw invalidParameter(
      `The run ${where.runId} is deleted; restore it before logging artifacts.`,
    );
  }
  const target = absolute(tracking, where);
  if (fs.existsSync(target) && fs.statSync(target).isDirectory()) {
    throw invalidPath(shown, 'a folder of that name exists');
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  // The `.tmp-<pid>-<digits>` suffix is what the artifact listing hides.
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}${uploadCounter++}`;
  const file = await fs.promises.open(tmp, 'w');
  try {
    for await (const chunk of req) await file.write(chunk as Buffer);
    await file.sync();
  } catch (e) {
    await file.close();
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  await file.close();
  fs.renameSync(tmp, target);
  try {
    const dir = fs.openSync(path.dirname(target), 'r');
    fs.fsyncSync(dir);
    fs.closeSync(dir);
  } catch {
    // Some platforms cannot fsync a folder; the file itself is on disk.
  }
}

const TEXT_TYPES = new Set([
  '.txt',
  '.log',
  '.md',
  '.yaml',
  '.yml',
  '.csv',
  '.tsv',
  '.py',
  '.toml',
]);
const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
};

function contentType(file: string): string {
  const ext = path.extname(file).toLowerCase();
  // Never text/html or image/svg+xml: an artifact must not run scripts in a browser.
  if (TEXT_TYPES.has(ext) || path.basename(file) === 'MLmodel') return 'text/plain; charset=utf-8';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

export async function downloadArtifact(
  tracking: Tracking,
  segments: string[],
  shown: string,
  res: http.ServerResponse,
): Promise<void> {
  const target = absolute(tracking, locate(tracking, segments, shown));
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    throw notFound(`No artifact at '${shown}'.`);
  }
  if (!stat.isFile()) throw notFound(`'${shown}' is a folder, not a file; list it instead.`);
  res.writeHead(200, {
    'Content-Type': contentType(target),
    'Content-Length': stat.size,
    'X-Content-Type-Options': 'nosniff',
  });
  await pipeline(fs.createReadStream(target), res);
}

export async function deleteArtifact(
  tracking: Tracking,
  segments: string[],
  shown: string,
): Promise<void> {
  const where = locate(tracking, segments, shown);
  if (where.relative === '') throw invalidPath(shown, 'it names the run folder');
  const target = absolute(tracking, where);
  if (!fs.existsSync(target)) throw notFound(`No artifact at '${shown}'.`);
  await fs.promises.rm(target, { recursive: true, force: true });
}

/**
 * The entries directly under a proxy path, named by their base names as MLflow does.
 * Above the runs' folders the tree is the store's: experiments, their runs, `artifacts`.
 */
export function listArtifacts(
  tracking: Tracking,
  segments: string[],
  shown: string,
): ArtifactFile[] {
  const dir = (name: string): ArtifactFile => ({ path: name, is_dir: true });
  if (segments.length === 0) {
    return tracking.listExperiments('ALL').map((e) => dir(e.experimentId));
  }
  if (segments.length === 1) {
    const experimentId = segments[0]!;
    tracking.getExperiment(experimentId);
    const runs: ArtifactFile[] = [];
    let pageToken: string | undefined;
    do {
      const result = tracking.searchRuns({
        experimentIds: [experimentId],
        viewType: 'ALL',
        maxResults: 10_000,
        pageToken,
      });
      for (const run of result.items) runs.push(dir(run.info.runId));
      pageToken = result.nextPageToken;
    } while (pageToken);
    return runs;
  }
  if (segments.length === 2) {
    locate(tracking, [...segments, 'artifacts'], shown);
    return [dir('artifacts')];
  }
  const where = locate(tracking, segments, shown);
  try {
    return tracking.listArtifacts(where.runId, where.relative).map((f) => ({
      path: path.posix.basename(f.path),
      is_dir: f.isDir,
      ...(f.sizeBytes === null ? {} : { file_size: f.sizeBytes }),
    }));
  } catch (e) {
    if (e instanceof ValidationError) throw invalidParameter(e.message);
    throw e;
  }
}
