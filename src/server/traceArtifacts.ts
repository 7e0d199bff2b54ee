// A trace's `traces.json` through the artifact proxy: the oldest way MLflow's clients send
// spans, and how its 2.x clients read them back. A client that does not send spans over OTLP
// (a 2.x client, or a 3.x one against a server it takes for older than 3.4) starts the trace
// (StartTrace / StartTraceV3), is told the trace's artifact location
// (`mlflow-artifacts:/<experiment>/traces/<trace id>/artifacts`), and PUTs the spans there
// as `{"spans": [...]}` in one of the dict forms of mlflow.entities.Span:
//  - 2.x: `context: {trace_id, span_id}` and `parent_id` as 0x-hex, `start_time`/`end_time`
//    in ns, `status_code` ("OK"), `events[].timestamp`;
//  - 3.x: `trace_id`/`span_id`/`parent_span_id` as base64 bytes, `start_time_unix_nano`,
//    `status.code` ("STATUS_CODE_OK"), `events[].time_unix_nano`;
//  - later 3.x: the same with hex ids, `otel_trace_id` and `status.code` "OK".
// Attribute values are JSON texts, as MLflow keeps them. The spans are stored like any others
// (under the trace the path names); a GET answers them in the 2.x form, which every client
// reads.

import type * as http from 'node:http';
import { z } from 'zod';
import type { AttributeValue, SpanEvent, SpanRecord, StatusCode } from '../core/model/tracing.ts';
import { normalizeTraceId } from '../core/tracing/traces.ts';
import type { TraceDetail } from '../core/tracing/traces.ts';
import { invalidParameter, notFound } from './errors.ts';
import type { RouteContext } from './route.ts';

export const TRACE_DATA_FILE = 'traces.json';
/** The most a traces.json upload may hold. */
export const MAX_TRACE_DATA_BYTES = 128 << 20;

/** `<experiment>/traces/<trace id>/artifacts/<rest>`: a trace's artifact path, or null. */
export function traceArtifactPath(
  segments: readonly string[],
): { experimentId: string; traceId: string; rest: string[] } | null {
  const [experimentId, traces, id, artifacts, ...rest] = segments;
  if (traces !== 'traces' || artifacts !== 'artifacts' || !experimentId || !id) return null;
  const traceId = normalizeTraceId(id);
  if (!traceId) return null;
  return { experimentId, traceId, rest };
}

// ---------------------------------------------------------------- reading uploads

const attributeMap = z.record(z.string(), z.unknown()).nullish();
const nanos = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).nullish();
const eventList = z
  .array(
    z
      .object({
        name: z.string(),
        timestamp: nanos,
        time_unix_nano: nanos,
        attributes: attributeMap,
      })
      .passthrough(),
  )
  .nullish();
const spanDict = z
  .object({
    name: z.string(),
    // 2.x
    context: z.object({ trace_id: z.string().optional(), span_id: z.string() }).optional(),
    parent_id: z.string().nullish(),
    start_time: nanos,
    end_time: nanos,
    status_code: z.union([z.string(), z.number()]).nullish(),
    status_message: z.string().nullish(),
    // 3.x
    span_id: z.string().optional(),
    parent_span_id: z.string().nullish(),
    start_time_unix_nano: nanos,
    end_time_unix_nano: nanos,
    status: z
      .object({ code: z.union([z.string(), z.number()]).nullish(), message: z.string().nullish() })
      .nullish(),
    attributes: attributeMap,
    events: eventList,
  })
  .passthrough();
const traceData = z.object({ spans: z.array(z.unknown()) }).passthrough();

const TIME_KEYS =
  'start_time|end_time|timestamp|start_time_unix_nano|end_time_unix_nano|time_unix_nano';
/**
 * Nanoseconds since the epoch are 19 digits, past what a JSON number keeps exactly in
 * JavaScript: the times are quoted before parsing (keys inside JSON strings have escaped
 * quotes and are left alone).
 */
function quoteNanos(text: string): string {
  return text.replace(
    new RegExp(`(?<!\\\\)"(${TIME_KEYS})"(\\s*):(\\s*)(\\d{16,})`, 'g'),
    '"$1"$2:$3"$4"',
  );
}

/**
 * An id as MLflow's dicts write it (0x-hex, hex of the full width, or base64 of the bytes)
 * to lower-case hex; undefined when it is none of them.
 */
