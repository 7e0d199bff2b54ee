// The tracking API: experiments, runs, params, metrics, tags, datasets, artifacts
// and checkpoints, with MLflow's vocabulary and rules. Every rule is checked inside
// the store's write, against the latest state, so two processes cannot both win.

import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../log.ts';
import { Registry } from '../registry/registry.ts';
import { Tracer } from '../tracing/tracer.ts';
import type { TracerOptions } from '../tracing/tracer.ts';
import { Traces } from '../tracing/traces.ts';
import { silentLogger } from '../log.ts';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../model/errors.ts';
import type { DatasetRecord, MetricPointTuple, Mutation, StoreChange } from '../store/mutations.ts';
import type { StoreReader } from '../store/queries.ts';
import { compileRunQuery, runScope } from '../store/runSearchSql.ts';
import type { SqlParam } from '../store/runSearchSql.ts';
import { Store } from '../store/store.ts';
import type { StoreOptions } from '../store/store.ts';
import { copyArtifact, listArtifactEntries, resolveInside } from './artifacts.ts';
import type { ArtifactEntry } from './artifacts.ts';
import { profileDataset } from './datasets.ts';
import { captureCodeVersion, codeVersionTags } from './git.ts';
import {
  checkBatch,
  checkInteger,
  checkKey,
  checkMetricValue,
  checkName,
  checkValue,
  MAX_BATCH_METRICS,
  MAX_EXPERIMENT_NAME_LENGTH,
  MAX_RUN_NAME_LENGTH,
  MAX_SEARCH_RESULTS,
} from './limits.ts';
import { RUN_STATUSES } from '../model/tracking.ts';
import type {
  Checkpoint,
  Experiment,
  MetricPoint,
  Page,
  Run,
  RunInfo,
  RunStatus,
  TagValue,
  ViewType,
} from '../model/tracking.ts';
import { parseOrderBy, parseRunFilter } from './runFilter.ts';
import { decimateMinMax, pickIndices } from '../../shared/series.ts';

export const DEFAULT_EXPERIMENT_ID = '0';
export const DEFAULT_EXPERIMENT_NAME = 'Default';
export const NOTE_TAG = 'mlflow.note.content';
/** Buffered single-metric calls are made durable at least this often. */
export const METRIC_FLUSH_MS = 1000;

export interface TrackingOptions extends Omit<StoreOptions, 'logger'> {
  logger?: Logger;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  /** Recorded as the run's user; defaults to the OS user. */
  user?: string;
  /** Where to look for a git repository at run start (default: the process's cwd). */
  codeRoot?: string;
}

export interface CreateRunOptions {
  /**
   * Keep this id instead of generating one (32 lowercase hex digits, as MLflow's run
   * ids); used by imports so that runs keep their MLflow ids. Refused if taken.
   */
  runId?: string;
  experimentId?: string;
  runName?: string;
  startTime?: number;
  userId?: string;
  parentRunId?: string;
  tags?: Record<string, string>;
  /** The training script, recorded as `mlflow.source.name`. */
  sourceName?: string;
  /** Capture git commit/branch/dirty at start (default true). */
  captureGit?: boolean;
}

export interface MetricInput {
  key: string;
  value: number;
  timestamp?: number;
  step?: number;
}

export interface SearchRunsOptions {
  experimentIds?: string[];
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
  viewType?: ViewType;
  /** Only runs nested under this run; `null`: only top-level runs. */
  parentRunId?: string | null;
}

function tagList(tags: Record<string, string> | undefined): TagValue[] {
  return Object.entries(tags ?? {}).map(([key, value]) => ({
    key: checkKey('tag', key),
    value: checkValue('tag', key, value),
  }));
}

function parseExperimentId(id: string): number {
  if (!/^\d+$/.test(String(id))) {
    throw new ValidationError(
      `'${id}' is not an experiment id; experiment ids are whole numbers such as '0' or '12'.`,
    );
  }
  return Number(id);
}

function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      offset: unknown;
    };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw new ValidationError(
    `The page token '${token}' is not valid; pass back the nextPageToken of a previous page.`,
  );
}

export class Tracking {
  private readonly clock: () => number;
  private readonly logger: Logger;
  private pending = new Map<string, MetricPointTuple[]>();
  private pendingCount = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    readonly store: Store,
    private readonly options: Omit<TrackingOptions, 'dir'> = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  private registryInstance: Registry | undefined;

