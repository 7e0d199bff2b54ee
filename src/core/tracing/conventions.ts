// What a span means, read from the attribute conventions real clients send: MLflow's own
// (`mlflow.spanType`, `mlflow.spanInputs` / `mlflow.spanOutputs`, `mlflow.chat.tokenUsage`),
// OpenInference (`openinference.span.kind`, `input.value`, `llm.input_messages.*`,
// `llm.token_count.*`, `retrieval.documents.*`) and OpenTelemetry GenAI
// (`gen_ai.operation.name`, `gen_ai.request.model`, `gen_ai.usage.*`,
// `gen_ai.input.messages` and the older `gen_ai.prompt.N.*` form). The raw attributes are
// kept as they came; this is a view over them, computed when a span is stored.

import type {
  AttributeValue,
  Attributes,
  ChatMessage,
  RetrievedDocument,
  SpanMeaning,
  SpanRecord,
  SpanType,
} from '../model/tracing.ts';
import { SPAN_TYPES } from '../model/tracing.ts';

type Convention = SpanMeaning['convention'];
type Json = AttributeValue;
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** MLflow 2 and some exporters send structured values as JSON text: read it back. */
export function parseMaybeJson(v: Json | undefined): Json | undefined {
  if (typeof v !== 'string') return v;
  const t = v.trimStart();
  if (!/^[[{"]/.test(t)) return v;
  try {
    return JSON.parse(v) as Json;
  } catch {
    return v;
  }
}

function text(v: Json | undefined): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function count(v: Json | undefined): number | null {
  const p = parseMaybeJson(v);
  const n = typeof p === 'string' && p.trim() !== '' ? Number(p) : p;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : null;
}

function nonEmpty(v: Json | undefined): string | null {
  const s = text(parseMaybeJson(v));
  return s && s.trim() !== '' ? s : null;
}

/**
 * Flattened lists (`llm.input_messages.0.message.role`): the entries under `prefix`, by
 * index, each a map from the rest of the key to its value.
 */
function indexed(attrs: Attributes, prefix: string): Map<string, Json>[] {
  const out: Map<string, Json>[] = [];
  const head = `${prefix}.`;
  for (const [key, value] of Object.entries(attrs)) {
    if (!key.startsWith(head)) continue;
    const rest = key.slice(head.length);
    const dot = rest.indexOf('.');
    const index = Number(dot < 0 ? rest : rest.slice(0, dot));
    if (!Number.isInteger(index) || index < 0 || index > 100_000) continue;
    (out[index] ??= new Map()).set(dot < 0 ? '' : rest.slice(dot + 1), value);
  }
  return out.filter(Boolean);
}

// ---------------------------------------------------------------- span type

const OPENINFERENCE_KINDS: Record<string, SpanType> = {
  LLM: 'LLM',
  CHAIN: 'CHAIN',
  TOOL: 'TOOL',
  RETRIEVER: 'RETRIEVER',
  EMBEDDING: 'EMBEDDING',
  AGENT: 'AGENT',
  RERANKER: 'RERANKER',
  GUARDRAIL: 'GUARDRAIL',
  EVALUATOR: 'EVALUATOR',
  // OpenInference's prompt-template spans: a step of the chain.
  PROMPT: 'CHAIN',
  UNKNOWN: 'UNKNOWN',
};

const GEN_AI_OPERATIONS: Record<string, SpanType> = {
  chat: 'CHAT_MODEL',
  text_completion: 'LLM',
  generate_content: 'LLM',
  completion: 'LLM',
  embeddings: 'EMBEDDING',
  embedding: 'EMBEDDING',
  execute_tool: 'TOOL',
  create_agent: 'AGENT',
  invoke_agent: 'AGENT',
  retrieval: 'RETRIEVER',
};

function asSpanType(v: Json | undefined): SpanType | undefined {
  const s = text(parseMaybeJson(v))?.trim().toUpperCase();
  return s && (SPAN_TYPES as readonly string[]).includes(s) ? (s as SpanType) : undefined;
}

function typeOf(a: Attributes): { type: SpanType; convention: Convention } {
  const mlflow = asSpanType(a['mlflow.spanType']);
  if (mlflow) return { type: mlflow, convention: 'mlflow' };
  const oi = text(a['openinference.span.kind'])?.trim().toUpperCase();
  if (oi && OPENINFERENCE_KINDS[oi])
    return { type: OPENINFERENCE_KINDS[oi], convention: 'openinference' };
  const op = text(a['gen_ai.operation.name'])?.trim().toLowerCase();
  if (op && GEN_AI_OPERATIONS[op]) return { type: GEN_AI_OPERATIONS[op], convention: 'gen_ai' };
  if (a['gen_ai.tool.name'] !== undefined) return { type: 'TOOL', convention: 'gen_ai' };
  if (a['gen_ai.request.model'] !== undefined || a['gen_ai.system'] !== undefined) {
    return { type: 'LLM', convention: 'gen_ai' };
  }
  const own = asSpanType(a['mlops.span_type']);
  if (own) return { type: own, convention: 'mlops' };
  return { type: 'UNKNOWN', convention: 'none' };
}

// ---------------------------------------------------------------- messages

/** OpenAI-style content: a string, or parts of which the text ones are joined. */
function contentText(v: Json | undefined): string {
  const p = parseMaybeJson(v);
  if (p === undefined || p === null) return '';
  if (typeof p === 'string') return p;
  if (Array.isArray(p)) {
    return p
      .map((part) => {
        if (typeof part === 'string') return part;
        if (isObject(part)) return text(part.text ?? part.content) ?? '';
        return '';
      })
      .filter((s) => s !== '')
      .join('\n');
  }
  return text(p) ?? '';
}

/** An OpenAI chat message (`{ role, content, tool_calls, tool_call_id, name }`). */
function openAiMessage(m: Json): ChatMessage | undefined {
  if (!isObject(m) || typeof m.role !== 'string') return undefined;
  const msg: ChatMessage = { role: m.role, content: contentText(m.content) };
  if (typeof m.name === 'string') msg.name = m.name;
  if (typeof m.tool_call_id === 'string') msg.toolCallId = m.tool_call_id;
  if (Array.isArray(m.tool_calls)) {
    msg.toolCalls = m.tool_calls.filter(isObject).map((c) => {
      const fn = isObject(c.function) ? c.function : c;
      const args = fn.arguments;
      return {
        ...(typeof c.id === 'string' ? { id: c.id } : {}),
        name: text(fn.name) ?? '',
        arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
      };
    });
  }
  return msg;
}

function openAiMessages(v: Json | undefined): ChatMessage[] {
  const p = parseMaybeJson(v);
  if (!Array.isArray(p)) return [];
  return p.map(openAiMessage).filter((m): m is ChatMessage => m !== undefined);
}

/** OpenTelemetry GenAI's current form: `[{ role, parts: [{ type, content | name, arguments, ... }] }]`. */
function genAiMessages(v: Json | undefined): ChatMessage[] {
  const p = parseMaybeJson(v);
  if (!Array.isArray(p)) return [];
  const out: ChatMessage[] = [];
  for (const m of p) {
    if (!isObject(m)) continue;
    if (!Array.isArray(m.parts)) {
      const plain = openAiMessage(m);
      if (plain) out.push(plain);
      continue;
    }
    const msg: ChatMessage = { role: text(m.role) ?? 'assistant', content: '' };
    const texts: string[] = [];
    for (const part of m.parts) {
      if (!isObject(part)) continue;
      const type = text(part.type);
      if (type === 'text' || type === 'reasoning') texts.push(text(part.content) ?? '');
      else if (type === 'tool_call') {
        (msg.toolCalls ??= []).push({
          ...(typeof part.id === 'string' ? { id: part.id } : {}),
          name: text(part.name) ?? '',
          arguments:
            typeof part.arguments === 'string'
              ? part.arguments
              : JSON.stringify(part.arguments ?? {}),
        });
      } else if (type === 'tool_call_response') {
        if (typeof part.id === 'string') msg.toolCallId = part.id;
        texts.push(text(part.response ?? part.result) ?? '');
      }
    }
    msg.content = texts.join('\n');
    out.push(msg);
  }
  return out;
}

/** The older GenAI form: `gen_ai.prompt.0.role`, `gen_ai.prompt.0.content`, `.tool_calls.0.name`, ... */
function genAiIndexedMessages(a: Attributes, prefix: string): ChatMessage[] {
  return indexed(a, prefix).map((m) => {
    const msg: ChatMessage = {
      role: text(m.get('role')) ?? (prefix.endsWith('completion') ? 'assistant' : 'user'),
      content: contentText(m.get('content')),
    };
    const toolCallId = text(m.get('tool_call_id'));
    if (toolCallId) msg.toolCallId = toolCallId;
    const calls = new Map<string, { id?: string; name: string; arguments: string }>();
    for (const [rest, value] of m) {
      const call = /^tool_calls\.(\d+)\.(?:function\.)?(name|arguments|id)$/.exec(rest);
      if (!call) continue;
      const c = calls.get(call[1]!) ?? { name: '', arguments: '' };
      if (call[2] === 'id') c.id = text(value) ?? undefined;
      else c[call[2] as 'name' | 'arguments'] = text(value) ?? '';
      calls.set(call[1]!, c);
    }
    if (calls.size)
      msg.toolCalls = [...calls.entries()]
        .sort(([x], [y]) => Number(x) - Number(y))
        .map(([, c]) => c);
    return msg;
  });
}

/** OpenInference: `llm.input_messages.0.message.role`, `.message.content`, `.message.tool_calls.0.tool_call.function.name`, ... */
function openInferenceMessages(a: Attributes, prefix: string): ChatMessage[] {
  return indexed(a, prefix).map((m) => {
    const msg: ChatMessage = { role: text(m.get('message.role')) ?? 'user', content: '' };
    let content = contentText(m.get('message.content'));
    if (content === '') {
      const parts = [...m.entries()]
        .filter(([k]) => /^message\.contents\.\d+\.message_content\.text$/.test(k))
        .map(([, v]) => text(v) ?? '');
      content = parts.join('\n');
    }
    msg.content = content;
    const name = text(m.get('message.name'));
    if (name) msg.name = name;
    const toolCallId = text(m.get('message.tool_call_id'));
    if (toolCallId) msg.toolCallId = toolCallId;
    const calls = new Map<string, { id?: string; name: string; arguments: string }>();
    for (const [rest, value] of m) {
      const call =
        /^message\.tool_calls\.(\d+)\.tool_call\.(function\.name|function\.arguments|id)$/.exec(
          rest,
        );
      if (!call) continue;
      const c = calls.get(call[1]!) ?? { name: '', arguments: '' };
      if (call[2] === 'id') c.id = text(value) ?? undefined;
      else if (call[2] === 'function.name') c.name = text(value) ?? '';
      else c.arguments = text(value) ?? '';
      calls.set(call[1]!, c);
    }
    if (calls.size)
      msg.toolCalls = [...calls.entries()]
        .sort(([x], [y]) => Number(x) - Number(y))
        .map(([, c]) => c);
    return msg;
  });
}

function inputMessages(a: Attributes, inputs: Json | undefined): ChatMessage[] {
  const oi = openInferenceMessages(a, 'llm.input_messages');
  if (oi.length) return oi;
  const current = genAiMessages(a['gen_ai.input.messages']);
  if (current.length) {
    const system = contentText(a['gen_ai.system_instructions']);
    return system ? [{ role: 'system', content: system }, ...current] : current;
  }
  const older = genAiIndexedMessages(a, 'gen_ai.prompt');
  if (older.length) return older;
  const legacy = openAiMessages(a['mlflow.chat.messages']);
  if (legacy.length)
    return legacy.filter((m) => m.role !== 'assistant' || legacy.indexOf(m) < legacy.length - 1);
  if (isObject(inputs)) return openAiMessages(inputs.messages);
  return openAiMessages(inputs);
}

function outputMessages(a: Attributes, outputs: Json | undefined): ChatMessage[] {
  const oi = openInferenceMessages(a, 'llm.output_messages');
  if (oi.length) return oi;
  const current = genAiMessages(a['gen_ai.output.messages']);
  if (current.length) return current;
  const older = genAiIndexedMessages(a, 'gen_ai.completion');
  if (older.length) return older;
  const legacy = openAiMessages(a['mlflow.chat.messages']);
  if (legacy.length && legacy.at(-1)!.role === 'assistant') return [legacy.at(-1)!];
  if (isObject(outputs) && Array.isArray(outputs.choices)) {
    return outputs.choices
      .map((c) => (isObject(c) ? openAiMessage(c.message ?? c.delta ?? null) : undefined))
      .filter((m): m is ChatMessage => m !== undefined);
  }
  if (Array.isArray(outputs)) return openAiMessages(outputs);
  return [];
}

// ---------------------------------------------------------------- documents

function documentOf(v: Json): RetrievedDocument | undefined {
  if (typeof v === 'string') return { content: v };
  if (!isObject(v)) return undefined;
  const content = text(v.page_content ?? v.content ?? v.text);
  if (content === null) return undefined;
  const doc: RetrievedDocument = { content };
  const id = text(v.id ?? (isObject(v.metadata) ? v.metadata.id : undefined));
  if (id !== null) doc.id = id;
  const score = count(v.score);
  if (score !== null || typeof v.score === 'number') doc.score = Number(v.score);
  if (isObject(v.metadata)) doc.metadata = v.metadata;
  return doc;
}

function documents(a: Attributes, type: SpanType, outputs: Json | undefined): RetrievedDocument[] {
  const prefix = type === 'RERANKER' ? 'reranker.output_documents' : 'retrieval.documents';
  const oi = indexed(a, prefix).map((d) => {
    const doc: RetrievedDocument = { content: text(d.get('document.content')) ?? '' };
    const id = text(d.get('document.id'));
    if (id !== null) doc.id = id;
    const score = d.get('document.score');
    if (typeof score === 'number') doc.score = score;
    const metadata = parseMaybeJson(d.get('document.metadata'));
    if (isObject(metadata)) doc.metadata = metadata;
    return doc;
  });
  if (oi.length) return oi;
  if (type !== 'RETRIEVER' && type !== 'RERANKER') return [];
  const list = Array.isArray(outputs)
    ? outputs
    : isObject(outputs) && Array.isArray(outputs.documents)
      ? outputs.documents
      : [];
  return list.map(documentOf).filter((d): d is RetrievedDocument => d !== undefined);
}

// ---------------------------------------------------------------- tokens, model, timing

function tokens(
  a: Attributes,
  type: SpanType,
  outputs: Json | undefined,
): { input: number | null; output: number | null } {
  const usage = parseMaybeJson(a['mlflow.chat.tokenUsage']);
  if (isObject(usage)) {
    return { input: count(usage.input_tokens), output: count(usage.output_tokens) };
  }
  const oiIn = count(a['llm.token_count.prompt']);
  const oiOut = count(a['llm.token_count.completion']);
  if (oiIn !== null || oiOut !== null) return { input: oiIn, output: oiOut };
  const gIn = count(a['gen_ai.usage.input_tokens'] ?? a['gen_ai.usage.prompt_tokens']);
  const gOut = count(a['gen_ai.usage.output_tokens'] ?? a['gen_ai.usage.completion_tokens']);
  if (gIn !== null || gOut !== null) return { input: gIn, output: gOut };
  // An OpenAI response recorded as the span's outputs (MLflow's autologging).
  if ((type === 'LLM' || type === 'CHAT_MODEL') && isObject(outputs) && isObject(outputs.usage)) {
    return {
      input: count(outputs.usage.prompt_tokens ?? outputs.usage.input_tokens),
      output: count(outputs.usage.completion_tokens ?? outputs.usage.output_tokens),
    };
  }
  return { input: null, output: null };
}

function modelOf(
  a: Attributes,
  inputs: Json | undefined,
  outputs: Json | undefined,
): string | null {
  for (const key of [
    'gen_ai.response.model',
    'gen_ai.request.model',
    'llm.model_name',
    'embedding.model_name',
    'model',
    'model_name',
  ]) {
    const v = nonEmpty(a[key]);
    if (v) return v;
  }
  for (const side of [outputs, inputs]) {
    if (isObject(side) && typeof side.model === 'string' && side.model !== '') return side.model;
  }
  return null;
}

const FIRST_TOKEN_EVENTS =
  /^(first_token|gen_ai\.first_token|gen_ai\.content\.first_token|mlops\.first_token|mlflow\.chunk\.item\.0)$/;

/** Milliseconds from start to the first streamed token: an attribute, else a first-chunk event. */
function ttftOf(span: SpanRecord): number | null {
  const a = span.attributes;
  const ms = count(a['mlops.ttft_ms']);
  if (ms !== null) return ms;
  const seconds = count(
    a['gen_ai.server.time_to_first_token'] ?? a['gen_ai.response.time_to_first_token'],
  );
  if (seconds !== null) return seconds * 1000;
  let first: bigint | undefined;
  for (const e of span.events) {
    if (!FIRST_TOKEN_EVENTS.test(e.name) && !/^mlflow\.chunk\.item\.\d+$/.test(e.name)) continue;
    const t = BigInt(e.timeNs);
    if (first === undefined || t < first) first = t;
  }
  if (first === undefined) return null;
  const delta = first - BigInt(span.startNs);
  return delta < 0n ? null : Number(delta) / 1e6;
}

// ---------------------------------------------------------------- the view

function inputsOf(a: Attributes): Json | undefined {
  if ('mlflow.spanInputs' in a) return parseMaybeJson(a['mlflow.spanInputs']);
  if ('input.value' in a) return parseMaybeJson(a['input.value']);
  if ('gen_ai.input.messages' in a) return parseMaybeJson(a['gen_ai.input.messages']);
  if ('gen_ai.tool.call.arguments' in a) return parseMaybeJson(a['gen_ai.tool.call.arguments']);
  return undefined;
}

function outputsOf(a: Attributes): Json | undefined {
  if ('mlflow.spanOutputs' in a) return parseMaybeJson(a['mlflow.spanOutputs']);
  if ('output.value' in a) return parseMaybeJson(a['output.value']);
  if ('gen_ai.output.messages' in a) return parseMaybeJson(a['gen_ai.output.messages']);
  if ('gen_ai.tool.call.result' in a) return parseMaybeJson(a['gen_ai.tool.call.result']);
  return undefined;
}

/** What the store keeps of a span's meaning, in columns (see spanEssentials). */
export type SpanEssentials = Pick<
  SpanMeaning,
  | 'type'
  | 'convention'
  | 'model'
  | 'inputTokens'
  | 'outputTokens'
  | 'sessionId'
  | 'userId'
  | 'ttftMs'
>;

function lookup(span: SpanRecord): (key: string) => Json | undefined {
  return (key) => span.attributes[key] ?? span.resource[key];
}

function sessionOf(at: (key: string) => Json | undefined): string | null {
  return (
    nonEmpty(at('gen_ai.conversation.id')) ??
    nonEmpty(at('session.id')) ??
    nonEmpty(at('mlflow.trace.session'))
  );
}

function userOf(at: (key: string) => Json | undefined): string | null {
  return nonEmpty(at('user.id')) ?? nonEmpty(at('enduser.id')) ?? nonEmpty(at('mlflow.trace.user'));
}

/**
 * The part of the meaning stored with a span, worked out without parsing its messages or
 * documents (what ingest pays per span). With `withPayload`, also its inputs and outputs.
 */
export function spanEssentials(
  span: SpanRecord,
  withPayload = false,
): SpanEssentials & { inputs?: Json; outputs?: Json } {
  const { type, convention } = typeOf(span.attributes);
  const isModelCall = type === 'LLM' || type === 'CHAT_MODEL' || type === 'EMBEDDING';
  const needPayload = withPayload || isModelCall;
  const inputs = needPayload ? inputsOf(span.attributes) : undefined;
  const outputs = needPayload ? outputsOf(span.attributes) : undefined;
  const t = tokens(span.attributes, type, outputs);
  const at = lookup(span);
  return {
    type,
    convention,
    model: isModelCall || t.input !== null ? modelOf(span.attributes, inputs, outputs) : null,
    inputTokens: t.input,
    outputTokens: t.output,
    sessionId: sessionOf(at),
    userId: userOf(at),
    ttftMs: ttftOf(span),
    ...(withPayload ? { inputs, outputs } : {}),
  };
}

/** What `span` means, whatever convention its client followed. */
export function meaningOf(span: SpanRecord): SpanMeaning {
  const { inputs, outputs, ...essentials } = spanEssentials(span, true);
  const { type } = essentials;
  const chat = type === 'LLM' || type === 'CHAT_MODEL' || type === 'EMBEDDING' || type === 'AGENT';
  return {
    ...essentials,
    inputs,
    outputs,
    inputMessages: chat ? inputMessages(span.attributes, inputs) : [],
    outputMessages: chat ? outputMessages(span.attributes, outputs) : [],
    documents: documents(span.attributes, type, outputs),
    toolName:
      type === 'TOOL'
        ? (nonEmpty(span.attributes['gen_ai.tool.name']) ??
          nonEmpty(span.attributes['tool.name']) ??
          nonEmpty(span.attributes['mlflow.spanFunctionName']) ??
          span.name)
        : null,
  };
}

/** A short one-line rendering of inputs or outputs, for lists. */
export function preview(v: Json | undefined, max = 300): string {
  if (v === undefined || v === null) return '';
  let s: string;
  if (typeof v === 'string') s = v;
  else if (isObject(v) && Array.isArray(v.messages)) {
    const last = [...openAiMessages(v.messages)].reverse().find((m) => m.role === 'user');
    s = last ? last.content : JSON.stringify(v);
  } else if (isObject(v) && Array.isArray(v.choices)) {
    const m = outputMessages({}, v)[0];
    s = m ? m.content : JSON.stringify(v);
  } else s = JSON.stringify(v);
  s = s.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