function idHex(v: string, bytes: number): string | undefined {
  const prefixed = /^0x([0-9a-f]+)$/i.exec(v);
  if (prefixed && prefixed[1]!.length <= bytes * 2) {
    return prefixed[1]!.toLowerCase().padStart(bytes * 2, '0');
  }
  if (v.length === bytes * 2 && /^[0-9a-f]+$/i.test(v)) return v.toLowerCase();
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) {
    const b = Buffer.from(v, 'base64');
    if (b.length === bytes) return b.toString('hex');
  }
  return undefined;
}

/** OpenTelemetry's status code from MLflow's names (OK, STATUS_CODE_OK, 1, ...). */
function statusOf(v: string | number | null | undefined): StatusCode {
  const s = String(v ?? '').toUpperCase();
  if (s === 'ERROR' || s === 'STATUS_CODE_ERROR' || s === '2') return 2;
  if (s === 'OK' || s === 'STATUS_CODE_OK' || s === '1') return 1;
  return 0;
}

const asAttributes = (a: Record<string, unknown> | null | undefined) =>
  (a ?? {}) as Record<string, AttributeValue>;

export interface TraceDataSpans {
  spans: SpanRecord[];
  rejected: { spanId: string; reason: string }[];
}

/**
 * The spans of a traces.json document, as records of the trace `traceId` (the trace the
 * upload's path names: a 2.x client's spans carry their own OpenTelemetry trace id, and the
 * server gave the trace another). Throws when the document is not trace data at all.
 */
export function parseTraceData(text: string, traceId: string): TraceDataSpans {
  let doc: unknown;
  try {
    doc = JSON.parse(quoteNanos(text));
  } catch (e) {
    throw invalidParameter(`${TRACE_DATA_FILE} is not JSON (${(e as Error).message}).`);
  }
  const top = traceData.safeParse(doc);
  if (!top.success) {
    throw invalidParameter(
      `${TRACE_DATA_FILE} is not MLflow trace data: expected {"spans": [...]}.`,
    );
  }
  const out: TraceDataSpans = { spans: [], rejected: [] };
  top.data.spans.forEach((raw, index) => {
    const parsed = spanDict.safeParse(raw);
    const shownId = (raw as { span_id?: unknown; context?: { span_id?: unknown } } | null)?.span_id;
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      out.rejected.push({
        spanId: typeof shownId === 'string' ? shownId : '',
        reason: `spans[${index}].${issue.path.join('.') || '(span)'}: ${issue.message}`,
      });
      return;
    }
    const s = parsed.data;
    const v2 = s.context !== undefined;
    const rawId = v2 ? s.context!.span_id : s.span_id;
    const rawParent = v2 ? s.parent_id : s.parent_span_id;
    const spanId = rawId === undefined ? undefined : idHex(rawId, 8);
    if (!spanId) {
      out.rejected.push({
        spanId: rawId ?? '',
        reason: `spans[${index}]: span id '${rawId ?? ''}' is not 8 bytes of hex or base64`,
      });
      return;
    }
    const parentSpanId = rawParent ? idHex(rawParent, 8) : null;
    if (parentSpanId === undefined) {
      out.rejected.push({
        spanId,
        reason: `spans[${index}]: parent span id '${rawParent}' is not 8 bytes of hex or base64`,
      });
      return;
    }
    const start = v2 ? s.start_time : s.start_time_unix_nano;
    const end = v2 ? s.end_time : s.end_time_unix_nano;
    if (start === undefined || start === null) {
      out.rejected.push({
        spanId,
        reason: `spans[${index}]: no ${v2 ? 'start_time' : 'start_time_unix_nano'}`,
      });
      return;
    }
    const events: SpanEvent[] = (s.events ?? []).map((e) => ({
      name: e.name,
      timeNs: String(e.time_unix_nano ?? e.timestamp ?? start),
      attributes: asAttributes(e.attributes),
    }));
    out.spans.push({
      traceId,
      spanId,
      parentSpanId: parentSpanId === '0000000000000000' ? null : parentSpanId,
      name: s.name,
      kind: 1,
      startNs: String(start),
      // A span the client had not ended has no end: it ends where it starts.
      endNs: String(end ?? start),
      statusCode: statusOf(v2 ? s.status_code : s.status?.code),
      statusMessage: (v2 ? s.status_message : s.status?.message) ?? '',
      traceState: '',
      attributes: asAttributes(s.attributes),
      events,
      links: [],
      resource: {},
      scope: null,
      dropped: { attributes: 0, events: 0, links: 0 },
    });
  });
  return out;
}

