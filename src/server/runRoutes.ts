// MLflow's run endpoints: create, get, update, delete, restore, search, the logging
// calls (metric, param, tag, batch, inputs), metric history and the run-scoped artifact
// list, on Tracking. Every logging call answers only once its data is durable.

import { z } from 'zod';
import { MAX_SEARCH_RESULTS } from '../core/tracking/limits.ts';
import { RUN_STATUSES } from '../core/model/tracking.ts';
import type { RunStatus } from '../core/model/tracking.ts';
import { invalidParameter } from './errors.ts';
import { metricJson, runArtifactUri, runInfoJson, runJson, tagRecord } from './mlflowJson.ts';
import { route } from './route.ts';
import type { JsonRoute } from './route.ts';
import {
  double,
  idString,
  int64,
  keyValue,
  keyValueList,
  list,
  parseArgs,
  present,
  required,
  requireRunId,
  viewType,
} from './schemas.ts';
import { checkMaxResults } from './searchFilter.ts';

/** MLflow's batch limits (mlflow/utils/validation.py). */
export const MAX_BATCH_LOG_METRICS = 1000;
export const MAX_BATCH_LOG_PARAMS_OR_TAGS = 100;
export const MAX_BATCH_LOG_ENTITIES = 1000;

const runIdFields = { run_id: z.string().optional(), run_uuid: z.string().optional() };

/** RunStatus by name, or by its enum number (RUNNING = 1 ... KILLED = 5). */
const runStatus = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const name = typeof v === 'number' ? RUN_STATUSES[v - 1] : v.toUpperCase();
  if (!name || !RUN_STATUSES.includes(name as RunStatus)) {
    ctx.addIssue({ code: 'custom', message: `expected one of ${RUN_STATUSES.join(', ')}` });
    return z.NEVER;
  }
  return name as RunStatus;
});

const batchMetric = z.object({
  key: z.string().min(1),
  value: double,
  timestamp: int64.optional(),
  step: int64.optional(),
});

const batchMetrics = z.object({ metrics: list(batchMetric) });
type BatchMetric = z.output<typeof batchMetric>;

/** The shape nearly every client sends: numbers as JSON numbers, no nulls. */
function isPlainMetric(m: unknown): boolean {
  if (typeof m !== 'object' || m === null) return false;
  const { key, value, timestamp, step } = m as Record<string, unknown>;
  return (
    typeof key === 'string' &&
    key.length > 0 &&
    typeof value === 'number' &&
    (timestamp === undefined || Number.isSafeInteger(timestamp)) &&
    (step === undefined || Number.isSafeInteger(step))
  );
}

/**
 * log-batch's metrics. zod takes about 0.4 µs a point, as long as parsing the JSON
 * body, so the plain shape is checked by hand; anything else (numbers as strings,
 * "NaN", a bad field) goes through zod, which accepts it or names the field as MLflow.
 */
function parseBatchMetrics(raw: unknown): BatchMetric[] {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw) && raw.every(isPlainMetric)) return raw as BatchMetric[];
  return parseArgs(batchMetrics, { metrics: raw }).metrics ?? [];
}

const datasetInput = z.object({
  tags: keyValueList,
  dataset: z.object({
    name: z.string().min(1),
    digest: z.string().min(1),
    source_type: z.string().optional(),
    source: z.string().optional(),
    schema: z.string().optional(),
    profile: z.string().optional(),
  }),
});

/** The row count MLflow datasets put in their profile, when it is there. */
function profileRows(profile: string | undefined): number | null {
  if (!profile) return null;
  try {
    const rows = (JSON.parse(profile) as { num_rows?: unknown }).num_rows;
    return typeof rows === 'number' && Number.isSafeInteger(rows) ? rows : null;
  } catch {
    return null;
  }
}

function checkBatchLimits(metrics: number, params: number, tags: number): void {
  const over = (what: string, count: number, limit: number): void => {
    if (count > limit) {
      throw invalidParameter(
        `A batch logging request can contain at most ${limit} ${what}. Got ${count} ${what}. Please split up ${what} across multiple requests and try again.`,
      );
    }
  };
  over('metrics', metrics, MAX_BATCH_LOG_METRICS);
  over('params', params, MAX_BATCH_LOG_PARAMS_OR_TAGS);
  over('tags', tags, MAX_BATCH_LOG_PARAMS_OR_TAGS);
  over('metrics, params, and tags', metrics + params + tags, MAX_BATCH_LOG_ENTITIES);
}