  /** The model and prompt registries of the same store. */
  get registry(): Registry {
    this.registryInstance ??= new Registry(this.store, {
      clock: this.options.clock,
      user: this.options.user,
    });
    return this.registryInstance;
  }

  private tracesInstance: Traces | undefined;

  /** The traces of the same store. */
  get traces(): Traces {
    this.tracesInstance ??= new Traces(this.store, { clock: this.options.clock });
    return this.tracesInstance;
  }

  private readonly tracers = new Set<Tracer>();

  /**
   * Records traces of this process into the store: `withSpan`, `startSpan`, and
   * `wrapOpenAI(client)` for every chat completion. Spans are made durable at least once
   * a second, on `tracer.flush()` and on `close()`. `experiment` (a name) is created on the
   * first write when missing; default: Default.
   */
  tracer(
    options: { experiment?: string } & Pick<TracerOptions, 'resource' | 'flushMs'> = {},
  ): Tracer {
    let experimentId: Promise<string> | undefined;
    const tracer = new Tracer(
      async (spans) => {
        experimentId ??= options.experiment
          ? this.getOrCreateExperiment(options.experiment).then((e) => e.experimentId)
          : Promise.resolve(DEFAULT_EXPERIMENT_ID);
        await this.traces.ingest(spans, { experimentId: await experimentId });
      },
      {
        resource: options.resource,
        flushMs: options.flushMs,
        onError: (e) => this.logger.error(e),
      },
    );
    this.tracers.add(tracer);
    return tracer;
  }

  static async open(options: TrackingOptions): Promise<Tracking> {
    const store = await Store.open({ ...options, logger: options.logger });
    return new Tracking(store, options);
  }

  private get reader(): StoreReader {
    return this.store.reader;
  }

  private defaultUser(): string {
    if (this.options.user) return this.options.user;
    try {
      return os.userInfo().username;
    } catch {
      return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
    }
  }

  /** Writes, after making buffered metric points durable so order is kept. */
  private async write<T>(fn: (r: StoreReader) => { mutations: Mutation[]; result: T }): Promise<T> {
    await this.flush();
    return this.store.write(fn);
  }

  private ensureDefaultExperiment(r: StoreReader, mutations: Mutation[], now: number): void {
    if (!r.experimentById(0)) {
      mutations.push({
        t: 'experiment.create',
        id: 0,
        name: DEFAULT_EXPERIMENT_NAME,
        artifactLocation: 'artifacts',
        at: now,
        tags: [],
      });
    }
  }

  // ---------------------------------------------------------------- experiments

  async createExperiment(
    name: string,
    options: { tags?: Record<string, string> } = {},
  ): Promise<string> {
    checkName('An experiment name', name, MAX_EXPERIMENT_NAME_LENGTH);
    const tags = tagList(options.tags);
    return this.write((r) => {
      const existing = r.experimentByName(name);
      if (existing) {
        throw new AlreadyExistsError(
          `An experiment named '${name}' already exists (id ${existing.experimentId}${existing.lifecycleStage === 'deleted' ? ', deleted: restore it or pick another name' : ''}).`,
        );
      }
      const now = this.clock();
      if (name === DEFAULT_EXPERIMENT_NAME && !r.experimentById(0)) {
        // On a fresh store, 'Default' is experiment 0, which is otherwise made implicitly
        // (and would then clash with a second 'Default').
        const mutations: Mutation[] = [
          { t: 'experiment.create', id: 0, name, artifactLocation: 'artifacts', at: now, tags },
        ];
        return { mutations, result: DEFAULT_EXPERIMENT_ID };
      }
      const mutations: Mutation[] = [];
      this.ensureDefaultExperiment(r, mutations, now);
      const id = Math.max(r.maxExperimentId(), 0) + 1;
      mutations.push({
        t: 'experiment.create',
        id,
        name,
        artifactLocation: 'artifacts',
        at: now,
        tags,
      });
      return { mutations, result: String(id) };
    });
  }

  /** The experiment with that name, created when it does not exist yet. */
  async getOrCreateExperiment(name: string): Promise<Experiment> {
    const found = this.getExperimentByName(name);
    if (found) return found;
    try {
      return this.getExperiment(await this.createExperiment(name));
    } catch (e) {
      // Another process created it in between.
      if (e instanceof AlreadyExistsError) return this.getExperimentByName(name)!;
      throw e;
    }
  }

  getExperiment(experimentId: string): Experiment {
    const exp = this.reader.experimentById(parseExperimentId(experimentId));
    if (!exp) throw new NotFoundError(`No experiment with id ${experimentId}.`);
    return exp;
  }

