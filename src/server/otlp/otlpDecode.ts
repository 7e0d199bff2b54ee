// OTLP/HTTP trace bodies to span records: `application/x-protobuf` decoded by protobufjs with
// the official opentelemetry-proto definitions (otlpTrace.json, generated from proto/ by
// scripts/otlp-protos.mjs), and `application/json` in OTLP's JSON mapping (hex ids, int64 as
// strings or numbers, enums as numbers), validated with zod. Both give the same records; a
// span whose ids are malformed is set aside with its reason, a body that does not decode is
// an OtlpDecodeError.

import protobuf from 'protobufjs/light.js';
import { z } from 'zod';
import type {
  AttributeValue,
  Attributes,
  InstrumentationScope,
  SpanEvent,
  SpanLink,
  SpanRecord,
  StatusCode,
} from '../../core/model/tracing.ts';
import descriptor from './otlpTrace.json';

export class OtlpDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OtlpDecodeError';
  }
}

export interface DecodedSpans {
  spans: SpanRecord[];
  /** Spans that could not become records (bad ids), with why. */
  rejected: { traceId: string; spanId: string; reason: string }[];
}

let root: protobuf.Root | undefined;
function otlpType(name: 'ExportTraceServiceRequest' | 'ExportTraceServiceResponse'): protobuf.Type {
  root ??= protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
  return root.lookupType(`opentelemetry.proto.collector.trace.v1.${name}`);
}
const exportRequestType = () => otlpType('ExportTraceServiceRequest');

/** ExportTraceServiceResponse in protobuf: empty when every span was taken. */
export function encodeExportResponse(
  partial: { rejectedSpans: number; errorMessage: string } | undefined,
): Uint8Array {
  const type = otlpType('ExportTraceServiceResponse');
  return type.encode(type.create(partial ? { partialSuccess: partial } : {})).finish();
}

// ---------------------------------------------------------------- shared normalisation

/** A decoded message in protobufjs's object form (camelCase), or OTLP JSON (either case). */
type Obj = Record<string, unknown>;

const snakeNames = new Map<string, string>();
const field = (o: Obj, camel: string): unknown => {
  const v = o[camel];
  if (v !== undefined) return v;
  let snake = snakeNames.get(camel);
  if (snake === undefined) {
    snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeNames.set(camel, snake);
  }
  return o[snake];
};

const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const asList = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(asObj) : []);

/** An int64 as a number when exact, else its decimal text. */
function int64(v: unknown): number | string {
  const s = typeof v === 'string' ? v : typeof v === 'number' ? String(Math.trunc(v)) : String(v);
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
}

function anyValue(v: unknown): AttributeValue {
  const o = asObj(v);
  const has = (k: string) => field(o, k) !== undefined;
  if (has('stringValue')) return String(field(o, 'stringValue'));
  if (has('boolValue')) return Boolean(field(o, 'boolValue'));
  if (has('intValue')) return int64(field(o, 'intValue'));
  if (has('doubleValue')) {
    const d = field(o, 'doubleValue');
    // OTLP JSON writes NaN and infinities as strings.
    return typeof d === 'number' ? d : Number(d);
  }
  if (has('arrayValue'))
    return asList(field(asObj(field(o, 'arrayValue')), 'values')).map(anyValue);
  if (has('kvlistValue')) return keyValues(field(asObj(field(o, 'kvlistValue')), 'values'));
  if (has('bytesValue')) {
    const b = field(o, 'bytesValue');
    return { bytes: typeof b === 'string' ? b : Buffer.from(b as Uint8Array).toString('base64') };
  }
  return null;
}

function keyValues(list: unknown): Attributes {
  const out: Attributes = {};
  for (const kv of asList(list)) {
    const key = field(kv, 'key');
    if (typeof key !== 'string') continue;
    out[key] = anyValue(field(kv, 'value'));
  }
  return out;
}

type IdReader = (v: unknown) => string;

function nanos(v: unknown): string {
  if (v === undefined || v === null || v === '') return '0';
  const s = String(v);
  if (!/^\d+$/.test(s))
    throw new OtlpDecodeError(`a time is not nanoseconds since the epoch: ${JSON.stringify(v)}`);
  return s.replace(/^0+(?=\d)/, '');
}

function statusCode(v: unknown): StatusCode {
  if (v === 2 || v === 'STATUS_CODE_ERROR') return 2;
  if (v === 1 || v === 'STATUS_CODE_OK') return 1;
  return 0;
}

function kind(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 5) return v;
  const names = [
    'SPAN_KIND_UNSPECIFIED',
    'SPAN_KIND_INTERNAL',
    'SPAN_KIND_SERVER',
    'SPAN_KIND_CLIENT',
    'SPAN_KIND_PRODUCER',
    'SPAN_KIND_CONSUMER',
  ];
  const i = names.indexOf(String(v));
  return i < 0 ? 0 : i;
}