// ---------------------------------------------------------------- answering reads

/** An attribute as MLflow keeps it: JSON text (strings that already are JSON stay as sent). */
function jsonText(v: AttributeValue): string {
  if (typeof v === 'string') {
    try {
      JSON.parse(v);
      return v;
    } catch {
      return JSON.stringify(v);
    }
  }
  return JSON.stringify(v);
}

const STATUS_NAMES = ['UNSET', 'OK', 'ERROR'] as const;
/** A time written as a JSON number with every digit (see quoteNanos). */
const NS_MARK = '\u0000ns:';
const exactNs = (ns: string) => `${NS_MARK}${ns}`;

/** The trace's spans as MLflow 2.x writes traces.json (3.x clients read this form too). */
export function traceDataJson(d: TraceDetail): string {
  const hexTrace = `0x${d.summary.traceId}`;
  const requestId = JSON.stringify(d.summary.requestId);
  const text = JSON.stringify({
    spans: d.spans.map((s) => ({
      name: s.name,
      context: { span_id: `0x${s.spanId}`, trace_id: hexTrace },
      parent_id: s.parentSpanId ? `0x${s.parentSpanId}` : null,
      start_time: exactNs(s.startNs),
      end_time: exactNs(s.endNs),
      status_code: STATUS_NAMES[s.statusCode] ?? 'UNSET',
      status_message: s.statusMessage,
      attributes: {
        'mlflow.traceRequestId': requestId,
        ...Object.fromEntries(Object.entries(s.attributes).map(([k, v]) => [k, jsonText(v)])),
      },
      events: s.events.map((e) => ({
        name: e.name,
        timestamp: exactNs(e.timeNs),
        attributes: e.attributes,
      })),
    })),
  });
  return text.replace(/"\\u0000ns:(\d+)"/g, '$1');
}

// ---------------------------------------------------------------- the proxy paths

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_TRACE_DATA_BYTES) {
      throw invalidParameter(
        `${TRACE_DATA_FILE} is over the ${MAX_TRACE_DATA_BYTES} byte limit; send the spans over OTLP (/v1/traces) instead.`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** GET or PUT of `<experiment>/traces/<trace id>/artifacts/traces.json`. */
export async function handleTraceArtifact(
  method: string,
  where: { experimentId: string; traceId: string; rest: string[] },
  shown: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: RouteContext,
): Promise<void> {
  const traces = ctx.tracking.traces;
  const summary = traces.summary(where.traceId);
  if (!summary) throw notFound(`Trace with ID tr-${where.traceId} not found.`);
  if ((summary.experimentId ?? '0') !== where.experimentId) {
    throw notFound(`Trace tr-${where.traceId} is not in experiment ${where.experimentId}.`);
  }
  if (where.rest.length !== 1 || where.rest[0] !== TRACE_DATA_FILE) {
    throw invalidParameter(
      `Invalid artifact path '${shown}': a trace's artifacts hold only ${TRACE_DATA_FILE}.`,
    );
  }
  if (method === 'GET') {
    const body = traceDataJson(traces.get(where.traceId)!);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(body);
    return;
  }
  if (method !== 'PUT') {
    throw invalidParameter(`A trace's ${TRACE_DATA_FILE} takes GET or PUT, not ${method}.`);
  }
  const data = parseTraceData(await readBody(req), where.traceId);
  const result = await traces.ingest(data.spans, { experimentId: summary.experimentId });
  const rejected = [...data.rejected, ...result.rejected];
  if (rejected.length > 0) {
    ctx.logger.warn(
      `[traces] ${TRACE_DATA_FILE} of tr-${where.traceId}: refused ${rejected.length} of ${data.spans.length + data.rejected.length} spans: ${rejected[0]!.reason}`,
    );
    throw invalidParameter(
      `${rejected.length} span(s) of ${TRACE_DATA_FILE} were refused (the other ${result.accepted} were stored): ` +
        rejected
          .slice(0, 5)
          .map((r) => `${r.spanId ? `span ${r.spanId}: ` : ''}${r.reason}`)
          .join('; '),
    );
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 2 });
  res.end('{}');
}