  getExperimentByName(name: string): Experiment | undefined {
    return this.reader.experimentByName(name);
  }

  listExperiments(viewType: ViewType = 'ACTIVE_ONLY'): Experiment[] {
    return this.reader.experiments(viewType);
  }

  /** Number of runs per experiment id. */
  runCounts(viewType: ViewType = 'ACTIVE_ONLY'): Map<string, number> {
    return this.reader.runCounts(viewType);
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    checkName('An experiment name', newName, MAX_EXPERIMENT_NAME_LENGTH);
    const id = parseExperimentId(experimentId);
    await this.write((r) => {
      if (!r.experimentById(id)) throw new NotFoundError(`No experiment with id ${experimentId}.`);
      const clash = r.experimentByName(newName);
      if (clash && clash.experimentId !== String(id)) {
        throw new AlreadyExistsError(
          `An experiment named '${newName}' already exists (id ${clash.experimentId}).`,
        );
      }
      return {
        mutations: [{ t: 'experiment.rename', id, name: newName, at: this.clock() }],
        result: undefined,
      };
    });
  }

  private async setExperimentStage(
    experimentId: string,
    stage: 'active' | 'deleted',
  ): Promise<void> {
    const id = parseExperimentId(experimentId);
    await this.write((r) => {
      const exp = r.experimentById(id);
      if (!exp) throw new NotFoundError(`No experiment with id ${experimentId}.`);
      if (stage === 'deleted' && id === 0) {
        throw new ValidationError('The Default experiment (id 0) cannot be deleted.');
      }
      if (exp.lifecycleStage === stage) return { mutations: [], result: undefined };
      return {
        mutations: [{ t: 'experiment.lifecycle', id, stage, at: this.clock() }],
        result: undefined,
      };
    });
  }

  deleteExperiment(experimentId: string): Promise<void> {
    return this.setExperimentStage(experimentId, 'deleted');
  }

  restoreExperiment(experimentId: string): Promise<void> {
    return this.setExperimentStage(experimentId, 'active');
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    checkKey('tag', key);
    checkValue('tag', key, value);
    await this.write((r) => {
      if (!r.experimentById(id)) throw new NotFoundError(`No experiment with id ${experimentId}.`);
      return { mutations: [{ t: 'experiment.setTag', id, key, value }], result: undefined };
    });
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    await this.write((r) => {
      const exp = r.experimentById(id);
      if (!exp) throw new NotFoundError(`No experiment with id ${experimentId}.`);
      if (!(key in exp.tags))
        throw new NotFoundError(`Experiment ${experimentId} has no tag '${key}'.`);
      return { mutations: [{ t: 'experiment.deleteTag', id, key }], result: undefined };
    });
  }

  // ---------------------------------------------------------------- runs

  async createRun(options: CreateRunOptions = {}): Promise<RunInfo> {
    const tags = tagList(options.tags);
    const runName = options.runName ?? options.tags?.['mlflow.runName'] ?? generateRunName();
    checkName('A run name', runName, MAX_RUN_NAME_LENGTH);
    const startTime =
      options.startTime === undefined
        ? this.clock()
        : checkInteger('start time', options.startTime);
    const userId = options.userId ?? this.defaultUser();
    if (options.captureGit !== false) {
      const version = await captureCodeVersion(this.options.codeRoot ?? process.cwd());
      if (version) {
        for (const t of codeVersionTags(version))
          if (!tags.some((x) => x.key === t.key)) tags.push(t);
      }
    }
    const defaults: TagValue[] = [
      { key: 'mlflow.runName', value: runName },
      { key: 'mlflow.user', value: userId },
      { key: 'mlflow.source.type', value: 'LOCAL' },
    ];
    if (options.sourceName) defaults.push({ key: 'mlflow.source.name', value: options.sourceName });
    if (options.parentRunId)
      defaults.push({ key: 'mlflow.parentRunId', value: options.parentRunId });
    for (const t of defaults) if (!tags.some((x) => x.key === t.key)) tags.push(t);
    if (options.runId !== undefined && !/^[0-9a-f]{32}$/.test(options.runId)) {
      throw new ValidationError(
        `'${options.runId}' cannot be kept as a run id: run ids are 32 lowercase hex digits.`,
      );
    }
    const runId = options.runId ?? randomUUID().replace(/-/g, '');
    return this.write((r) => {
      if (options.runId !== undefined && r.runInfo(runId)) {
        throw new AlreadyExistsError(`A run with id ${runId} already exists.`);
      }
      const mutations: Mutation[] = [];
      this.ensureDefaultExperiment(r, mutations, this.clock());
      const experimentId = options.experimentId ?? DEFAULT_EXPERIMENT_ID;
      const expId = parseExperimentId(experimentId);
      const exp = r.experimentById(expId);
      if (!exp && expId !== 0) throw new NotFoundError(`No experiment with id ${experimentId}.`);
      if (exp?.lifecycleStage === 'deleted') {
        throw new ValidationError(
          `Experiment ${experimentId} ('${exp.name}') is deleted; restore it before logging runs to it.`,
        );
      }
      if (options.parentRunId) {
        const parent = r.runInfo(options.parentRunId);
        if (!parent) throw new NotFoundError(`No parent run with id ${options.parentRunId}.`);
      }
      mutations.push({
        t: 'run.create',
        run: runId,
        experimentId: expId,
        name: runName,
        user: userId,
        startTime,
        parent: options.parentRunId ?? null,
        artifactUri: `artifacts/${runId}`,
        tags,
      });
      return { mutations, result: undefined };
    }).then(() => this.getRunInfo(runId));
  }

