// Baselines and drift checks in the store. Both are runs of the "Monitoring"
// experiment: a baseline run holds a dataset's profile (drift/profile.json) and its
// digest; a drift check run holds the report (drift/report.json), per-column metrics
// (so comparing runs charts drift over time) and the digests of both datasets.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NotFoundError, ValidationError } from '../model/errors.ts';
import { profileDataset } from '../tracking/datasets.ts';
import type { Tracking } from '../tracking/tracking.ts';
import { checkDrift } from './check.ts';
import type { DriftOptions, DriftReport } from './check.ts';
import { parseProfile, profileTable } from './profile.ts';
import type { BaselineProfile } from './profile.ts';
import { readTable } from './readers.ts';
import type { ColumnKind, ReadOptions, Table } from './readers.ts';

export const MONITORING_EXPERIMENT = 'Monitoring';
/** On a baseline run: the baseline's name. */
export const BASELINE_TAG = 'mlops.drift.baseline';
/** On a drift check run: none, possible or drift. */
export const VERDICT_TAG = 'mlops.drift.verdict';
/** On runs a retrain started: the drift check run that triggered it. */
export const TRIGGER_TAG = 'mlops.retrain.drift_run';
const PROFILE_ARTIFACT = 'drift/profile.json';
const REPORT_ARTIFACT = 'drift/report.json';

export interface Progress {
  /** What is being done, for a progress message. */
  message: string;
  /** 0..1 of the whole job, when known. */
  fraction?: number;
}

export interface ReadInput {
  file: string;
  /** How to name the file in the report and the store (workspace-relative); default: as given. */
  label?: string;
  readOptions?: Omit<ReadOptions, 'signal' | 'onProgress'>;
}

async function read(
  input: ReadInput,
  extra: { kinds?: Record<string, ColumnKind>; columns?: string[] },
  signal: AbortSignal | undefined,
  onProgress: ((p: Progress) => void) | undefined,
  span: [number, number],
): Promise<Table> {
  const label = input.label ?? input.file;
  onProgress?.({ message: `Reading ${label}`, fraction: span[0] });
  return readTable(input.file, {
    ...input.readOptions,
    kinds: { ...extra.kinds, ...input.readOptions?.kinds },
    columns: extra.columns ?? input.readOptions?.columns,
    signal,
    onProgress: (done, total) =>
      onProgress?.({
        message: `Reading ${label}`,
        fraction: span[0] + (span[1] - span[0]) * (total ? done / total : 0),
      }),
  });
}