export const runRoutes: JsonRoute[] = [
  route(
    ['POST'],
    'runs/create',
    z.object({
      experiment_id: idString.optional(),
      user_id: z.string().optional(),
      run_name: z.string().optional(),
      start_time: int64.optional(),
      tags: keyValueList,
    }),
    async (args, { tracking }) => {
      const tags = tagRecord(args.tags);
      const info = await tracking.createRun({
        experimentId: args.experiment_id || undefined,
        runName: args.run_name || undefined,
        startTime: args.start_time,
        userId: args.user_id || tags['mlflow.user'] || undefined,
        parentRunId: tags['mlflow.parentRunId'] || undefined,
        tags,
        // The client reports its own source and git tags; the server's folder is not the code.
        captureGit: false,
      });
      return { run: runJson(tracking.getRun(info.runId)) };
    },
  ),
  route(['GET'], 'runs/get', z.object(runIdFields), (args, { tracking }) => ({
    run: runJson(tracking.getRun(requireRunId(args))),
  })),
  route(
    ['POST'],
    'runs/update',
    z.object({
      ...runIdFields,
      status: runStatus.optional(),
      end_time: int64.optional(),
      run_name: z.string().optional(),
    }),
    async (args, { tracking }) => {
      const info = await tracking.updateRun(requireRunId(args), {
        status: args.status,
        endTime: args.end_time,
        runName: args.run_name || undefined,
      });
      return { run_info: runInfoJson(info) };
    },
  ),
  route(['POST'], 'runs/delete', z.object(runIdFields), async (args, { tracking }) => {
    await tracking.deleteRun(requireRunId(args));
    return {};
  }),
  route(['POST'], 'runs/restore', z.object(runIdFields), async (args, { tracking }) => {
    await tracking.restoreRun(requireRunId(args));
    return {};
  }),
  route(
    ['POST', 'GET'],
    'runs/search',
    z.object({
      experiment_ids: list(idString),
      filter: z.string().optional(),
      run_view_type: viewType.optional(),
      max_results: int64.optional(),
      order_by: list(z.string()),
      page_token: z.string().optional(),
    }),
    (args, { tracking }) => {
      const result = tracking.searchRuns({
        experimentIds: args.experiment_ids ?? [],
        filter: args.filter,
        orderBy: args.order_by,
        maxResults: checkMaxResults(args.max_results, 1000, MAX_SEARCH_RESULTS),
        pageToken: args.page_token || undefined,
        viewType: args.run_view_type ?? 'ACTIVE_ONLY',
      });
      return {
        runs: result.items.map(runJson),
        ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}),
      };
    },
  ),
  route(
    ['POST'],
    'runs/log-metric',
    z.object({
      ...runIdFields,
      key: z.string().optional(),
      value: double.optional(),
      timestamp: int64.optional(),
      step: int64.optional(),
    }),
    async (args, { metrics }) => {
      await metrics.log(requireRunId(args), {
        key: required(args.key, 'key'),
        value: required(args.value, 'value'),
        timestamp: required(args.timestamp, 'timestamp'),
        step: args.step ?? 0,
      });
      return {};
    },
  ),
  route(
    ['POST'],
    'runs/log-parameter',
    z.object({ ...runIdFields, key: z.string().optional(), value: z.string().optional() }),
    async (args, { tracking }) => {
      const runId = requireRunId(args);
      const key = required(args.key, 'key');
      await tracking.logParam(runId, key, present(args.value, 'value'));
      return {};
    },
  ),
  route(
    ['POST'],
    'runs/set-tag',
    z.object({ ...runIdFields, key: z.string().optional(), value: z.string().optional() }),
    async (args, { tracking }) => {
      const runId = requireRunId(args);
      const key = required(args.key, 'key');
      await tracking.setTag(runId, key, present(args.value, 'value'));
      return {};
    },
  ),
  route(
    ['POST'],
    'runs/delete-tag',
    z.object({ ...runIdFields, key: z.string().optional() }),
    async (args, { tracking }) => {
      await tracking.deleteTag(requireRunId(args), required(args.key, 'key'));
      return {};
    },
  ),
  route(
    ['POST'],
    'runs/log-batch',
    z.object({
      ...runIdFields,
      metrics: z.unknown().optional(),
      params: list(keyValue),
      tags: list(keyValue),
    }),
    async (args, { tracking }) => {
      const runId = requireRunId(args);
      const metrics = parseBatchMetrics(args.metrics);
      const params = args.params ?? [];
      const tags = args.tags ?? [];
      checkBatchLimits(metrics.length, params.length, tags.length);
      await tracking.logBatch(runId, { metrics, params, tags });
      return {};
    },
  ),
  route(
    ['POST'],
    'runs/log-inputs',
    z.object({ ...runIdFields, datasets: list(datasetInput) }),
    async (args, { tracking }) => {
      const runId = requireRunId(args);
      await tracking.logDatasetRecords(
        runId,
        (args.datasets ?? []).map(({ tags, dataset }) => ({
          name: dataset.name,
          digest: dataset.digest,
          source: dataset.source ?? '',
          sourceType: dataset.source_type ?? '',
          sizeBytes: null,
          rowCount: profileRows(dataset.profile),
          context: tagRecord(tags)['mlflow.data.context'] ?? null,
        })),
      );
      return {};
    },
  ),
  route(
    ['GET'],
    'metrics/get-history',
    z.object({
      ...runIdFields,
      metric_key: z.string().optional(),
      max_results: int64.optional(),
      page_token: z.string().optional(),
    }),
    (args, { tracking }) => {
      const runId = requireRunId(args);
      const key = required(args.metric_key, 'metric_key');
      const result = tracking.getMetricHistory(runId, key, {
        maxResults:
          args.max_results === undefined ? undefined : checkMaxResults(args.max_results, 1, 25_000),
        pageToken: args.page_token || undefined,
      });
      return {
        metrics: result.items.map(metricJson),
        ...(result.nextPageToken ? { next_page_token: result.nextPageToken } : {}),
      };
    },
  ),
  route(
    ['GET'],
    'artifacts/list',
    z.object({ ...runIdFields, path: z.string().optional(), page_token: z.string().optional() }),
    (args, { tracking }) => {
      const runId = requireRunId(args);
      const info = tracking.getRunInfo(runId);
      return {
        root_uri: runArtifactUri(info),
        files: tracking.listArtifacts(runId, args.path ?? '').map((f) => ({
          path: f.path,
          is_dir: f.isDir,
          ...(f.sizeBytes === null ? {} : { file_size: f.sizeBytes }),
        })),
      };
    },
  ),
  // MLflow 3's register_model looks for a logged model when the run's folder has no
  // MLmodel; this store keeps models as run artifacts, so there are none to find.
  route(['POST'], 'logged-models/search', z.object({}), () => ({ models: [] })),
];
