// Imports MLflow data (an mlruns/ folder or an mlflow.db) into the store through the
// tracking and registry APIs: experiments by name, runs with their ids, times,
// status, params, tags, full metric history and artifacts, then registered models,
// versions and aliases. Importing again adds only what is new: a run is known by
// its MLflow run id (tag mlflow.import.source_run_id), a model version by its MLflow
// version number (tag mlflow.import.source_version).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../model/errors.ts';
import {
  checkKey,
  checkValue,
  MAX_BATCH_METRICS,
  MAX_BATCH_PARAMS,
  MAX_SEARCH_RESULTS,
} from '../tracking/limits.ts';
import type { MetricInput, Tracking } from '../tracking/tracking.ts';
import { isSqliteFile, openMlflowDb } from './mlflowDb.ts';
import { looksLikeMlruns, openMlruns } from './mlruns.ts';
import { ImportIssues, listFiles, MlflowSourceError } from './source.ts';
import type {
  MlflowSource,
  MlflowSourceFormat,
  SkippedItem,
  SourceExperiment,
  SourceModel,
  SourceRun,
  SourceRunHead,
} from './source.ts';

/** On every imported run: its MLflow run id, the key that makes re-imports idempotent. */
export const SOURCE_RUN_ID_TAG = 'mlflow.import.source_run_id';
/** On every imported run: the mlruns folder or mlflow.db it came from. */
export const SOURCE_TAG = 'mlflow.import.source';
/** On every imported model version: its MLflow version number. */
export const SOURCE_VERSION_TAG = 'mlflow.import.source_version';
/** On an imported model version whose MLflow status was not READY. */
export const SOURCE_STATUS_TAG = 'mlflow.import.source_status';

export const IMPORT_COUNT_KEYS = [
  'experiments',
  'runs',
  'params',
  'metricPoints',
  'tags',
  'artifactFiles',
  'models',
  'versions',
  'aliases',
] as const;
export type ImportCountKey = (typeof IMPORT_COUNT_KEYS)[number];

export interface ImportCount {
  created: number;
  /** Found in the store already (from an earlier import): left as it was. */
  present: number;
}

export interface ImportReport {
  /** The absolute path read. */
  source: string;
  format: MlflowSourceFormat;
  /** Tags count those of experiments, runs, models and versions (not the import's own). */
  counts: Record<ImportCountKey, ImportCount>;
  /** Everything not imported, each with the reason. */
  skipped: SkippedItem[];
  /** What was imported differently from the source (a new run id, a version number...). */
  notes: string[];
  /** MLflow run id -> run id in the store (the same unless the id was taken). */
  runIds: Record<string, string>;
}

export interface ImportOptions {
  signal?: AbortSignal;
  /** After each run and each registered model; `what` names it. */
  onProgress?: (done: number, total: number, what: string) => void;
}

/** Thrown when the signal aborts; what was imported until then stays, with its report. */
export class ImportCancelledError extends Error {
  constructor(readonly report: ImportReport) {
    super(
      'The import was cancelled. What was imported so far is kept; importing again continues where it stopped.',
    );
    this.name = 'ImportCancelledError';
  }
}

/**
 * Opens an MLflow source: an mlruns/ folder, a folder holding mlruns/ or mlflow.db,
 * an mlflow.db file, or the tracking URIs `file:///.../mlruns` and `sqlite:///mlflow.db`.
 */
export async function openMlflowSource(
  source: string,
  issues: ImportIssues,
): Promise<MlflowSource> {
  let p = source.trim();
  const sqlite = /^sqlite:\/\/\/(.+)$/i.exec(p);
  if (sqlite) p = sqlite[1]!;
  else if (/^file:/i.test(p)) p = fileURLToPath(p);
  p = path.resolve(p);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    throw new MlflowSourceError(`${p} does not exist.`, p);
  }
  if (stat.isDirectory()) {
    if (looksLikeMlruns(p)) return openMlruns(p, issues);
    const mlruns = path.join(p, 'mlruns');
    if (fs.existsSync(mlruns) && looksLikeMlruns(mlruns)) return openMlruns(mlruns, issues);
    const db = path.join(p, 'mlflow.db');
    if (fs.existsSync(db)) return openMlflowDb(db, issues);
    throw new MlflowSourceError(
      `${p} is not an MLflow store: it has no experiment folders with a meta.yaml (mlruns layout), and no mlruns/ or mlflow.db inside.`,
      p,
    );
  }
  if (!isSqliteFile(p)) {
    throw new MlflowSourceError(
      `${p} is not an MLflow store: give an mlruns/ folder or an mlflow.db (SQLite) file.`,
      p,
    );
  }
  return openMlflowDb(p, issues);
}