/** Walks ResourceSpans -> ScopeSpans -> Span (also the deprecated InstrumentationLibrarySpans). */
function toRecords(request: Obj, id: IdReader): DecodedSpans {
  const spans: SpanRecord[] = [];
  const rejected: DecodedSpans['rejected'] = [];
  for (const rs of asList(field(request, 'resourceSpans'))) {
    const resource = keyValues(field(asObj(field(rs, 'resource')), 'attributes'));
    const groups = [
      ...asList(field(rs, 'scopeSpans')).map((g) => ({
        scope: field(g, 'scope'),
        spans: field(g, 'spans'),
      })),
      ...asList(field(rs, 'instrumentationLibrarySpans')).map((g) => ({
        scope: field(g, 'instrumentationLibrary'),
        spans: field(g, 'spans'),
      })),
    ];
    for (const group of groups) {
      const s = asObj(group.scope);
      const scope: InstrumentationScope | null =
        group.scope === undefined || group.scope === null
          ? null
          : {
              name: String(field(s, 'name') ?? ''),
              version: String(field(s, 'version') ?? ''),
              attributes: keyValues(field(s, 'attributes')),
            };
      for (const span of asList(group.spans)) {
        let traceId = '';
        let spanId = '';
        try {
          traceId = id(field(span, 'traceId'));
          spanId = id(field(span, 'spanId'));
          if (traceId.length !== 32)
            throw new OtlpDecodeError(
              `trace id '${traceId}' is ${traceId.length / 2} bytes, not 16`,
            );
          if (spanId.length !== 16)
            throw new OtlpDecodeError(`span id '${spanId}' is ${spanId.length / 2} bytes, not 8`);
          const parent = id(field(span, 'parentSpanId'));
          if (parent !== '' && parent.length !== 16) {
            throw new OtlpDecodeError(
              `parent span id '${parent}' is ${parent.length / 2} bytes, not 8`,
            );
          }
          const status = asObj(field(span, 'status'));
          spans.push({
            traceId,
            spanId,
            parentSpanId: parent === '' || /^0+$/.test(parent) ? null : parent,
            name: String(field(span, 'name') ?? ''),
            kind: kind(field(span, 'kind')),
            startNs: nanos(field(span, 'startTimeUnixNano')),
            endNs: nanos(field(span, 'endTimeUnixNano')),
            statusCode: statusCode(field(status, 'code')),
            statusMessage: String(field(status, 'message') ?? ''),
            traceState: String(field(span, 'traceState') ?? ''),
            attributes: keyValues(field(span, 'attributes')),
            events: asList(field(span, 'events')).map((e): SpanEvent => ({
              name: String(field(e, 'name') ?? ''),
              timeNs: nanos(field(e, 'timeUnixNano')),
              attributes: keyValues(field(e, 'attributes')),
            })),
            links: asList(field(span, 'links')).map((l): SpanLink => ({
              traceId: id(field(l, 'traceId')),
              spanId: id(field(l, 'spanId')),
              traceState: String(field(l, 'traceState') ?? ''),
              attributes: keyValues(field(l, 'attributes')),
            })),
            resource,
            scope,
            dropped: {
              attributes: Number(field(span, 'droppedAttributesCount') ?? 0),
              events: Number(field(span, 'droppedEventsCount') ?? 0),
              links: Number(field(span, 'droppedLinksCount') ?? 0),
            },
          });
        } catch (e) {
          if (!(e instanceof OtlpDecodeError)) throw e;
          rejected.push({ traceId, spanId, reason: e.message });
        }
      }
    }
  }
  return { spans, rejected };
}

// ---------------------------------------------------------------- protobuf

const hexOfBytes: IdReader = (v) => {
  if (v === undefined || v === null) return '';
  return Buffer.from(v as Uint8Array).toString('hex');
};

/**
 * Decoded protobuf messages read directly (no toObject copy): a field is set when it is an
 * own property (unset ones read the prototype's defaults), 64-bit integers are Long objects
 * or numbers, bytes are Uint8Arrays. Only the fields toRecords reads are converted.
 */
