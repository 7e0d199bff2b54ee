// Decoding OTLP bodies on a thread of their own, so the server's thread (the extension
// host's, in VS Code) spends its time storing spans: decoding a 512-span protobuf body costs
// about a fifth of what storing it does, and on two cores the two overlap. Small bodies are
// decoded in place (the trip costs more than it saves). If the thread cannot start or dies,
// bodies are decoded in place, and the thread is tried again on a later body.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/log.ts';
import { decodeOtlpJson, decodeOtlpProtobuf, OtlpDecodeError } from './otlpDecode.ts';
import type { DecodedSpans } from './otlpDecode.ts';

export interface DecodeRequest {
  id: number;
  format: 'protobuf' | 'json';
  body: Uint8Array;
}

export type DecodeReply =
  | { id: number; decoded: DecodedSpans }
  | { id: number; error: { message: string; decode: boolean } };

/** Bodies smaller than this are decoded on the caller's thread. */
export const MIN_WORKER_BODY_BYTES = 16 * 1024;
/** After the thread failed, how long bodies are decoded in place before it is tried again. */
const RETRY_MS = 30_000;

interface Pending {
  request: DecodeRequest;
  resolve: (d: DecodedSpans) => void;
  reject: (e: Error) => void;
}

/** Where the thread's code is: beside the bundle, or the source file under tsx. */
function workerSource(): { code: string; eval: true } | undefined {
  const bundled = path.join(__dirname, 'otlpDecodeWorker.js');
  if (fs.existsSync(bundled)) return { code: `require(${JSON.stringify(bundled)});`, eval: true };
  const source = path.join(__dirname, 'decodeWorker.ts');
  if (fs.existsSync(source)) {
    return { code: `require('tsx/cjs'); require(${JSON.stringify(source)});`, eval: true };
  }
  return undefined;
}

export function decodeInPlace(format: 'protobuf' | 'json', body: Uint8Array): DecodedSpans {
  return format === 'protobuf'
    ? decodeOtlpProtobuf(body)
    : decodeOtlpJson(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
}

export class OtlpDecoder {
  private worker: Worker | undefined;
  private failedAt = -Infinity;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  /** Bodies decoded on the thread and in place (the tests and the log read them). */
  readonly counts = { worker: 0, inPlace: 0 };

  constructor(
    private readonly logger: Logger,
    private readonly options: { minWorkerBytes?: number; source?: typeof workerSource } = {},
  ) {}

  /** Decodes `body`; an undecodable body rejects with an OtlpDecodeError. */
  async decode(format: 'protobuf' | 'json', body: Uint8Array): Promise<DecodedSpans> {
    const worker =
      body.byteLength >= (this.options.minWorkerBytes ?? MIN_WORKER_BODY_BYTES)
        ? this.thread()
        : undefined;
    if (!worker) {
      this.counts.inPlace++;
      return decodeInPlace(format, body);
    }
    // A Buffer may be a view on a larger pooled one, which a message would copy whole.
    const own =
      body.byteOffset === 0 && body.byteLength === body.buffer.byteLength
        ? body
        : new Uint8Array(body);
    const request: DecodeRequest = { id: this.nextId++, format, body: own };
    return new Promise<DecodedSpans>((resolve, reject) => {
      this.pending.set(request.id, { request, resolve, reject });
      // Held open while it has work; idle, it does not keep the process alive.
      if (this.pending.size === 1) worker.ref();
      // Copied, not transferred: the caller's buffer stays usable if the thread dies.
      worker.postMessage(request);
    });
  }

  /** Stops the thread; bodies still on it are decoded in place. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    this.settleInPlace();
    if (w) await w.terminate();
  }

  private thread(): Worker | undefined {
    if (this.worker || this.closed) return this.worker;
    if (performance.now() - this.failedAt < RETRY_MS) return undefined;
    const source = (this.options.source ?? workerSource)();
    if (!source) {
      this.failedAt = Infinity; // nothing to start: decode in place from now on
      return undefined;
    }
    try {
      // Not the caller's flags (a test runner's --import tsx, an --inspect port).
      const w = new Worker(source.code, { eval: source.eval, execArgv: [] });
      w.unref();
      w.on('message', (m: DecodeReply) => this.onReply(m));
      w.on('error', (e) => this.onFailure(w, e));
      w.on('exit', (code) => {
        if (this.worker === w) this.onFailure(w, new Error(`it exited with code ${code}`));
      });
      this.worker = w;
      return w;
    } catch (e) {
      this.onFailure(undefined, e as Error);
      return undefined;
    }
  }

  private onReply(m: DecodeReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    this.counts.worker++;
    if ('decoded' in m) p.resolve(m.decoded);
    else
      p.reject(m.error.decode ? new OtlpDecodeError(m.error.message) : new Error(m.error.message));
  }

  private onFailure(w: Worker | undefined, e: Error): void {
    if (w && this.worker !== w) return;
    this.worker = undefined;
    this.failedAt = performance.now();
    if (!this.closed) {
      this.logger.warn(
        `[otlp] the decoding thread failed (${e.message}); decoding on the server's thread for ${RETRY_MS / 1000} s`,
      );
    }
    if (w) void w.terminate();
    this.settleInPlace();
  }

  private settleInPlace(): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      this.counts.inPlace++;
      try {
        p.resolve(decodeInPlace(p.request.format, p.request.body));
      } catch (e) {
        p.reject(e as Error);
      }
    }
  }
}