function withTempFile<T>(name: string, text: string, fn: (file: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-drift-'));
  try {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return fn(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface BaselineSummary {
  name: string;
  runId: string;
  source: string;
  digest: string;
  rows: number;
  columns: number;
  createdAt: number;
}

/** Profiles a dataset and stores it as the baseline `name` (a new baseline run; older ones stay). */
export async function setBaseline(
  t: Tracking,
  input: ReadInput,
  options: { name?: string; signal?: AbortSignal; onProgress?: (p: Progress) => void } = {},
): Promise<BaselineSummary> {
  const label = input.label ?? input.file;
  const name = options.name ?? label;
  const table = await read(input, {}, options.signal, options.onProgress, [0, 0.8]);
  options.onProgress?.({ message: `Hashing ${label}`, fraction: 0.8 });
  const { digest } = await profileDataset(input.file, options.signal);
  options.onProgress?.({ message: `Profiling ${label}`, fraction: 0.9 });
  const profile = profileTable(table, { source: label, digest });
  const experimentId = (await t.getOrCreateExperiment(MONITORING_EXPERIMENT)).experimentId;
  const run = await t.createRun({
    experimentId,
    runName: `baseline: ${name}`,
    captureGit: false,
    tags: { [BASELINE_TAG]: name },
  });
  await t.logBatch(run.runId, {
    params: {
      source: label,
      digest,
      rows: String(table.rowCount),
      columns: String(profile.columns.length),
    },
  });
  await t.logDataset(run.runId, input.file, { name: label, context: 'baseline' });
  withTempFile('profile.json', JSON.stringify(profile), (file) =>
    t.logArtifact(run.runId, file, 'drift'),
  );
  await t.endRun(run.runId, 'FINISHED');
  return {
    name,
    runId: run.runId,
    source: label,
    digest,
    rows: table.rowCount,
    columns: profile.columns.length,
    createdAt: profile.createdAt,
  };
}

/** The baselines, newest per name. */
export function listBaselines(t: Tracking): BaselineSummary[] {
  const exp = t.getExperimentByName(MONITORING_EXPERIMENT);
  if (!exp) return [];
  const seen = new Map<string, BaselineSummary>();
  let pageToken: string | undefined;
  do {
    const page = t.searchRuns({
      experimentIds: [exp.experimentId],
      filter: `tags.\`${BASELINE_TAG}\` != '' and attributes.status = 'FINISHED'`,
      orderBy: ['attributes.start_time DESC'],
      maxResults: 1000,
      pageToken,
    });
    for (const r of page.items) {
      const name = r.tags[BASELINE_TAG]!;
      if (seen.has(name)) continue;
      seen.set(name, {
        name,
        runId: r.info.runId,
        source: r.params.source ?? '',
        digest: r.params.digest ?? '',
        rows: Number(r.params.rows ?? NaN),
        columns: Number(r.params.columns ?? NaN),
        createdAt: r.info.startTime,
      });
    }
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return [...seen.values()];
}

export function loadBaseline(
  t: Tracking,
  name: string,
): { runId: string; profile: BaselineProfile } {
  const found = listBaselines(t).find((b) => b.name === name);
  if (!found) {
    const names = listBaselines(t).map((b) => b.name);
    throw new NotFoundError(
      `No baseline named ${name}. ${names.length ? `Baselines: ${names.join(', ')}.` : 'Set one first with "Set as Baseline" or mlops drift baseline <file>.'}`,
    );
  }
  const file = t.artifactPath(found.runId, PROFILE_ARTIFACT);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ValidationError(
      `The baseline ${name} (run ${found.runId}) has lost its profile (${PROFILE_ARTIFACT}); set it again.`,
    );
  }
  return { runId: found.runId, profile: parseProfile(JSON.parse(text), `${name} (${file})`) };
}

export interface DriftRunInput {
  /** A reference file, or the name of a stored baseline. */
  reference: ReadInput | { baseline: string };
  current: ReadInput;
  options?: Omit<DriftOptions, 'signal'>;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/**
 * Reads both sides and checks drift. The current file is read with the reference's
 * column kinds, so a value that does not fit (a word in a numerical column) is an
 * error at its line rather than a silently different test.
 */
export async function runDriftCheck(
  t: Tracking | undefined,
  input: DriftRunInput,
): Promise<DriftReport> {
  const { signal, onProgress } = input;
  const columns = input.options?.columns;
  let reference: Parameters<typeof checkDrift>[0];
  let kinds: Record<string, ColumnKind>;
  let refSkipped = 0;
  if ('baseline' in input.reference) {
    if (!t) throw new ValidationError('A baseline is read from the store; open one.');
    const { profile } = loadBaseline(t, input.reference.baseline);
    reference = { profile, baseline: input.reference.baseline };
    kinds = Object.fromEntries(profile.columns.map((c) => [c.name, c.kind]));
  } else {
    const ref = input.reference;
    const table = await read(ref, { columns }, signal, onProgress, [0, 0.45]);
    const { digest } = await profileDataset(ref.file, signal);
    reference = { table, source: ref.label ?? ref.file, digest };
    refSkipped = table.skipped;
    kinds = Object.fromEntries(table.columns.map((c) => [c.name, c.kind]));
  }
  // Kinds of columns the current file lacks are ignored; the check reports them missing.
  const current = await read(
    input.current,
    { kinds, columns },
    signal,
    onProgress,
    'baseline' in input.reference ? [0, 0.9] : [0.45, 0.9],
  );
  onProgress?.({ message: 'Testing columns', fraction: 0.9 });
  const { digest } = await profileDataset(input.current.file, signal);
  const report = checkDrift(
    reference,
    current,
    { currentSource: input.current.label ?? input.current.file, currentDigest: digest },
    { ...input.options, signal },
  );
  // Rows skipped as malformed (skipMalformed) are counted in the report.
  if (refSkipped) report.reference.skipped = refSkipped;
  if (current.skipped) report.current.skipped = current.skipped;
  return report;
}

/** A metric key MLflow accepts, from a column name. */
export function metricKey(column: string, what: string): string {
  const safe = column.replace(/[^A-Za-z0-9_\-. /]+/g, '_').replace(/_+/g, '_');
  return `drift.${safe}.${what}`;
}

/** Records a drift check as a run of the Monitoring experiment; returns its id. */
export async function recordDriftCheck(
  t: Tracking,
  report: DriftReport,
  files: { reference?: string; current?: string } = {},
): Promise<string> {
  const experimentId = (await t.getOrCreateExperiment(MONITORING_EXPERIMENT)).experimentId;
  const refLabel = report.reference.baseline
    ? `baseline ${report.reference.baseline}`
    : report.reference.source;
  const run = await t.createRun({
    experimentId,
    runName: `drift: ${path.basename(report.current.source)} vs ${path.basename(refLabel)}`,
    startTime: report.createdAt,
    captureGit: false,
    tags: { [VERDICT_TAG]: report.datasetVerdict },
  });
  const at = report.createdAt;
  const metrics: { key: string; value: number; step: number; timestamp: number }[] = [
    { key: 'drifted_share', value: report.driftedShare, step: 0, timestamp: at },
    { key: 'drifted_columns', value: report.driftedColumns, step: 0, timestamp: at },
    { key: 'checked_columns', value: report.checkedColumns, step: 0, timestamp: at },
  ];
  for (const c of report.columns) {
    if (c.statistic === null) continue;
    metrics.push({ key: metricKey(c.column, c.test), value: c.statistic, step: 0, timestamp: at });
    if (c.pValue !== null) {
      metrics.push({
        key: metricKey(c.column, 'p_value'),
        value: c.pValue,
        step: 0,
        timestamp: at,
      });
    }
  }
  await t.logBatch(run.runId, {
    params: {
      reference: report.reference.source,
      current: report.current.source,
      ...(report.reference.baseline ? { baseline: report.reference.baseline } : {}),
      reference_digest: report.reference.digest ?? '',
      current_digest: report.current.digest ?? '',
      drift_share: String(report.driftShareThreshold),
    },
  });
  // logBatch takes at most 1000 metrics at once.
  for (let i = 0; i < metrics.length; i += 1000) {
    await t.logBatch(run.runId, { metrics: metrics.slice(i, i + 1000) });
  }
  if (files.reference) {
    await t.logDataset(run.runId, files.reference, {
      name: report.reference.source,
      context: 'reference',
    });
  }
  if (files.current) {
    await t.logDataset(run.runId, files.current, {
      name: report.current.source,
      context: 'current',
    });
  }
  withTempFile('report.json', JSON.stringify(report, null, 1), (file) =>
    t.logArtifact(run.runId, file, 'drift'),
  );
  await t.endRun(run.runId, 'FINISHED');
  return run.runId;
}

export function loadDriftReport(t: Tracking, runId: string): DriftReport {
  const file = t.artifactPath(runId, REPORT_ARTIFACT);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as DriftReport;
  } catch {
    throw new ValidationError(`Run ${runId} has no drift report (${REPORT_ARTIFACT}).`);
  }
}