const own = (o: Obj, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function longText(v: unknown): string {
  if (v === undefined || v === null) return '0';
  if (typeof v === 'number') return String(Math.trunc(v));
  return String(v); // Long.toString(): decimal, unsigned for fixed64
}

function anyValueFromMessage(v: unknown): Obj {
  const o = asObj(v);
  if (own(o, 'stringValue')) return { stringValue: o.stringValue };
  if (own(o, 'boolValue')) return { boolValue: o.boolValue };
  if (own(o, 'intValue')) return { intValue: longText(o.intValue) };
  if (own(o, 'doubleValue')) return { doubleValue: o.doubleValue };
  if (own(o, 'arrayValue')) {
    return { arrayValue: { values: asList(asObj(o.arrayValue).values).map(anyValueFromMessage) } };
  }
  if (own(o, 'kvlistValue'))
    return { kvlistValue: { values: kvFromMessage(asObj(o.kvlistValue).values) } };
  if (own(o, 'bytesValue')) return { bytesValue: o.bytesValue };
  return {};
}

function kvFromMessage(list: unknown): Obj[] {
  return asList(list).map((kv) => ({ key: kv.key, value: anyValueFromMessage(kv.value) }));
}

/** The decoded request in the plain shape toRecords reads (the JSON path's shape). */
function plainRequest(message: Obj): Obj {
  const span = (sp: Obj): Obj => ({
    traceId: sp.traceId,
    spanId: sp.spanId,
    parentSpanId: sp.parentSpanId,
    name: sp.name,
    kind: sp.kind,
    traceState: sp.traceState,
    startTimeUnixNano: longText(sp.startTimeUnixNano),
    endTimeUnixNano: longText(sp.endTimeUnixNano),
    attributes: kvFromMessage(sp.attributes),
    droppedAttributesCount: sp.droppedAttributesCount,
    droppedEventsCount: sp.droppedEventsCount,
    droppedLinksCount: sp.droppedLinksCount,
    events: asList(sp.events).map((e) => ({
      name: e.name,
      timeUnixNano: longText(e.timeUnixNano),
      attributes: kvFromMessage(e.attributes),
    })),
    links: asList(sp.links).map((l) => ({
      traceId: l.traceId,
      spanId: l.spanId,
      traceState: l.traceState,
      attributes: kvFromMessage(l.attributes),
    })),
    status: own(sp, 'status')
      ? { code: asObj(sp.status).code, message: asObj(sp.status).message }
      : {},
  });
  const group = (g: Obj, scopeKey: string): Obj => ({
    [scopeKey]: own(g, scopeKey)
      ? {
          name: asObj(g[scopeKey]).name,
          version: asObj(g[scopeKey]).version,
          attributes: kvFromMessage(asObj(g[scopeKey]).attributes),
        }
      : undefined,
    spans: asList(g.spans).map(span),
  });
  return {
    resourceSpans: asList(message.resourceSpans).map((rs) => ({
      resource: own(rs, 'resource')
        ? { attributes: kvFromMessage(asObj(rs.resource).attributes) }
        : undefined,
      scopeSpans: asList(rs.scopeSpans).map((g) => group(g, 'scope')),
      instrumentationLibrarySpans: asList(rs.instrumentationLibrarySpans).map((g) =>
        group(g, 'instrumentationLibrary'),
      ),
    })),
  };
}

/** Decodes an ExportTraceServiceRequest in protobuf's binary form. */
export function decodeOtlpProtobuf(body: Uint8Array): DecodedSpans {
  let message: protobuf.Message;
  try {
    message = exportRequestType().decode(body);
  } catch (e) {
    throw new OtlpDecodeError(
      `The body is not an OTLP ExportTraceServiceRequest in protobuf (${(e as Error).message}).`,
    );
  }
  return toRecords(plainRequest(message as unknown as Obj), hexOfBytes);
}

// ---------------------------------------------------------------- JSON

// OTLP JSON: hex ids. Some senders use base64 as in proto3's canonical JSON; both are read.
const hexOrBase64: IdReader = (v) => {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v !== 'string')
    throw new OtlpDecodeError(`an id is not a string: ${JSON.stringify(v)}`);
  // All hex digits: hex, whatever the length (a wrong length is then reported as such).
  if (/^[0-9a-fA-F]+$/.test(v)) {
    if (v.length % 2) throw new OtlpDecodeError(`id '${v}' has an odd number of hex digits`);
    return v.toLowerCase();
  }
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(v)) return Buffer.from(v, 'base64').toString('hex');
  throw new OtlpDecodeError(`id '${v}' is neither hex nor base64`);
};

const keyValueList = z.array(z.object({ key: z.string() }).passthrough()).optional();
const spanShape = z
  .object({
    traceId: z.string().optional(),
    trace_id: z.string().optional(),
    spanId: z.string().optional(),
    span_id: z.string().optional(),
    name: z.string().optional(),
    attributes: keyValueList,
    events: z.array(z.object({}).passthrough()).optional(),
    links: z.array(z.object({}).passthrough()).optional(),
  })
  .passthrough();
const scopeSpansShape = z.object({ spans: z.array(spanShape).optional() }).passthrough();
const requestShape = z
  .object({
    resourceSpans: z
      .array(
        z
          .object({
            resource: z.object({ attributes: keyValueList }).passthrough().optional(),
            scopeSpans: z.array(scopeSpansShape).optional(),
            scope_spans: z.array(scopeSpansShape).optional(),
          })
          .passthrough(),
      )
      .optional(),
    resource_spans: z.array(z.object({}).passthrough()).optional(),
  })
  .passthrough();

/** Decodes an ExportTraceServiceRequest in OTLP's JSON mapping. */
export function decodeOtlpJson(text: string): DecodedSpans {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new OtlpDecodeError(`The body is not JSON (${(e as Error).message}).`);
  }
  const parsed = requestShape.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new OtlpDecodeError(
      `The body is not an OTLP ExportTraceServiceRequest: ${issue.path.join('.') || '(top level)'}: ${issue.message}.`,
    );
  }
  return toRecords(parsed.data as Obj, hexOrBase64);
}
