// Recording traces in-process: the tracing API of the Node API (`tracking.tracer()`), and what
// the eval runner records each case with. Spans nest through AsyncLocalStorage (withSpan), or
// explicitly (startChild); they carry MLflow's attribute conventions (mlflow.spanType,
// mlflow.spanInputs / spanOutputs, mlflow.chat.tokenUsage) so every client that reads MLflow
// traces reads them. Ended spans are buffered and handed to a sink: every second, at 512 spans
// and on flush(); a recorder that should keep nothing unless asked (a cancelled eval) turns the
// timer off and calls discard().

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type {
  AttributeValue,
  Attributes,
  SpanEvent,
  SpanRecord,
  SpanType,
  StatusCode,
} from '../model/tracing.ts';
import { wrapOpenAI } from './openaiTracing.ts';

export interface SpanOptions {
  type?: SpanType;
  inputs?: unknown;
  attributes?: Record<string, unknown>;
  /** OpenTelemetry's SpanKind number (default 1, internal). */
  kind?: number;
  /** Parent span: a LiveSpan, or null for a new trace. Default: the active span of withSpan. */
  parent?: LiveSpan | null;
  /** Epoch ms (fractions allowed); default: now. */
  startMs?: number;
}

export interface TracerOptions {
  /** Epoch milliseconds, fractions allowed (default: performance.timeOrigin + now()). */
  clock?: () => number;
  /** Resource attributes of every span (service.name, ...). */
  resource?: Attributes;
  /** Flush buffered spans this often and at 512 (default 1000 ms); null: only on flush(). */
  flushMs?: number | null;
  /** Called when a timed flush fails (the spans stay buffered for the next one). */
  onError?: (e: Error) => void;
}

const MAX_BUFFERED = 512;

/** Any JSON-able value as an attribute value (undefined and functions dropped). */
export function toAttributeValue(v: unknown): AttributeValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return String(v);
  try {
    return JSON.parse(JSON.stringify(v)) as AttributeValue;
  } catch {
    return String(v);
  }
}

const msToNs = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

export class LiveSpan {
  readonly spanId = randomBytes(8).toString('hex');
  private readonly attributes: Attributes = {};
  private readonly events: SpanEvent[] = [];
  private statusCode: StatusCode = 0;
  private statusMessage = '';
  private ended = false;
  private readonly startNs: string;

  constructor(
    private readonly tracer: Tracer,
    readonly traceId: string,
    readonly parentSpanId: string | null,
    private name: string,
    private readonly kind: number,
    readonly startMs: number,
  ) {
    this.startNs = msToNs(startMs);
  }

  setName(name: string): this {
    this.name = name;
    return this;
  }

  setAttribute(key: string, value: unknown): this {
    this.attributes[key] = toAttributeValue(value);
    return this;
  }

  setAttributes(attributes: Record<string, unknown>): this {
    for (const [k, v] of Object.entries(attributes)) this.setAttribute(k, v);
    return this;
  }

  setType(type: SpanType): this {
    return this.setAttribute('mlflow.spanType', type);
  }

  setInputs(inputs: unknown): this {
    return this.setAttribute('mlflow.spanInputs', inputs);
  }

  setOutputs(outputs: unknown): this {
    return this.setAttribute('mlflow.spanOutputs', outputs);
  }

  /** Token usage as MLflow records it. */
  setTokenUsage(input: number, output: number): this {
    return this.setAttribute('mlflow.chat.tokenUsage', {
      input_tokens: input,
      output_tokens: output,
      total_tokens: input + output,
    });
  }

  addEvent(name: string, attributes: Record<string, unknown> = {}, timeMs?: number): this {
    const attrs: Attributes = {};
    for (const [k, v] of Object.entries(attributes)) attrs[k] = toAttributeValue(v);
    this.events.push({ name, timeNs: msToNs(timeMs ?? this.tracer.now()), attributes: attrs });
    return this;
  }

  /** An `exception` event with type, message and stack, and the span's status to ERROR. */
  recordException(e: unknown): this {
    const err = e instanceof Error ? e : new Error(String(e));
    this.addEvent('exception', {
      'exception.type': err.name,
      'exception.message': err.message,
      'exception.stacktrace': err.stack ?? `${err.name}: ${err.message}`,
    });
    return this.setStatus('ERROR', `${err.name}: ${err.message}`);
  }

  setStatus(status: 'OK' | 'ERROR' | 'UNSET', message = ''): this {
    this.statusCode = status === 'ERROR' ? 2 : status === 'OK' ? 1 : 0;
    this.statusMessage = message;
    return this;
  }