/** Imports an MLflow mlruns/ folder or mlflow.db into the store of `tracking`. */
export async function importMlflow(
  tracking: Tracking,
  source: string,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const issues = new ImportIssues();
  const src = await openMlflowSource(source, issues);
  try {
    return await new MlflowImporter(tracking, src, issues, options).run();
  } finally {
    src.close();
  }
}

/** Problems with one item that skip it, not the import. */
function isItemError(e: unknown): e is Error {
  return (
    e instanceof ValidationError || e instanceof NotFoundError || e instanceof AlreadyExistsError
  );
}

/** Runs whose parents are in the source come after their parents (cycles are cut). */
export function parentsFirst<T extends { runId: string; parentRunId: string | null }>(
  heads: T[],
): T[] {
  const byId = new Map(heads.map((h) => [h.runId, h]));
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const out: T[] = [];
  const place = (h: T): void => {
    if (placed.has(h.runId) || visiting.has(h.runId)) return;
    visiting.add(h.runId);
    const parent = h.parentRunId ? byId.get(h.parentRunId) : undefined;
    if (parent) place(parent);
    visiting.delete(h.runId);
    placed.add(h.runId);
    out.push(h);
  };
  for (const h of heads) place(h);
  return out;
}

function short(runId: string): string {
  return runId.slice(0, 8);
}

function pointKey(p: { value: number; timestamp: number; step: number }): string {
  return `${p.step}:${p.timestamp}:${Number.isNaN(p.value) ? 'NaN' : p.value}`;
}

class MlflowImporter {
  private readonly counts = Object.fromEntries(
    IMPORT_COUNT_KEYS.map((k) => [k, { created: 0, present: 0 }]),
  ) as Record<ImportCountKey, ImportCount>;
  /** MLflow run id -> store run id. */
  private readonly runIds = new Map<string, string>();
  /** MLflow experiment id -> store experiment id. */
  private readonly experimentIds = new Map<string, string>();
  /** MLflow run id -> store run id, of runs earlier imports created. */
  private imported = new Map<string, string>();
  /** Store experiments to delete when the runs are in: deleted in MLflow, or restored to add runs. */
  private readonly deleteAfterRuns = new Set<string>();
  private done = 0;
  private total = 0;

  constructor(
    private readonly t: Tracking,
    private readonly src: MlflowSource,
    private readonly issues: ImportIssues,
    private readonly options: ImportOptions,
  ) {}

  report(): ImportReport {
    return {
      source: this.src.location,
      format: this.src.format,
      counts: this.counts,
      skipped: this.issues.skipped,
      notes: this.issues.notes,
      runIds: Object.fromEntries(this.runIds),
    };
  }

  private checkAbort(): void {
    if (this.options.signal?.aborted) throw new ImportCancelledError(this.report());
  }

  private progress(what: string): void {
    this.done++;
    this.options.onProgress?.(this.done, this.total, what);
  }

  async run(): Promise<ImportReport> {
    this.checkAbort();
    const experiments = this.src.experiments();
    const heads = parentsFirst(this.src.runHeads());
    const models = this.src.models();
    this.total = heads.length + models.length;
    this.imported = this.importedRuns();
    try {
      for (const e of experiments) {
        this.checkAbort();
        await this.importExperiment(e);
      }
      for (const head of heads) {
        this.checkAbort();
        await this.importRun(head);
        this.progress(`run ${short(head.runId)}`);
      }
    } finally {
      for (const id of this.deleteAfterRuns) await this.t.deleteExperiment(id);
    }
    for (const m of models) {
      this.checkAbort();
      await this.importModel(m);
      this.progress(`model ${m.name}`);
    }
    return this.report();
  }

