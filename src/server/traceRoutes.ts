// MLflow's trace endpoints on Traces: the 3.0 API its 3.x client uses (StartTraceV3,
// SearchTracesV3, batchGet, GetTraceInfoV3, assessments) and the 2.0 API it falls back to
// against older servers (StartTrace / EndTrace, GetTraceInfo, SearchTraces, trace tags,
// delete-traces, link-to-run). Spans arrive over OTLP (otlp/otlpRoute.ts) or, in the oldest
// flow, as the trace's traces.json artifact (traceArtifacts.ts).

import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { TraceState } from '../core/model/tracing.ts';
import { MAX_TRACE_RESULTS, normalizeTraceId } from '../core/tracing/traces.ts';
import type { Traces } from '../core/tracing/traces.ts';
import { invalidParameter, notFound } from './errors.ts';
import { route } from './route.ts';
import type { JsonRoute, RouteContext } from './route.ts';
import { idString, int64, keyValueList, list, required } from './schemas.ts';
import {
  otelSpanJson,
  parseDuration,
  parseTimestamp,
  traceInfoV2Json,
  traceInfoV3Json,
} from './traceJson.ts';

const STATES: readonly TraceState[] = ['OK', 'ERROR', 'IN_PROGRESS'];

/** MLflow's TraceState / TraceStatus by name (STATE_UNSPECIFIED and TRACE_STATUS_UNSPECIFIED: none). */
const traceState = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const byNumber = ['UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS'];
  const name = typeof v === 'number' ? byNumber[v] : v.toUpperCase();
  if (
    name === 'UNSPECIFIED' ||
    name === 'STATE_UNSPECIFIED' ||
    name === 'TRACE_STATUS_UNSPECIFIED'
  ) {
    return null;
  }
  if (!name || !STATES.includes(name as TraceState)) {
    ctx.addIssue({ code: 'custom', message: `expected one of ${STATES.join(', ')}` });
    return z.NEVER;
  }
  return name as TraceState;
});

const stringMap = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean()]).transform(String),
);

const location = z
  .object({
    type: z.string().optional(),
    mlflow_experiment: z.object({ experiment_id: idString }).optional(),
  })
  .passthrough();

function traceIdArg(v: string | undefined, name = 'trace_id'): string {
  const id = normalizeTraceId(required(v, name));
  if (!id) {
    throw invalidParameter(
      `Invalid value '${v}' for parameter '${name}': a trace id is tr-<32 hex digits> or 32 hex digits.`,
    );
  }
  return id;
}

function mustGet(traces: Traces, id: string) {
  const t = traces.summary(id);
  if (!t) throw notFound(`Trace with ID ${id.startsWith('tr-') ? id : `tr-${id}`} not found.`);
  return t;
}

function experimentIdsOf(args: {
  locations?: z.output<typeof location>[];
  experiment_ids?: string[];
}): string[] {
  const fromLocations = (args.locations ?? [])
    .map((l) => l.mlflow_experiment?.experiment_id)
    .filter((id): id is string => typeof id === 'string');
  return [...fromLocations, ...(args.experiment_ids ?? [])];
}

const searchArgs = z.object({
  locations: list(location),
  experiment_ids: list(idString),
  filter: z.string().optional(),
  max_results: int64.optional(),
  order_by: list(z.string()),
  page_token: z.string().optional(),
});

function search(ctx: RouteContext, args: z.output<typeof searchArgs>) {
  const max = args.max_results ?? 100;
  if (max < 1 || max > MAX_TRACE_RESULTS) {
    throw invalidParameter(
      `Invalid value ${max} for parameter 'max_results': it must be between 1 and ${MAX_TRACE_RESULTS}.`,
    );
  }
  return ctx.tracking.traces.search({
    experimentIds: experimentIdsOf(args),
    filter: args.filter,
    orderBy: args.order_by,
    maxResults: max,
    pageToken: args.page_token,
  });
}

const assessmentBody = z
  .object({
    assessment_name: z.string().optional(),
    name: z.string().optional(),
    span_id: z.string().optional(),
    rationale: z.string().optional(),
    source: z
      .object({ source_type: z.string().optional(), source_id: z.string().optional() })
      .passthrough()
      .optional(),
    feedback: z.object({ value: z.unknown().optional() }).passthrough().optional(),
    expectation: z.object({ value: z.unknown().optional() }).passthrough().optional(),
  })
  .passthrough();

type AssessmentBody = z.output<typeof assessmentBody>;

function assessmentValue(a: AssessmentBody): boolean | number | string | null {
  const v = a.feedback?.value ?? a.expectation?.value ?? null;
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string')
    return v;
  return JSON.stringify(v);
}

function sourceType(a: AssessmentBody): 'HUMAN' | 'LLM_JUDGE' | 'CODE' {
  const t = (a.source?.source_type ?? 'HUMAN').toUpperCase();
  return t === 'LLM_JUDGE' || t === 'CODE' ? t : 'HUMAN';
}