  startChild(name: string, options: Omit<SpanOptions, 'parent'> = {}): LiveSpan {
    return this.tracer.startSpan(name, { ...options, parent: this });
  }

  /** Ends the span (once; later calls do nothing). Unset status becomes OK. */
  end(endMs?: number): void {
    if (this.ended) return;
    this.ended = true;
    this.tracer.collect({
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId,
      name: this.name,
      kind: this.kind,
      startNs: this.startNs,
      endNs: msToNs(Math.max(endMs ?? this.tracer.now(), this.startMs)),
      statusCode: this.statusCode === 0 ? 1 : this.statusCode,
      statusMessage: this.statusMessage,
      traceState: '',
      attributes: { ...this.attributes },
      events: [...this.events],
      links: [],
      resource: this.tracer.resource,
      scope: { name: 'mlops-workbench', version: '', attributes: {} },
      dropped: { attributes: 0, events: 0, links: 0 },
    });
  }
}

export class Tracer {
  private buffer: SpanRecord[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly context = new AsyncLocalStorage<LiveSpan>();
  private readonly clock: () => number;
  readonly resource: Attributes;

  constructor(
    private readonly sink: (spans: SpanRecord[]) => Promise<void>,
    private readonly options: TracerOptions = {},
  ) {
    this.clock = options.clock ?? (() => performance.timeOrigin + performance.now());
    this.resource = options.resource ?? {};
  }

  now(): number {
    return this.clock();
  }

  /** The span of the innermost withSpan around the caller. */
  get active(): LiveSpan | undefined {
    return this.context.getStore();
  }

  startSpan(name: string, options: SpanOptions = {}): LiveSpan {
    const parent = options.parent === undefined ? this.active : options.parent;
    const span = new LiveSpan(
      this,
      parent?.traceId ?? randomBytes(16).toString('hex'),
      parent?.spanId ?? null,
      name,
      options.kind ?? 1,
      options.startMs ?? this.now(),
    );
    if (options.type) span.setType(options.type);
    if (options.inputs !== undefined) span.setInputs(options.inputs);
    if (options.attributes) span.setAttributes(options.attributes);
    return span;
  }

  /**
   * Runs `fn` in a new span (a child of the active one), ends it when `fn` settles, and
   * records a thrown error on it before rethrowing. Spans started inside nest under it.
   */
  async withSpan<T>(
    name: string,
    options: SpanOptions,
    fn: (span: LiveSpan) => T | Promise<T>,
  ): Promise<T>;
  async withSpan<T>(name: string, fn: (span: LiveSpan) => T | Promise<T>): Promise<T>;
  async withSpan<T>(
    name: string,
    a: SpanOptions | ((span: LiveSpan) => T | Promise<T>),
    b?: (span: LiveSpan) => T | Promise<T>,
  ): Promise<T> {
    const options = typeof a === 'function' ? {} : a;
    const fn = typeof a === 'function' ? a : b!;
    const span = this.startSpan(name, options);
    try {
      const result = await this.context.run(span, () => fn(span));
      return result;
    } catch (e) {
      span.recordException(e);
      throw e;
    } finally {
      span.end();
    }
  }

  /** @internal Called by LiveSpan.end(). */
  collect(span: SpanRecord): void {
    this.buffer.push(span);
    if (this.options.flushMs === null) return;
    if (this.buffer.length >= MAX_BUFFERED)
      void this.flush().catch((e) => this.options.onError?.(e as Error));
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush().catch((e) => this.options.onError?.(e as Error));
      }, this.options.flushMs ?? 1000);
      this.timer.unref();
    }
  }

  /** Hands every ended span to the sink; resolves once it has them. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.flushing.then(async () => {
      const spans = this.buffer;
      if (spans.length === 0) return;
      this.buffer = [];
      try {
        await this.sink(spans);
      } catch (e) {
        this.buffer = [...spans, ...this.buffer];
        throw e;
      }
    });
    this.flushing = next.catch(() => undefined);
    return next;
  }

  /** `client` with every chat completion traced as a span (see openaiTracing.ts). */
  wrapOpenAI<C extends { chat: { completions: { create: (...args: never[]) => unknown } } }>(
    client: C,
  ): C {
    return wrapOpenAI(this, client as never) as C;
  }

  /** Drops the ended spans not yet flushed. */
  discard(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.buffer = [];
  }

  /** How many ended spans wait for a flush. */
  get pending(): number {
    return this.buffer.length;
  }
}
