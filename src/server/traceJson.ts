// Traces in MLflow's JSON shapes: TraceInfoV3 (`trace_id` tr-..., `request_time` RFC 3339,
// `execution_duration` "1.254s"), the older TraceInfo of the 2.0 API, and spans as
// OpenTelemetry's proto JSON the way MLflow's server answers batchGet (base64 ids, int64 as
// decimal strings, attribute values as AnyValue), plus the reverse for what clients send.

import type {
  Assessment,
  AttributeValue,
  Attributes,
  TraceSummary,
} from '../core/model/tracing.ts';
import type { TraceSpan } from '../core/tracing/traces.ts';

/** The trace's artifact folder as MLflow names it. */
export function traceArtifactUri(t: TraceSummary): string {
  return `mlflow-artifacts:/${t.experimentId ?? '0'}/traces/${t.requestId}/artifacts`;
}

/**
 * What MLflow's server adds to the tags it answers with. The spans are said to be in the
 * tracking store once some are: a client that has sent none (it does not speak OTLP, or they
 * are still on the way) uploads them as traces.json to the artifact location instead
 * (traceArtifacts.ts), and spans that arrive both ways are stored once.
 */
function answeredTags(t: TraceSummary): Record<string, string> {
  return {
    'mlflow.traceName': t.name,
    ...t.tags,
    ...(t.spanCount > 0 ? { 'mlflow.trace.spansLocation': 'TRACKING_STORE' } : {}),
    'mlflow.artifactLocation': traceArtifactUri(t),
  };
}

/** protobuf's Duration in JSON: seconds with up to 9 decimals and an `s`. */
export function durationJson(ms: number): string {
  const s = (Math.max(0, ms) / 1000).toFixed(9).replace(/\.?0+$/, '');
  return `${s}s`;
}

/** "1.254s" -> 1254; undefined when it is not a Duration. */
export function parseDuration(v: string): number | undefined {
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(v.trim());
  return m ? Number(m[1]) * 1000 : undefined;
}

/** RFC 3339 (`2026-12-04T13:31:56.119Z`) or epoch milliseconds -> epoch milliseconds. */
export function parseTimestamp(v: string | number): number | undefined {
  if (typeof v === 'number') return v;
  if (/^\d+$/.test(v)) return Number(v);
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

function assessmentJson(a: Assessment): Record<string, unknown> {
  const source = { source_type: a.source.type, source_id: a.source.id };
  return {
    assessment_id: a.assessmentId,
    assessment_name: a.name,
    trace_id: `tr-${a.traceId}`,
    ...(a.spanId ? { span_id: a.spanId } : {}),
    source,
    create_time: new Date(a.createdMs).toISOString(),
    last_update_time: new Date(a.createdMs).toISOString(),
    feedback: { value: a.value },
    rationale: a.rationale,
  };
}

export function traceInfoV3Json(
  t: TraceSummary,
  assessments: Assessment[] = [],
): Record<string, unknown> {
  return {
    trace_id: t.requestId,
    trace_location: {
      type: 'MLFLOW_EXPERIMENT',
      mlflow_experiment: { experiment_id: t.experimentId ?? '0' },
    },
    request_time: new Date(t.startMs).toISOString(),
    execution_duration: durationJson(t.durationMs),
    state: t.state,
    trace_metadata: t.metadata,
    tags: answeredTags(t),
    request_preview: t.inputPreview,
    response_preview: t.outputPreview,
    ...(assessments.length ? { assessments: assessments.map(assessmentJson) } : {}),
  };
}

const keyValues = (m: Record<string, string>) =>
  Object.entries(m).map(([key, value]) => ({ key, value }));

/** TraceInfo of the 2.0 API (request_id, timestamp_ms, status, key-value lists). */
export function traceInfoV2Json(t: TraceSummary): Record<string, unknown> {
  return {
    request_id: t.traceId,
    experiment_id: t.experimentId ?? '0',
    timestamp_ms: t.startMs,
    execution_time_ms: Math.round(t.durationMs),
    status: t.state,
    request_metadata: keyValues(t.metadata),
    tags: keyValues(answeredTags(t)),
  };
}

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/** A JSON value as an OpenTelemetry AnyValue in proto JSON (snake case, as MLflow writes it). */
export function anyValueJson(v: AttributeValue): Record<string, unknown> | undefined {
  if (v === null) return undefined;
  if (typeof v === 'string') return { string_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { int_value: v } : { double_value: v };
  if (Array.isArray(v)) return { array_value: { values: v.map((x) => anyValueJson(x) ?? {}) } };
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === 'bytes' && typeof v.bytes === 'string')
    return { bytes_value: v.bytes };
  return { kvlist_value: { values: attributesJson(v) } };
}

function attributesJson(a: Attributes): Record<string, unknown>[] {
  return Object.entries(a).map(([key, value]) => {
    const av = anyValueJson(value);
    return av ? { key, value: av } : { key };
  });
}

const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];

/** A span as MLflow's server answers it in batchGet. */
export function otelSpanJson(s: TraceSpan): Record<string, unknown> {
  return {
    trace_id: b64(s.traceId),
    span_id: b64(s.spanId),
    ...(s.traceState ? { trace_state: s.traceState } : {}),
    ...(s.parentSpanId ? { parent_span_id: b64(s.parentSpanId) } : {}),
    name: s.name,
    ...(s.kind ? { kind: KIND_NAMES[s.kind] ?? 'SPAN_KIND_UNSPECIFIED' } : {}),
    start_time_unix_nano: s.startNs,
    end_time_unix_nano: s.endNs,
    attributes: attributesJson(s.attributes),
    ...(s.events.length
      ? {
          events: s.events.map((e) => ({
            time_unix_nano: e.timeNs,
            name: e.name,
            attributes: attributesJson(e.attributes),
          })),
        }
      : {}),
    ...(s.links.length
      ? {
          links: s.links.map((l) => ({
            trace_id: b64(l.traceId),
            span_id: b64(l.spanId),
            attributes: attributesJson(l.attributes),
          })),
        }
      : {}),
    status: {
      ...(s.statusMessage ? { message: s.statusMessage } : {}),
      code: STATUS_NAMES[s.statusCode] ?? 'STATUS_CODE_UNSET',
    },
  };
}