async function saveAssessment(
  ctx: RouteContext,
  traceId: string,
  a: AssessmentBody,
  assessmentId?: string,
) {
  const name = a.assessment_name ?? a.name;
  const saved = await ctx.tracking.traces.assess({
    assessmentId,
    traceId,
    spanId: a.span_id ?? null,
    name: required(name, 'assessment.assessment_name'),
    value: assessmentValue(a),
    rationale: a.rationale ?? '',
    source: { type: sourceType(a), id: a.source?.source_id ?? 'unknown' },
  });
  const info = traceInfoV3Json(mustGet(ctx.tracking.traces, traceId), [saved]) as {
    assessments: unknown[];
  };
  return { assessment: info.assessments[0] };
}

// ---------------------------------------------------------------- 3.0

const v3: JsonRoute[] = [
  route(
    ['POST'],
    'traces',
    z.object({
      trace: z.object({
        trace_info: z
          .object({
            trace_id: z.string(),
            trace_location: location.optional(),
            request_time: z.union([z.string(), z.number()]).optional(),
            execution_duration: z.string().optional(),
            state: traceState.optional(),
            trace_metadata: stringMap.optional(),
            tags: stringMap.optional(),
            request_preview: z.string().optional(),
            response_preview: z.string().optional(),
          })
          .passthrough(),
      }),
    }),
    async ({ trace: { trace_info: info } }, ctx) => {
      const startMs =
        info.request_time === undefined ? undefined : parseTimestamp(info.request_time);
      if (info.request_time !== undefined && startMs === undefined) {
        throw invalidParameter(
          `Invalid value '${info.request_time}' for parameter 'trace_info.request_time': expected an RFC 3339 time.`,
        );
      }
      const durationMs =
        info.execution_duration === undefined ? undefined : parseDuration(info.execution_duration);
      if (info.execution_duration !== undefined && durationMs === undefined) {
        throw invalidParameter(
          `Invalid value '${info.execution_duration}' for parameter 'trace_info.execution_duration': expected a duration such as "1.25s".`,
        );
      }
      const saved = await ctx.tracking.traces.setInfo({
        traceId: traceIdArg(info.trace_id, 'trace_info.trace_id'),
        experimentId: info.trace_location?.mlflow_experiment?.experiment_id ?? null,
        state: info.state ?? null,
        startMs: startMs ?? null,
        durationMs: durationMs ?? null,
        requestPreview: info.request_preview ?? null,
        responsePreview: info.response_preview ?? null,
        tags: info.tags,
        metadata: info.trace_metadata,
      });
      return { trace: { trace_info: traceInfoV3Json(saved) } };
    },
    '3.0',
  ),
  route(
    ['POST'],
    'traces/search',
    searchArgs,
    (args, ctx) => {
      const page = search(ctx, args);
      return {
        traces: page.traces.map((t) => traceInfoV3Json(t)),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
    '3.0',
  ),
  route(
    ['GET'],
    'traces/batchGet',
    z.object({ trace_ids: list(z.string()) }),
    ({ trace_ids }, ctx) => {
      const ids = (trace_ids ?? []).map((id) => traceIdArg(id, 'trace_ids'));
      return {
        traces: ids
          .map((id) => ctx.tracking.traces.get(id))
          .filter((d) => d !== undefined)
          .map((d) => ({
            trace_info: traceInfoV3Json(d.summary, d.assessments),
            spans: d.spans.map(otelSpanJson),
          })),
      };
    },
    '3.0',
  ),
  route(
    ['GET'],
    'traces/{trace_id}',
    z.object({ trace_id: z.string() }).passthrough(),
    ({ trace_id }, ctx) => {
      const id = traceIdArg(trace_id);
      const t = mustGet(ctx.tracking.traces, id);
      return {
        trace: { trace_info: traceInfoV3Json(t, ctx.tracking.store.reader.traces.assessments(id)) },
      };
    },
    '3.0',
  ),
  route(
    ['POST'],
    'traces/{trace_id}/assessments',
    z.object({ trace_id: z.string(), assessment: assessmentBody }),
    ({ trace_id, assessment }, ctx) => saveAssessment(ctx, traceIdArg(trace_id), assessment),
    '3.0',
  ),
  route(
    ['GET', 'DELETE', 'PATCH'],
    'traces/{trace_id}/assessments/{assessment_id}',
    z
      .object({
        trace_id: z.string(),
        assessment_id: z.string(),
        assessment: assessmentBody.optional(),
      })
      .passthrough(),
    async ({ trace_id, assessment_id, assessment }, ctx) => {
      const id = traceIdArg(trace_id);
      const existing = ctx.tracking.store.reader.traces
        .assessments(id)
        .find((a) => a.assessmentId === assessment_id);
      if (!existing) throw notFound(`Assessment ${assessment_id} of trace tr-${id} not found.`);
      if (assessment) {
        return saveAssessment(
          ctx,
          id,
          {
            assessment_name: existing.name,
            rationale: existing.rationale,
            feedback: { value: existing.value },
            source: { source_type: existing.source.type, source_id: existing.source.id },
            ...assessment,
          },
          assessment_id,
        );
      }
      const info = traceInfoV3Json(mustGet(ctx.tracking.traces, id), [existing]) as {
        assessments: unknown[];
      };
      return { assessment: info.assessments[0] };
    },
    '3.0',
  ),
];

// ---------------------------------------------------------------- 2.0

const tagArgs = z
  .object({ request_id: z.string(), key: z.string().optional(), value: z.string().optional() })
  .passthrough();

const v2: JsonRoute[] = [
  route(
    ['POST'],
    'traces',
    z.object({
      experiment_id: idString.optional(),
      timestamp_ms: int64.optional(),
      request_metadata: keyValueList,
      tags: keyValueList,
    }),
    async (args, ctx) => {
      const traceId = randomBytes(16).toString('hex');
      const saved = await ctx.tracking.traces.setInfo({
        traceId,
        experimentId: args.experiment_id ?? '0',
        state: 'IN_PROGRESS',
        startMs: args.timestamp_ms ?? Date.now(),
        tags: Object.fromEntries((args.tags ?? []).map((t) => [t.key, t.value])),
        metadata: Object.fromEntries((args.request_metadata ?? []).map((t) => [t.key, t.value])),
      });
      return { trace_info: traceInfoV2Json(saved) };
    },
  ),
  route(['GET'], 'traces', searchArgs, (args, ctx) => {
    const page = search(ctx, args);
    return {
      traces: page.traces.map(traceInfoV2Json),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  }),
  route(
    ['POST'],
    'traces/delete-traces',
    z.object({
      experiment_id: idString.optional(),
      max_timestamp_millis: int64.optional(),
      max_traces: int64.optional(),
      request_ids: list(z.string()),
    }),
    async (args, ctx) => {
      const traces = ctx.tracking.traces;
      let ids: string[];
      if (args.request_ids?.length) {
        if (args.max_timestamp_millis !== undefined) {
          throw invalidParameter('Give either request_ids or max_timestamp_millis, not both.');
        }
        ids = args.request_ids.map((id) => traceIdArg(id, 'request_ids'));
      } else {
        const before = required(args.max_timestamp_millis, 'max_timestamp_millis');
        ids = traces
          .search({
            experimentIds: args.experiment_id ? [args.experiment_id] : [],
            filter: `trace.timestamp_ms <= ${before}`,
            orderBy: ['trace.timestamp_ms ASC'],
            maxResults: Math.min(args.max_traces ?? MAX_TRACE_RESULTS, MAX_TRACE_RESULTS),
          })
          .traces.map((t) => t.traceId);
      }
      return { traces_deleted: await traces.delete(ids) };
    },
  ),
  route(
    ['POST'],
    'traces/link-to-run',
    z.object({ trace_ids: list(z.string()), run_id: z.string() }),
    async ({ trace_ids, run_id }, ctx) => {
      ctx.tracking.getRunInfo(run_id);
      for (const id of trace_ids ?? []) {
        const traceId = traceIdArg(id, 'trace_ids');
        mustGet(ctx.tracking.traces, traceId);
        await ctx.tracking.traces.setInfo({ traceId, metadata: { 'mlflow.sourceRun': run_id } });
      }
      return {};
    },
  ),
  route(
    ['PATCH'],
    'traces/{request_id}',
    z.object({
      request_id: z.string(),
      timestamp_ms: int64.optional(),
      status: traceState.optional(),
      request_metadata: keyValueList,
      tags: keyValueList,
    }),
    async (args, ctx) => {
      const id = traceIdArg(args.request_id, 'request_id');
      const t = mustGet(ctx.tracking.traces, id);
      const saved = await ctx.tracking.traces.setInfo({
        traceId: id,
        state: args.status ?? 'OK',
        durationMs:
          args.timestamp_ms !== undefined ? Math.max(0, args.timestamp_ms - t.startMs) : null,
        tags: Object.fromEntries((args.tags ?? []).map((x) => [x.key, x.value])),
        metadata: Object.fromEntries((args.request_metadata ?? []).map((x) => [x.key, x.value])),
      });
      return { trace_info: traceInfoV2Json(saved) };
    },
  ),
  route(
    ['GET'],
    'traces/{request_id}/info',
    z.object({ request_id: z.string() }).passthrough(),
    ({ request_id }, ctx) => ({
      trace_info: traceInfoV2Json(
        mustGet(ctx.tracking.traces, traceIdArg(request_id, 'request_id')),
      ),
    }),
  ),
  route(['PATCH'], 'traces/{request_id}/tags', tagArgs, async (args, ctx) => {
    const id = traceIdArg(args.request_id, 'request_id');
    mustGet(ctx.tracking.traces, id);
    await ctx.tracking.traces.setTag(id, required(args.key, 'key'), args.value ?? '');
    return {};
  }),
  route(['DELETE'], 'traces/{request_id}/tags', tagArgs, async (args, ctx) => {
    const id = traceIdArg(args.request_id, 'request_id');
    mustGet(ctx.tracking.traces, id);
    await ctx.tracking.traces.deleteTag(id, required(args.key, 'key'));
    return {};
  }),
];

export const traceRoutes: JsonRoute[] = [...v3, ...v2];