  /** MLflow run id -> store run id of every run an earlier import created. */
  private importedRuns(): Map<string, string> {
    const map = new Map<string, string>();
    let pageToken: string | undefined;
    do {
      const page = this.t.searchRuns({
        filter: `tags.\`${SOURCE_RUN_ID_TAG}\` IS NOT NULL`,
        viewType: 'ALL',
        maxResults: MAX_SEARCH_RESULTS,
        pageToken,
      });
      for (const run of page.items) {
        const sourceId = run.tags[SOURCE_RUN_ID_TAG];
        if (sourceId && !map.has(sourceId)) map.set(sourceId, run.info.runId);
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    return map;
  }

  private runExists(runId: string): boolean {
    try {
      this.t.getRunInfo(runId);
      return true;
    } catch (e) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  /** The entries the tracking API accepts; each refused one is reported. */
  private valid(
    kind: 'param' | 'tag',
    entries: Record<string, string>,
    owner: string,
  ): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(entries)) {
      try {
        checkKey(kind, key);
        checkValue(kind, key, value);
        out[key] = value;
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        this.issues.skip(`${kind} '${key}' of ${owner}`, e.message);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- experiments

  private async importExperiment(e: SourceExperiment): Promise<void> {
    const owner = `experiment '${e.name}'`;
    const tags = this.valid('tag', e.tags, owner);
    const existing = this.t.getExperimentByName(e.name);
    if (!existing) {
      let id: string;
      try {
        id = await this.t.createExperiment(e.name, { tags });
      } catch (err) {
        if (!isItemError(err)) throw err;
        this.issues.skip(owner, err.message);
        return;
      }
      this.counts.experiments.created++;
      this.counts.tags.created += Object.keys(tags).length;
      this.experimentIds.set(e.id, id);
      // Runs go in first (a deleted experiment takes none), then it is deleted.
      if (e.lifecycleStage === 'deleted' && id !== '0') this.deleteAfterRuns.add(id);
      return;
    }
    this.counts.experiments.present++;
    this.experimentIds.set(e.id, existing.experimentId);
    for (const [key, value] of Object.entries(tags)) {
      const have = existing.tags[key];
      if (have === value) this.counts.tags.present++;
      else if (have !== undefined) {
        this.issues.skip(`tag '${key}' of ${owner}`, 'the store has another value; it was kept');
      } else {
        await this.t.setExperimentTag(existing.experimentId, key, value);
        this.counts.tags.created++;
      }
    }
  }

  /** A deleted store experiment takes no runs: restore it until the runs are in. */
  private async ensureActive(experimentId: string): Promise<void> {
    if (this.t.getExperiment(experimentId).lifecycleStage === 'deleted') {
      await this.t.restoreExperiment(experimentId);
      this.deleteAfterRuns.add(experimentId);
    }
  }

  // ---------------------------------------------------------------- runs

  private async importRun(head: SourceRunHead): Promise<void> {
    const experimentId = this.experimentIds.get(head.experimentId);
    if (experimentId === undefined) {
      this.issues.skip(
        `run ${head.runId}`,
        `its experiment ${head.experimentId} (${head.where}) was not imported`,
      );
      return;
    }
    const run = this.src.run(head);
    if (!run) return;
    const existing = this.imported.get(run.runId);
    try {
      if (existing) await this.mergeRun(existing, run);
      else await this.createRun(run, experimentId);
    } catch (e) {
      if (!isItemError(e)) throw e;
      this.issues.skip(`run ${run.runId}`, e.message);
    }
  }

  /** The store id of the run's parent, if the parent is in the store. */
  private parentOf(run: SourceRun): string | undefined {
    if (!run.parentRunId) return undefined;
    return this.runIds.get(run.parentRunId) ?? this.imported.get(run.parentRunId);
  }

  private async createRun(run: SourceRun, experimentId: string): Promise<void> {
    const owner = `run ${short(run.runId)}`;
    const params = this.valid('param', run.params, owner);
    const tags = this.valid('tag', run.tags, owner);
    delete tags[SOURCE_RUN_ID_TAG];
    delete tags[SOURCE_TAG];
    const runName = run.runName || run.tags['mlflow.runName'] || run.runId;
    tags['mlflow.runName'] = runName;
    const parent = this.parentOf(run);
    if (parent) tags['mlflow.parentRunId'] = parent;
    const sourceTags = Object.keys(tags).length;
    tags[SOURCE_RUN_ID_TAG] = run.runId;
    tags[SOURCE_TAG] = this.src.location;
    // MLflow ids are 32 hex digits as ours are; one taken by another run gets a new id.
    const keepId = /^[0-9a-f]{32}$/.test(run.runId) && !this.runExists(run.runId);
    let startTime = run.startTime;
    if (startTime === null) {
      startTime = run.endTime ?? 0;
      this.issues.note(`run ${run.runId} has no start time; its end time (or 0) was used`);
    }
    await this.ensureActive(experimentId);
    const info = await this.t.createRun({
      runId: keepId ? run.runId : undefined,
      experimentId,
      runName,
      startTime,
      userId: run.userId ?? run.tags['mlflow.user'] ?? '',
      parentRunId: parent,
      tags,
      captureGit: false,
    });
    const runId = info.runId;
    this.runIds.set(run.runId, runId);
    this.counts.runs.created++;
    this.counts.tags.created += sourceTags;
    if (!keepId) {
      this.issues.note(
        `run ${run.runId} was imported as ${runId}: ${/^[0-9a-f]{32}$/.test(run.runId) ? 'its id is taken by another run in this store' : 'its id is not 32 hex digits'}`,
      );
    }
    await this.logParams(runId, params);
    await this.copyMetrics(runId, run, new Set(), true);
    this.copyArtifacts(runId, run, true);
    await this.finish(runId, run, 'RUNNING');
  }

  /**
   * A run an earlier import created: adds what is new and keeps what differs. A run
   * deleted in the store cannot change: what is new is only reported.
   */
  private async mergeRun(runId: string, run: SourceRun): Promise<void> {
    const owner = `run ${short(run.runId)}`;
    this.runIds.set(run.runId, runId);
    this.counts.runs.present++;
    const stored = this.t.getRun(runId);
    const write = stored.info.lifecycleStage !== 'deleted';
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.valid('param', run.params, owner))) {
      const have = stored.params[key];
      if (have === value) this.counts.params.present++;
      else if (have !== undefined) {
        this.issues.skip(
          `param '${key}' of ${owner}`,
          `the store has '${have}' and params cannot change; '${value}' was not imported`,
        );
      } else params[key] = value;
    }
    const tags = this.valid('tag', run.tags, owner);
    const parent = this.parentOf(run);
    if (parent) tags['mlflow.parentRunId'] = parent;
    const newTags: Record<string, string> = {};
    for (const [key, value] of Object.entries(tags)) {
      if (key === SOURCE_RUN_ID_TAG || key === SOURCE_TAG) continue;
      const have = stored.tags[key];
      if (have === value) this.counts.tags.present++;
      else if (have !== undefined) {
        this.issues.skip(`tag '${key}' of ${owner}`, 'the store has another value; it was kept');
      } else newTags[key] = value;
    }
    const storedKeys = new Set(Object.keys(stored.metrics));
    if (!write) {
      const missing: string[] = [];
      const count = (n: number, what: string): void => {
        if (n > 0) missing.push(`${n} ${what}${n === 1 ? '' : 's'}`);
      };
      count(Object.keys(params).length, 'param');
      count(Object.keys(newTags).length, 'tag');
      count(await this.copyMetrics(runId, run, storedKeys, false), 'metric point');
      count(this.copyArtifacts(runId, run, false), 'artifact file');
      if (missing.length > 0) {
        this.issues.skip(
          `run ${run.runId}`,
          `it is deleted in this store, so what is new in MLflow (${missing.join(', ')}) was not added; restore the run and import again`,
        );
      }
      return;
    }
    if (Object.keys(newTags).length > 0) {
      await this.t.setTags(runId, newTags);
      this.counts.tags.created += Object.keys(newTags).length;
    }
    await this.logParams(runId, params);
    await this.copyMetrics(runId, run, storedKeys, true);
    this.copyArtifacts(runId, run, true);
    await this.finish(runId, run, stored.info.status);
  }

  private async logParams(runId: string, params: Record<string, string>): Promise<void> {
    const entries = Object.entries(params).map(([key, value]) => ({ key, value }));
    for (let i = 0; i < entries.length; i += MAX_BATCH_PARAMS) {
      this.checkAbort();
      await this.t.logBatch(runId, { params: entries.slice(i, i + MAX_BATCH_PARAMS) });
    }
    this.counts.params.created += entries.length;
  }

  /**
   * Logs the run's metric points with their own timestamps and steps, in batches. For
   * a key the store already has, each point is matched against its history (as a
   * multiset: MLflow files may repeat a point) and only the unmatched ones are added.
   * Returns how many points are new; with `write` false they are only counted.
   */
  private async copyMetrics(
    runId: string,
    run: SourceRun,
    storedKeys: Set<string>,
    write: boolean,
  ): Promise<number> {
    const owner = `run ${short(run.runId)}`;
    const history = new Map<string, Map<string, number>>();
    const refused = new Set<string>();
    let batch: MetricInput[] = [];
    let added = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await this.t.logBatch(runId, { metrics: batch });
      this.counts.metricPoints.created += batch.length;
      batch = [];
    };
    for (const chunk of this.src.metrics(run)) {
      this.checkAbort();
      const { key } = chunk;
      if (refused.has(key)) continue;
      try {
        checkKey('metric', key);
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        refused.add(key);
        this.issues.skip(`metric '${key}' of ${owner}`, e.message);
        continue;
      }
      let known = history.get(key);
      if (!known && storedKeys.has(key)) {
        known = new Map();
        for (const p of this.t.metricHistory(runId, key)) {
          const k = pointKey(p);
          known.set(k, (known.get(k) ?? 0) + 1);
        }
        history.set(key, known);
      }
      for (const p of chunk.points) {
        if (known) {
          const k = pointKey(p);
          const n = known.get(k) ?? 0;
          if (n > 0) {
            known.set(k, n - 1);
            this.counts.metricPoints.present++;
            continue;
          }
        }
        added++;
        if (!write) continue;
        batch.push({ key, value: p.value, timestamp: p.timestamp, step: p.step });
        if (batch.length === MAX_BATCH_METRICS) {
          await flush();
          this.checkAbort();
        }
      }
    }
    await flush();
    return added;
  }

  /**
   * Copies the run's artifact files; a file already there with the same size is kept.
   * Returns how many files are new; with `write` false they are only counted.
   */
  private copyArtifacts(runId: string, run: SourceRun, write: boolean): number {
    const where = this.src.artifacts(run);
    if (where.kind === 'none') return 0;
    if (where.kind === 'unavailable') {
      this.issues.skip(`artifacts of run ${run.runId}`, where.reason);
      return 0;
    }
    let added = 0;
    for (const { rel, file } of listFiles(where.dir)) {
      this.checkAbort();
      const target = this.t.artifactPath(runId, rel);
      let same = false;
      try {
        same = fs.statSync(target).size === fs.statSync(file).size;
      } catch {
        // not there yet
      }
      if (same) {
        this.counts.artifactFiles.present++;
        continue;
      }
      added++;
      if (!write) continue;
      const dir = path.posix.dirname(rel);
      this.t.logArtifact(runId, file, dir === '.' ? '' : dir);
      this.counts.artifactFiles.created++;
    }
    return added;
  }

  /**
   * Status, end time and lifecycle as in MLflow. A run already in the store is only
   * ended (if it is RUNNING here and ended in MLflow since) or deleted.
   */
  private async finish(runId: string, run: SourceRun, storedStatus: string): Promise<void> {
    if (storedStatus === 'RUNNING' && run.status !== 'RUNNING') {
      await this.t.updateRun(runId, { status: run.status, endTime: run.endTime ?? undefined });
    }
    if (run.lifecycleStage === 'deleted') await this.t.deleteRun(runId);
  }

  // ---------------------------------------------------------------- registry

  private async importModel(m: SourceModel): Promise<void> {
    const registry = this.t.registry;
    const owner = `model '${m.name}'`;
    const tags = Object.fromEntries(Object.entries(m.tags).filter(([k]) => k.trim() !== ''));
    const existing = registry.find('model', m.name);
    if (!existing) {
      try {
        await registry.create('model', m.name, { description: m.description ?? undefined, tags });
      } catch (e) {
        if (!isItemError(e)) throw e;
        this.issues.skip(
          owner,
          `${e.message} Its ${m.versions.length} version(s) and aliases were not imported.`,
        );
        return;
      }
      this.counts.models.created++;
      this.counts.tags.created += Object.keys(tags).length;
    } else {
      this.counts.models.present++;
      for (const [key, value] of Object.entries(tags)) {
        const have = existing.tags[key];
        if (have === value) this.counts.tags.present++;
        else if (have !== undefined) {
          this.issues.skip(`tag '${key}' of ${owner}`, 'the store has another value; it was kept');
        } else {
          await registry.setTag('model', m.name, key, value);
          this.counts.tags.created++;
        }
      }
    }

    // MLflow version number -> store version number.
    const versions = new Map<number, number>();
    const stored = new Map<number, { version: number; tags: Record<string, string> }>();
    for (const v of registry.modelVersions(m.name)) {
      const n = Number(v.tags[SOURCE_VERSION_TAG]);
      if (Number.isSafeInteger(n) && !stored.has(n)) stored.set(n, v);
    }
    for (const v of m.versions) {
      this.checkAbort();
      const what = `version ${v.version} of ${owner}`;
      if (v.deleted) {
        this.issues.skip(what, 'it is deleted in MLflow');
        continue;
      }
      const found = stored.get(v.version);
      if (found) {
        versions.set(v.version, found.version);
        this.counts.versions.present++;
        for (const [key, value] of Object.entries(v.tags)) {
          const have = found.tags[key];
          if (have === value) this.counts.tags.present++;
          else if (have !== undefined) {
            this.issues.skip(`tag '${key}' of ${what}`, 'the store has another value; it was kept');
          } else if (key.trim()) {
            await registry.setTag('model', m.name, key, value, found.version);
            this.counts.tags.created++;
          }
        }
        continue;
      }
      let runId: string | null = null;
      if (v.runId) {
        runId = this.runIds.get(v.runId) ?? (this.runExists(v.runId) ? v.runId : null);
        if (!runId) {
          this.issues.note(
            `${what} comes from run ${v.runId}, which is not in the store; it was imported without a linked run`,
          );
        }
      }
      let source = v.source;
      if (!source) {
        this.issues.skip(what, 'it has no source (model URI)');
        continue;
      }
      // runs:/<MLflow id>/... must name the run as it is here.
      if (v.runId && runId && runId !== v.runId && source.startsWith(`runs:/${v.runId}/`)) {
        source = `runs:/${runId}/${source.slice(`runs:/${v.runId}/`.length)}`;
      }
      const versionTags = Object.fromEntries(
        Object.entries(v.tags).filter(([k]) => k.trim() !== ''),
      );
      const bookkeeping: Record<string, string> = { [SOURCE_VERSION_TAG]: String(v.version) };
      if (v.status !== 'READY') {
        bookkeeping[SOURCE_STATUS_TAG] = v.status;
        this.issues.note(
          `${what} is ${v.status} in MLflow; the store has no such status, so it is READY here (tag ${SOURCE_STATUS_TAG})`,
        );
      }
      let created;
      try {
        created = await registry.createModelVersion(m.name, {
          source,
          runId,
          description: v.description ?? undefined,
          tags: { ...versionTags, ...bookkeeping },
        });
      } catch (e) {
        if (!isItemError(e)) throw e;
        this.issues.skip(what, e.message);
        continue;
      }
      versions.set(v.version, created.version);
      this.counts.versions.created++;
      this.counts.tags.created += Object.keys(versionTags).length;
      if (created.version !== v.version) {
        this.issues.note(
          `${owner}: MLflow version ${v.version} is version ${created.version} in the store (versions are numbered in the order they are registered)`,
        );
      }
    }

    const current = registry.get('model', m.name).aliases;
    for (const [alias, sourceVersion] of Object.entries(m.aliases).sort()) {
      const what = `alias @${alias} of ${owner}`;
      const target = versions.get(sourceVersion);
      if (target === undefined) {
        this.issues.skip(what, `it points at version ${sourceVersion}, which was not imported`);
        continue;
      }
      if (current[alias] === target) {
        this.counts.aliases.present++;
        continue;
      }
      try {
        await registry.setAlias('model', m.name, alias, target, {
          reason: `imported from MLflow (${this.src.location})`,
        });
      } catch (e) {
        if (!isItemError(e)) throw e;
        this.issues.skip(what, e.message);
        continue;
      }
      if (current[alias] !== undefined) {
        this.issues.note(
          `${what} moved from version ${current[alias]} to ${target}, as in MLflow (the move is in the alias history)`,
        );
      }
      this.counts.aliases.created++;
    }
  }
}
