// A wrapper over an `openai` client that traces every chat completion: a CHAT_MODEL span with
// the request (model, messages, settings), the answer (content and tool calls), token usage,
// and for streams the time to first token, assembled from the chunks as the caller reads
// them. Errors are recorded on the span and rethrown. The client is not imported: any object
// with `chat.completions.create` of the openai package's shape works.

import type { LiveSpan, Tracer } from './tracer.ts';

interface ChatCreate {
  (body: Record<string, unknown>, options?: unknown): Promise<unknown>;
}

interface OpenAILike {
  chat: { completions: { create: ChatCreate } };
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

type ToolCallDelta = {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
};

function finishFromResponse(span: LiveSpan, response: unknown): void {
  const r = response as { model?: string; usage?: Usage };
  span.setOutputs(response);
  if (r.model) span.setAttribute('gen_ai.response.model', r.model);
  if (r.usage) span.setTokenUsage(r.usage.prompt_tokens ?? 0, r.usage.completion_tokens ?? 0);
}

/** Wraps a stream so that reading it records the answer on `span`, which ends with the stream. */
function tracedStream(
  stream: AsyncIterable<unknown>,
  span: LiveSpan,
  tracer: Tracer,
  startMs: number,
): AsyncIterable<unknown> {
  let content = '';
  let role = 'assistant';
  let model: string | undefined;
  let usage: Usage | undefined;
  let firstTokenAt: number | undefined;
  let finishReason: string | undefined;
  const toolCalls: {
    id: string;
    type: 'function';
    function: { name: string; arguments: string };
  }[] = [];
  const finish = (error?: unknown) => {
    if (error !== undefined) span.recordException(error);
    span.setOutputs({
      ...(model ? { model } : {}),
      choices: [
        {
          index: 0,
          message: { role, content, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
          ...(finishReason ? { finish_reason: finishReason } : {}),
        },
      ],
      ...(usage ? { usage } : {}),
    });
    if (model) span.setAttribute('gen_ai.response.model', model);
    if (usage) span.setTokenUsage(usage.prompt_tokens ?? 0, usage.completion_tokens ?? 0);
    if (firstTokenAt !== undefined) span.setAttribute('mlops.ttft_ms', firstTokenAt - startMs);
    span.end();
  };
  const wrapped = Object.create(stream) as AsyncIterable<unknown>;
  Object.defineProperty(wrapped, Symbol.asyncIterator, {
    value: async function* () {
      try {
        for await (const chunk of stream) {
          const c = chunk as {
            model?: string;
            usage?: Usage | null;
            choices?: {
              delta?: { role?: string; content?: string | null; tool_calls?: ToolCallDelta[] };
              finish_reason?: string | null;
            }[];
          };
          if (c.model) model = c.model;
          if (c.usage) usage = c.usage;
          const choice = c.choices?.[0];
          const delta = choice?.delta;
          if (delta?.role) role = delta.role;
          if ((delta?.content || delta?.tool_calls?.length) && firstTokenAt === undefined) {
            firstTokenAt = tracer.now();
            span.addEvent('first_token', {}, firstTokenAt);
          }
          if (delta?.content) content += delta.content;
          for (const t of delta?.tool_calls ?? []) {
            const i = t.index ?? toolCalls.length;
            toolCalls[i] ??= { id: '', type: 'function', function: { name: '', arguments: '' } };
            if (t.id) toolCalls[i].id = t.id;
            if (t.function?.name) toolCalls[i].function.name += t.function.name;
            if (t.function?.arguments) toolCalls[i].function.arguments += t.function.arguments;
          }
          if (choice?.finish_reason) finishReason = choice.finish_reason;
          yield chunk;
        }
        finish();
      } catch (e) {
        finish(e);
        throw e;
      }
    },
  });
  return wrapped;
}

/**
 * Returns `client` with `chat.completions.create` traced (the rest of the client untouched).
 * Each call is a span under the active span of `tracer.withSpan`, or a trace of its own.
 */
export function wrapOpenAI<C extends OpenAILike>(tracer: Tracer, client: C): C {
  const completions = client.chat.completions;
  const original = completions.create.bind(completions);
  const create: ChatCreate = async (body, options) => {
    const model = String(body.model ?? '');
    const startMs = tracer.now();
    const span = tracer.startSpan(`chat ${model}`.trim(), {
      type: 'CHAT_MODEL',
      kind: 3,
      inputs: body,
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': model },
      startMs,
    });
    let result: unknown;
    try {
      result = await original(body, options);
    } catch (e) {
      span.recordException(e);
      span.end();
      throw e;
    }
    if (
      body.stream === true &&
      result &&
      typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
    ) {
      return tracedStream(result as AsyncIterable<unknown>, span, tracer, startMs);
    }
    finishFromResponse(span, result);
    span.end();
    return result;
  };
  const tracedCompletions = new Proxy(completions, {
    get: (target, prop, receiver) =>
      prop === 'create' ? create : Reflect.get(target, prop, receiver),
  });
  const chat = new Proxy(client.chat, {
    get: (target, prop, receiver) =>
      prop === 'completions' ? tracedCompletions : Reflect.get(target, prop, receiver),
  });
  return new Proxy(client, {
    get: (target, prop, receiver) => (prop === 'chat' ? chat : Reflect.get(target, prop, receiver)),
  });
}