  private activeRun(r: StoreReader, runId: string): RunInfo & { rid: number } {
    const info = r.runInfo(runId);
    if (!info) throw new NotFoundError(`No run with id ${runId}.`);
    if (info.lifecycleStage !== 'active') {
      throw new ValidationError(
        `The run ${runId} must be in the 'active' state to be changed; it is deleted (restore it first).`,
      );
    }
    return info;
  }

  /** A full run id from an id or an unambiguous prefix of at least 6 characters (as git does). */
  resolveRunId(idOrPrefix: string): string {
    if (this.reader.runInfo(idOrPrefix)) return idOrPrefix;
    if (idOrPrefix.length >= 6) {
      const matches = this.reader.runIdsWithPrefix(idOrPrefix, 2);
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) {
        throw new ValidationError(
          `The run id prefix '${idOrPrefix}' matches several runs; give more characters.`,
        );
      }
    }
    throw new NotFoundError(`No run with id ${idOrPrefix}.`);
  }

  getRunInfo(runId: string): RunInfo {
    const info = this.reader.runInfo(runId);
    if (!info) throw new NotFoundError(`No run with id ${runId}.`);
    const { rid: _rid, ...rest } = info;
    return rest;
  }

  getRun(runId: string): Run {
    const info = this.reader.runInfo(runId);
    if (!info) throw new NotFoundError(`No run with id ${runId}.`);
    return this.hydrate(info);
  }

  private hydrate(info: RunInfo & { rid: number }): Run {
    const { rid, ...rest } = info;
    return {
      info: rest,
      params: this.reader.params(rid),
      tags: this.reader.tags(rid),
      metrics: this.reader.latestMetrics(rid),
      datasets: this.reader.datasets(rid),
    };
  }

  async updateRun(
    runId: string,
    update: { status?: RunStatus; endTime?: number | null; runName?: string },
  ): Promise<RunInfo> {
    if (update.status !== undefined && !RUN_STATUSES.includes(update.status)) {
      throw new ValidationError(
        `'${update.status}' is not a run status; use one of ${RUN_STATUSES.join(', ')}.`,
      );
    }
    if (update.runName !== undefined) checkName('A run name', update.runName, MAX_RUN_NAME_LENGTH);
    if (update.endTime !== undefined && update.endTime !== null)
      checkInteger('end time', update.endTime);
    await this.write((r) => {
      this.activeRun(r, runId);
      return {
        mutations: [
          {
            t: 'run.update',
            run: runId,
            status: update.status,
            endTime: update.endTime,
            name: update.runName,
          },
        ],
        result: undefined,
      };
    });
    return this.getRunInfo(runId);
  }

  /** Sets a terminal status and the end time (now, unless given). */
  endRun(runId: string, status: RunStatus = 'FINISHED', endTime?: number): Promise<RunInfo> {
    return this.updateRun(runId, {
      status,
      endTime: status === 'RUNNING' || status === 'SCHEDULED' ? null : (endTime ?? this.clock()),
    });
  }

  private async setRunStage(runId: string, stage: 'active' | 'deleted'): Promise<void> {
    await this.write((r) => {
      const info = r.runInfo(runId);
      if (!info) throw new NotFoundError(`No run with id ${runId}.`);
      if (info.lifecycleStage === stage) return { mutations: [], result: undefined };
      return {
        mutations: [{ t: 'run.lifecycle', run: runId, stage, at: this.clock() }],
        result: undefined,
      };
    });
  }

  deleteRun(runId: string): Promise<void> {
    return this.setRunStage(runId, 'deleted');
  }

  restoreRun(runId: string): Promise<void> {
    return this.setRunStage(runId, 'active');
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    const list = tagList(tags);
    await this.write((r) => {
      this.activeRun(r, runId);
      const mutations: Mutation[] = [{ t: 'run.setTags', run: runId, tags: list }];
      const renamed = list.find((t) => t.key === 'mlflow.runName');
      if (renamed) mutations.push({ t: 'run.update', run: runId, name: renamed.value });
      return { mutations, result: undefined };
    });
  }

  setTag(runId: string, key: string, value: string): Promise<void> {
    return this.setTags(runId, { [key]: value });
  }

  setNote(runId: string, note: string): Promise<void> {
    return this.setTag(runId, NOTE_TAG, note);
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.write((r) => {
      const info = this.activeRun(r, runId);
      if (!(key in r.tags(info.rid))) throw new NotFoundError(`Run ${runId} has no tag '${key}'.`);
      return { mutations: [{ t: 'run.deleteTag', run: runId, key }], result: undefined };
    });
  }

  logParam(runId: string, key: string, value: string): Promise<void> {
    return this.logBatch(runId, { params: { [key]: value } });
  }

  /** Params, metrics and tags in one durable write, with MLflow's batch limits. */
  async logBatch(
    runId: string,
    batch: {
      metrics?: MetricInput[];
      params?: Record<string, string> | TagValue[];
      tags?: Record<string, string> | TagValue[];
    },
  ): Promise<void> {
    const params = Array.isArray(batch.params)
      ? batch.params
      : Object.entries(batch.params ?? {}).map(([key, value]) => ({ key, value }));
    const tags = Array.isArray(batch.tags)
      ? batch.tags
      : Object.entries(batch.tags ?? {}).map(([key, value]) => ({ key, value }));
    const metrics = batch.metrics ?? [];
    checkBatch(metrics.length, params.length, tags.length);
    for (const p of params) {
      checkKey('param', p.key);
      checkValue('param', p.key, p.value);
    }
    for (const t of tags) {
      checkKey('tag', t.key);
      checkValue('tag', t.key, t.value);
    }
    const now = this.clock();
    const points = metrics.map((m) =>
      this.metricTuple(m.key, m.value, m.timestamp ?? now, m.step ?? 0),
    );
    // Duplicate keys within the batch must agree.
    const seen = new Map<string, string>();
    for (const p of params) {
      const prior = seen.get(p.key);
      if (prior !== undefined && prior !== p.value) {
        throw new ValidationError(
          `The batch logs param '${p.key}' twice with different values ('${prior}' and '${p.value}').`,
        );
      }
      seen.set(p.key, p.value);
    }
    await this.write((r) => {
      const info = this.activeRun(r, runId);
      const newParams: TagValue[] = [];
      for (const [key, value] of seen) {
        const existing = r.param(info.rid, key);
        if (existing === undefined) newParams.push({ key, value });
        else if (existing !== value) {
          throw new ValidationError(
            `Param '${key}' of run ${runId} was already logged as '${existing}'; it cannot be changed to '${value}'. ` +
              'Params are immutable: start a new run, or record the new value as a tag.',
          );
        }
      }
      const mutations: Mutation[] = [];
      if (newParams.length > 0)
        mutations.push({ t: 'run.logParams', run: runId, params: newParams });
      if (tags.length > 0) {
        mutations.push({ t: 'run.setTags', run: runId, tags });
        const renamed = tags.find((t) => t.key === 'mlflow.runName');
        if (renamed) mutations.push({ t: 'run.update', run: runId, name: renamed.value });
      }
      if (points.length > 0) mutations.push({ t: 'run.logMetrics', run: runId, points });
      return { mutations, result: undefined };
    });
  }

  private metricTuple(
    key: string,
    value: number,
    timestamp: number,
    step: number,
  ): MetricPointTuple {
    checkKey('metric', key);
    checkMetricValue(key, value);
    checkInteger(`The timestamp of metric '${key}'`, timestamp);
    checkInteger(`The step of metric '${key}'`, step);
    return [key, value, timestamp, step];
  }

  /** Many points, made durable before the promise resolves (split into batches of 1000). */
  async logMetrics(runId: string, metrics: MetricInput[]): Promise<void> {
    for (let i = 0; i < metrics.length; i += MAX_BATCH_METRICS) {
      await this.logBatch(runId, { metrics: metrics.slice(i, i + MAX_BATCH_METRICS) });
    }
  }

  /**
   * Logs one point without waiting for the disk: points are batched and made
   * durable within METRIC_FLUSH_MS (or at 1000 points, or on flush/close). A crash
   * can lose at most that last second of points. Bad input throws at once.
   */
  logMetric(
    runId: string,
    key: string,
    value: number,
    options: { timestamp?: number; step?: number } = {},
  ): void {
    const tuple = this.metricTuple(
      key,
      value,
      options.timestamp ?? this.clock(),
      options.step ?? 0,
    );
    const info = this.reader.runInfo(runId);
    if (!info) throw new NotFoundError(`No run with id ${runId}.`);
    if (info.lifecycleStage !== 'active') {
      throw new ValidationError(`The run ${runId} is deleted; restore it before logging to it.`);
    }
    let list = this.pending.get(runId);
    if (!list) this.pending.set(runId, (list = []));
    list.push(tuple);
    this.pendingCount++;
    if (this.pendingCount >= MAX_BATCH_METRICS) {
      void this.flush().catch((e) => this.logger.error(e as Error));
    } else if (!this.flushTimer) {
      // Not unref'd: a script that ends keeps running until its points are on disk.
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush().catch((e) => this.logger.error(e as Error));
      }, METRIC_FLUSH_MS);
    }
  }

  /** Makes every buffered metric point durable. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pendingCount === 0) return;
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    const batches = this.pending;
    this.pending = new Map();
    this.pendingCount = 0;
    const work = (async () => {
      for (const [runId, points] of batches) {
        for (let i = 0; i < points.length; i += MAX_BATCH_METRICS) {
          const slice = points.slice(i, i + MAX_BATCH_METRICS);
          try {
            await this.store.write((r) => {
              this.activeRun(r, runId);
              return {
                mutations: [{ t: 'run.logMetrics', run: runId, points: slice }],
                result: undefined,
              };
            });
          } catch (e) {
            this.logger.error(
              `[tracking] ${slice.length} buffered metric points of run ${runId} were not recorded: ${(e as Error).message}`,
            );
            throw e;
          }
        }
      }
    })();
    this.flushing = work;
    try {
      await work;
    } finally {
      this.flushing = undefined;
    }
  }

  getMetricHistory(
    runId: string,
    key: string,
    options: { maxResults?: number; pageToken?: string } = {},
  ): Page<MetricPoint> {
    const info = this.reader.runInfo(runId);
    if (!info) throw new NotFoundError(`No run with id ${runId}.`);
    const limit = Math.min(options.maxResults ?? 25_000, 25_000);
    const offset = decodePageToken(options.pageToken);
    const items = this.reader.metricHistory(info.rid, key, limit + 1, offset);
    const more = items.length > limit;
    return {
      items: items.slice(0, limit),
      nextPageToken: more ? encodePageToken(offset + limit) : undefined,
    };
  }

  /** The whole history of a metric, every page. */
  metricHistory(runId: string, key: string): MetricPoint[] {
    const out: MetricPoint[] = [];
    let pageToken: string | undefined;
    do {
      const page = this.getMetricHistory(runId, key, { pageToken });
      out.push(...page.items);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return out;
  }

  /**
   * A metric's history for a chart: columns (step, wall time, value), decimated to
   * at most `maxPoints` by min/max per pixel so spikes survive; optionally only an x
   * range (step, wall time, or milliseconds since the run started) for a zoom, or
   * only the points after a step for a live update.
   */
  metricSeries(
    runId: string,
    key: string,
    options: {
      maxPoints: number;
      range?: { axis: 'step' | 'time' | 'relative'; from: number; to: number };
      afterStep?: number;
    },
  ): { step: Float64Array; time: Float64Array; value: Float64Array; total: number } {
    const info = this.reader.runInfo(runId);
    if (!info) throw new NotFoundError(`No run with id ${runId}.`);
    let range: { column: 'step' | 'timestamp'; from: number; to: number } | undefined;
    if (options.range) {
      const { axis, from, to } = options.range;
      range =
        axis === 'step'
          ? { column: 'step', from: Math.floor(from), to: Math.ceil(to) }
          : axis === 'time'
            ? { column: 'timestamp', from: Math.floor(from), to: Math.ceil(to) }
            : {
                column: 'timestamp',
                from: Math.floor(info.startTime + from),
                to: Math.ceil(info.startTime + to),
              };
    }
    const cols = this.reader.metricColumns(info.rid, key, range, options.afterStep);
    const total = cols.step.length;
    if (total <= options.maxPoints) return { ...cols, total };
    const keep = decimateMinMax(cols.step, cols.value, options.maxPoints);
    return {
      step: pickIndices(cols.step, keep),
      time: pickIndices(cols.time, keep),
      value: pickIndices(cols.value, keep),
      total,
    };
  }

  // ---------------------------------------------------------------- search

  private compileSearch(options: SearchRunsOptions): { sql: string; params: SqlParam[] } {
    return compileRunQuery({
      filter: parseRunFilter(options.filter ?? ''),
      orderBy: parseOrderBy(options.orderBy ?? []),
      scope: runScope({
        experimentIds: (options.experimentIds ?? []).map(parseExperimentId),
        viewType: options.viewType ?? 'ACTIVE_ONLY',
        parentRunId: options.parentRunId,
      }),
    });
  }

  searchRuns(options: SearchRunsOptions = {}): Page<Run> {
    const maxResults = options.maxResults ?? 1000;
    if (!Number.isSafeInteger(maxResults) || maxResults < 1 || maxResults > MAX_SEARCH_RESULTS) {
      throw new ValidationError(
        `maxResults must be between 1 and ${MAX_SEARCH_RESULTS} (got ${maxResults}).`,
      );
    }
    const query = this.compileSearch(options);
    const offset = decodePageToken(options.pageToken);
    const rids = this.reader.runRids(query.sql, query.params, maxResults + 1, offset);
    const more = rids.length > maxResults;
    const page = this.reader.runInfosByRid(rids.slice(0, maxResults));
    const details = this.reader.runDetails(page.map((info) => info.rid));
    return {
      items: page.map(({ rid, ...info }) => ({ info, ...details.get(rid)! })),
      nextPageToken: more ? encodePageToken(offset + maxResults) : undefined,
    };
  }

  /** How many runs a search matches (for "Load more (100 of 2,345)"). */
  countRuns(options: Omit<SearchRunsOptions, 'orderBy' | 'maxResults' | 'pageToken'> = {}): number {
    const query = this.compileSearch(options);
    return this.reader.countRids(query.sql, query.params);
  }

  childRunIds(parentRunId: string): string[] {
    return this.reader.childRunIds(parentRunId);
  }

  // ---------------------------------------------------------------- datasets, artifacts, checkpoints

  /** Records the digest, size and row count of a file or folder the run used. */
  async logDataset(
    runId: string,
    source: string,
    options: { name?: string; context?: string; signal?: AbortSignal } = {},
  ): Promise<void> {
    const profile = await profileDataset(source, options.signal);
    const name = options.name ?? path.basename(source);
    checkName('A dataset name', name, 500);
    await this.write((r) => {
      this.activeRun(r, runId);
      return {
        mutations: [
          {
            t: 'run.logDataset',
            run: runId,
            at: this.clock(),
            dataset: {
              name,
              digest: profile.digest,
              source: path.resolve(source),
              sourceType: profile.sourceType,
              sizeBytes: profile.sizeBytes,
              rowCount: profile.rowCount,
              context: options.context ?? null,
            },
          },
        ],
        result: undefined,
      };
    });
  }

  /**
   * Records datasets as a client describes them (MLflow's `log_inputs`): digest and
   * source are taken as given and nothing is read. A dataset the run already has
   * (same name, digest and context) is not recorded twice.
   */
  async logDatasetRecords(runId: string, datasets: DatasetRecord[]): Promise<void> {
    for (const d of datasets) {
      checkName('A dataset name', d.name, 500);
      checkName(`The digest of dataset '${d.name}'`, d.digest, 500);
    }
    await this.write((r) => {
      const info = this.activeRun(r, runId);
      const known: DatasetRecord[] = r.datasets(info.rid);
      const at = this.clock();
      const mutations: Mutation[] = [];
      for (const dataset of datasets) {
        const same = (k: DatasetRecord): boolean =>
          k.name === dataset.name && k.digest === dataset.digest && k.context === dataset.context;
        if (known.some(same)) continue;
        known.push(dataset);
        mutations.push({ t: 'run.logDataset', run: runId, at, dataset });
      }
      return { mutations, result: undefined };
    });
  }

  /** The run's artifact folder (it may not exist yet). */
  artifactRoot(runId: string): string {
    const info = this.getRunInfo(runId);
    return path.join(this.store.dir, ...info.artifactUri.split('/'));
  }

  /** Copies a file (or a folder's contents) into the run's artifacts; returns the paths. */
  logArtifact(runId: string, localPath: string, artifactPath = ''): string[] {
    const info = this.getRunInfo(runId);
    if (info.lifecycleStage !== 'active') {
      throw new ValidationError(
        `The run ${runId} is deleted; restore it before logging artifacts.`,
      );
    }
    return copyArtifact(this.artifactRoot(runId), localPath, artifactPath);
  }

  listArtifacts(runId: string, artifactPath = ''): ArtifactEntry[] {
    return listArtifactEntries(this.artifactRoot(runId), artifactPath);
  }

  /** The absolute path of an artifact, refused if it would leave the run's folder. */
  artifactPath(runId: string, artifactPath: string): string {
    return resolveInside(this.artifactRoot(runId), artifactPath);
  }

  /**
   * Records a checkpoint. Without explicit metrics, it takes the run's points at
   * that step. With `localPath`, the file is logged as an artifact first.
   */
  async logCheckpoint(
    runId: string,
    checkpoint: {
      step: number;
      artifactPath: string;
      localPath?: string;
      metrics?: Record<string, number>;
    },
  ): Promise<void> {
    checkInteger('The checkpoint step', checkpoint.step);
    let artifactPath = checkpoint.artifactPath;
    if (checkpoint.localPath) {
      const written = this.logArtifact(runId, checkpoint.localPath, artifactPath);
      if (written.length === 1) artifactPath = written[0]!;
    }
    await this.write((r) => {
      const info = this.activeRun(r, runId);
      let metrics = checkpoint.metrics;
      if (!metrics) {
        metrics = {};
        for (const key of Object.keys(r.latestMetrics(info.rid))) {
          const atStep = r
            .metricHistory(info.rid, key, 1_000_000, 0)
            .filter((p) => p.step === checkpoint.step);
          if (atStep.length > 0) metrics[key] = atStep[atStep.length - 1]!.value;
        }
      }
      for (const [k, v] of Object.entries(metrics)) {
        checkKey('metric', k);
        checkMetricValue(k, v);
      }
      return {
        mutations: [
          {
            t: 'run.logCheckpoint',
            run: runId,
            step: checkpoint.step,
            artifactPath,
            at: this.clock(),
            metrics,
          },
        ],
        result: undefined,
      };
    });
  }

  /** Checkpoints of a run, best first by `metric` (checkpoints without it last), or by step. */
  listCheckpoints(runId: string, rank?: { metric: string; order?: 'max' | 'min' }): Checkpoint[] {
    const info = this.reader.runInfo(runId);
    if (!info) throw new NotFoundError(`No run with id ${runId}.`);
    const list = this.reader.checkpoints(info.rid);
    if (!rank) return list;
    const sign = (rank.order ?? 'max') === 'max' ? -1 : 1;
    const valueOf = (c: Checkpoint): number | undefined => {
      const v = c.metrics[rank.metric];
      return v === undefined || Number.isNaN(v) ? undefined : v;
    };
    return [...list].sort((a, b) => {
      const va = valueOf(a);
      const vb = valueOf(b);
      if (va === undefined && vb === undefined) return a.step - b.step;
      if (va === undefined) return 1;
      if (vb === undefined) return -1;
      return va === vb ? a.step - b.step : sign * (va - vb);
    });
  }

  onDidChange(listener: (change: StoreChange) => void): { dispose(): void } {
    return this.store.onDidChange(listener);
  }

  /** Flushes buffered points and closes the store. */
  async close(): Promise<void> {
    try {
      await this.flush();
      for (const tracer of this.tracers) await tracer.flush();
    } finally {
      await this.store.close();
    }
  }
}

const ADJECTIVES = [
  'bold',
  'calm',
  'clever',
  'crisp',
  'eager',
  'gentle',
  'keen',
  'lucid',
  'quick',
  'silent',
  'steady',
  'vivid',
];
const NOUNS = [
  'badger',
  'comet',
  'falcon',
  'harbor',
  'lynx',
  'maple',
  'otter',
  'pine',
  'quartz',
  'raven',
  'river',
  'sparrow',
];

/** MLflow-style memorable names such as `keen-otter-42`. */
export function generateRunName(random: () => number = Math.random): string {
  const pick = (list: string[]): string => list[Math.floor(random() * list.length)]!;
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(random() * 1000)}`;
}
