// OTLP/HTTP trace export, `POST /v1/traces`: protobuf or JSON, plain or gzip, as the
// OpenTelemetry SDKs and MLflow 3's client send it (with `x-mlflow-experiment-id` naming the
// experiment). Answers ExportTraceServiceResponse once the spans are durable; spans that
// could not be stored are named in `partial_success`. A body that does not decode gets 400
// with the reason, and the server carries on.

import type * as http from 'node:http';
import * as zlib from 'node:zlib';
import type { Logger } from '../../core/log.ts';
import { toMlflowError } from '../errors.ts';
import type { RouteContext } from '../route.ts';
import { encodeExportResponse, OtlpDecodeError } from './otlpDecode.ts';
import type { DecodedSpans } from './otlpDecode.ts';
import type { OtlpDecoder } from './otlpDecoder.ts';

export const OTLP_TRACES_PATH = '/v1/traces';
/** The most a request body may hold, before and after gzip. */
export const MAX_OTLP_BODY_BYTES = 32 << 20;
export const MAX_OTLP_DECODED_BYTES = 128 << 20;
/** MLflow's header naming the experiment the spans go to. */
export const EXPERIMENT_HEADER = 'x-mlflow-experiment-id';

class OtlpHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** google.rpc.Status as OTLP/HTTP answers failures (JSON for either content type). */
function sendStatus(res: http.ServerResponse, status: number, message: string): void {
  // 3 INVALID_ARGUMENT, 5 NOT_FOUND, 16 UNAUTHENTICATED, 13 INTERNAL (google.rpc.Code).
  const code = status === 400 || status === 413 || status === 415 ? 3 : status === 404 ? 5 : 13;
  const body = JSON.stringify({ code, message });
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function readRaw(req: http.IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_OTLP_BODY_BYTES) {
    throw new OtlpHttpError(
      413,
      `The body (${declared} bytes) is over the ${MAX_OTLP_BODY_BYTES} byte limit: send smaller batches.`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_OTLP_BODY_BYTES) {
      throw new OtlpHttpError(
        413,
        `The body is over the ${MAX_OTLP_BODY_BYTES} byte limit: send smaller batches.`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function inflate(body: Buffer, encoding: string | undefined): Buffer {
  const e = (encoding ?? '').trim().toLowerCase();
  if (e === '' || e === 'identity') return body;
  if (e !== 'gzip' && e !== 'deflate') {
    throw new OtlpHttpError(
      415,
      `Content-Encoding '${encoding}' is not supported: send gzip or none.`,
    );
  }
  try {
    const opts = { maxOutputLength: MAX_OTLP_DECODED_BYTES };
    return e === 'gzip' ? zlib.gunzipSync(body, opts) : zlib.inflateSync(body, opts);
  } catch (err) {
    const tooBig = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new OtlpHttpError(
      tooBig ? 413 : 400,
      tooBig
        ? `The body inflates to more than ${MAX_OTLP_DECODED_BYTES} bytes: send smaller batches.`
        : `The body is not valid ${e} (${(err as Error).message}).`,
    );
  }
}

export async function handleOtlpTraces(
  method: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: RouteContext,
  logger: Logger,
  decoder: OtlpDecoder,
): Promise<void> {
  try {
    if (method !== 'POST') {
      res.setHeader('Allow', 'POST');
      throw new OtlpHttpError(405, `${OTLP_TRACES_PATH} takes POST, not ${method}.`);
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const protobufBody = type === 'application/x-protobuf' || type === 'application/protobuf';
    if (!protobufBody && type !== 'application/json') {
      throw new OtlpHttpError(
        415,
        `Content-Type '${type || '(none)'}' is not OTLP: send application/x-protobuf or application/json.`,
      );
    }
    const body = inflate(await readRaw(req), req.headers['content-encoding'] as string | undefined);
    let decoded: DecodedSpans;
    try {
      decoded = await decoder.decode(protobufBody ? 'protobuf' : 'json', body);
    } catch (e) {
      if (e instanceof OtlpDecodeError) throw new OtlpHttpError(400, e.message);
      throw e;
    }
    const experiment = req.headers[EXPERIMENT_HEADER];
    const result = await ctx.tracking.traces.ingest(decoded.spans, {
      experimentId: Array.isArray(experiment) ? experiment[0] : experiment,
    });
    const rejected = [...decoded.rejected, ...result.rejected];
    if (rejected.length > 0) {
      logger.warn(
        `[otlp] refused ${rejected.length} of ${decoded.spans.length + decoded.rejected.length} spans: ${rejected[0]!.reason}`,
      );
    }
    const partial = rejected.length
      ? {
          rejectedSpans: rejected.length,
          errorMessage: rejected
            .slice(0, 5)
            .map((r) => `span ${r.spanId || '?'} of trace ${r.traceId || '?'}: ${r.reason}`)
            .join('; '),
        }
      : undefined;
    if (protobufBody) {
      const bytes = encodeExportResponse(partial);
      res.writeHead(200, {
        'Content-Type': 'application/x-protobuf',
        'Content-Length': bytes.length,
      });
      res.end(bytes);
    } else {
      const text = JSON.stringify(partial ? { partialSuccess: partial } : {});
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    }
  } catch (e) {
    if (e instanceof OtlpHttpError) {
      sendStatus(res, e.status, e.message);
      return;
    }
    const { error, internal } = toMlflowError(e);
    if (internal) logger.error(e instanceof Error ? e : String(e));
    sendStatus(res, error.status, error.message);
  }
}
