// Token counts estimated with gpt-tokenizer's BPE encoders, for the calls whose provider
// sends no usage, so that their cost can still be given (marked as estimated).

import { ValidationError } from '../model/errors.ts';

/** The BPE encodings an estimate uses: OpenAI's two chat-model vocabularies. */
export type TokenEncoding = 'o200k_base' | 'cl100k_base';

/**
 * The encoding of `model`'s family: cl100k_base for gpt-3.5 and gpt-4 (gpt-4-turbo,
 * gpt-4-32k, dated gpt-4 snapshots) and the babbage-002 / davinci-002 base models;
 * o200k_base for everything else: gpt-4o, gpt-4.1, gpt-4.5, gpt-5, the o-series, and
 * models OpenAI did not make, whose tokenizer is not known (an estimate is all this is).
 * A provider prefix (`openai/gpt-4`) and a fine-tune's `ft:` wrapper are looked through.
 */
export function encodingFor(model: string): TokenEncoding {
  let name = model.trim().toLowerCase();
  const ft = /^ft:([^:]+)/.exec(name);
  if (ft) name = ft[1]!;
  name = name.slice(name.lastIndexOf('/') + 1);
  return /^(?:gpt-3\.5|gpt-4)(?:-|$)/.test(name) || /^(?:babbage|davinci)-002$/.test(name)
    ? 'cl100k_base'
    : 'o200k_base';
}

interface Encoder {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
}

// One load per encoding, shared by concurrent callers. The ranks are megabytes, so they
// load on the first estimate, never at activation.
const encoders = new Map<TokenEncoding, Promise<Encoder>>();

function encoder(encoding: TokenEncoding): Promise<Encoder> {
  let loading = encoders.get(encoding);
  if (!loading) {
    // Literal specifiers, so that esbuild bundles both encoders.
    loading =
      encoding === 'cl100k_base'
        ? import('gpt-tokenizer/encoding/cl100k_base')
        : import('gpt-tokenizer/encoding/o200k_base');
    // A failed load is not cached: the next estimate tries again.
    loading.catch(() => encoders.delete(encoding));
    encoders.set(encoding, loading);
  }
  return loading;
}

// Text like "<|endoftext|>" in a prompt or an answer is ordinary text to the API, which
// does not let user content produce special tokens; gpt-tokenizer would throw on it by
// default.
const AS_TEXT = { disallowedSpecial: new Set<string>() };

/** The number of tokens `text` encodes to with `model`'s tokenizer (see encodingFor). */
export async function estimateTokens(text: string, model: string): Promise<number> {
  if (typeof text !== 'string') {
    throw new ValidationError(`estimateTokens: the text must be a string (got ${typeName(text)}).`);
  }
  checkModel(model, 'estimateTokens');
  return (await encoder(encodingFor(model))).countTokens(text, AS_TEXT);
}

/**
 * Every message costs its own tokens plus these: the `<|start|>`, role separator and
 * `<|end|>` tokens that frame it (OpenAI cookbook, "How to count tokens with tiktoken",
 * `tokens_per_message = 3` for every model after gpt-3.5-turbo-0301).
 */
export const TOKENS_PER_MESSAGE = 3;
/** A message's `name` costs its tokens plus one (the cookbook's `tokens_per_name`). */
export const TOKENS_PER_NAME = 1;
/** Every reply is primed with `<|start|>assistant<|message|>` (the cookbook's final `+ 3`). */
export const REPLY_PRIMING_TOKENS = 3;

/**
 * The prompt tokens a chat request is billed for, estimated as OpenAI's cookbook counts
 * them: for each message its role, content (and name) tokens plus TOKENS_PER_MESSAGE,
 * then REPLY_PRIMING_TOKENS. Tools, images and response formats are not counted.
 */
export async function estimateChatTokens(
  messages: { role: string; content: string; name?: string }[],
  model: string,
): Promise<number> {
  if (!Array.isArray(messages)) {
    throw new ValidationError(
      `estimateChatTokens: messages must be an array of { role, content } (got ${typeName(messages)}).`,
    );
  }
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null) {
      throw new ValidationError(
        `estimateChatTokens: messages[${i}] must be an object { role, content } (got ${typeName(m)}).`,
      );
    }
    for (const field of ['role', 'content'] as const) {
      if (typeof m[field] !== 'string') {
        throw new ValidationError(
          `estimateChatTokens: messages[${i}].${field} must be a string (got ${typeName(m[field])}).`,
        );
      }
    }
    if (m.name !== undefined && typeof m.name !== 'string') {
      throw new ValidationError(
        `estimateChatTokens: messages[${i}].name must be a string when given (got ${typeName(m.name)}).`,
      );
    }
  });
  checkModel(model, 'estimateChatTokens');
  const enc = await encoder(encodingFor(model));
  let total = REPLY_PRIMING_TOKENS;
  for (const m of messages) {
    total += TOKENS_PER_MESSAGE + enc.countTokens(m.role, AS_TEXT);
    total += enc.countTokens(m.content, AS_TEXT);
    if (m.name !== undefined) total += TOKENS_PER_NAME + enc.countTokens(m.name, AS_TEXT);
  }
  return total;
}

function checkModel(model: unknown, fn: string): void {
  if (typeof model !== 'string') {
    throw new ValidationError(
      `${fn}: the model must be a string naming the model, e.g. "gpt-4o" (got ${typeName(model)}).`,
    );
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? 'a string' : typeof v;
}
