// Runs an eval suite: renders the prompt per case, calls the model through the
// `openai` package with streaming (time to first token, total time, usage),
// bounded concurrency, the client's retries on 429 / 5xx (it honours
// retry-after), a per-request timeout, cancellation, a response cache so a re-run
// does not re-bill, `repeat` with pass@k and pass^k, and grades every answer. A
// failing case or a provider error never stops the run: it is counted as errored.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import OpenAI from 'openai';
import { ValidationError } from '../store/errors.ts';
import type { ChatMessage, ModelSettings } from '../registry/registry.ts';
import { renderChat, renderTemplate } from '../registry/template.ts';
import { checkCriterion, gradeDeterministic } from './graders.ts';
import type { DeterministicCriterion, GradeResult } from './graders.ts';
import type { Criterion, EvalCase, EvalSuite } from './suite.ts';

/** The prompt under test, from a file or the registry. */
export interface EvalPrompt {
  label: string;
  name: string | null;
  version: number | null;
  template: string;
  messages: ChatMessage[] | null;
  modelSettings: ModelSettings;
}

export interface Usage {
  input: number;
  output: number;
  cached: number;
  reasoning: number;
}

export interface CriterionVerdict extends GradeResult {
  name: string;
}

export interface CaseResult {
  index: number;
  repeat: number;
  id: string | null;
  vars: Record<string, unknown>;
  /** What was sent: the chat messages after rendering. */
  input: ChatMessage[];
  output: string | null;
  status: 'passed' | 'failed' | 'errored';
  error: string | null;
  verdicts: CriterionVerdict[];
  usage: Usage | null;
  latencyMs: number | null;
  ttftMs: number | null;
  /** The answer came from the cache: nothing was sent, nothing billed. */
  cached: boolean;
}

export interface EvalSummary {
  /** The shape users of the OpenAI Evals API know. */
  resultCounts: { total: number; passed: number; failed: number; errored: number };
  perCriterion: Record<string, { passed: number; failed: number; errored: number }>;
  passRate: number;
  latencyMs: { p50: number | null; p95: number | null };
  ttftMs: { p50: number | null; p95: number | null };
  tokens: Usage;
  /** With repeat > 1: share of cases that passed at least once / every time. */
  repeat: number;
  passAtK: number | null;
  passHatK: number | null;
  cachedCalls: number;
  durationMs: number;
}

export interface EvalResult {
  suite: string;
  model: string;
  baseUrl: string;
  prompt: { label: string; name: string | null; version: number | null };
  startedAt: number;
  cases: CaseResult[];
  summary: EvalSummary;
}

export interface EvalProgress {
  done: number;
  total: number;
  passed: number;
  failed: number;
  errored: number;
}

export interface RunEvalOptions {
  suite: EvalSuite;
  prompt: EvalPrompt;
  cases: EvalCase[];
  apiKey?: string;
  /** Folder for cached responses; none: no cache. */
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (p: EvalProgress) => void;
  /** Retries of one request on 429 / 5xx / connection errors (the openai client's). */
  maxRetries?: number;
  clock?: () => number;
}

const SUPPORTED = new Set([
  'equals',
  'contains',
  'icontains',
  'starts-with',
  'regex',
  'levenshtein',
  'token-overlap',
  'is-json',
  'json-schema',
  'has-fields',
  'max-latency',
  'max-ttft',
  'pii',
]);

/** Refuses, before any call, criteria this version cannot grade and bad configurations. */
export function checkSuiteCriteria(criteria: Criterion[]): void {
  const unsupported = criteria.filter((c) => !SUPPORTED.has(c.type));
  if (unsupported.length > 0) {
    throw new ValidationError(
      `This version cannot grade ${unsupported.map((c) => `"${c.name}" (${c.type})`).join(', ')} yet: ` +
        'code, judge and model-graded guardrail criteria, and max-cost (no price table yet), are not available. ' +
        'Remove them to run the rest.',
    );
  }
  for (const c of criteria) {
    try {
      checkCriterion(c as DeterministicCriterion);
    } catch (e) {
      throw new ValidationError(`criterion "${c.name}": ${(e as Error).message}`);
    }
  }
}

function renderInput(prompt: EvalPrompt, vars: Record<string, unknown>): ChatMessage[] {
  if (prompt.messages && prompt.messages.length > 0) return renderChat(prompt.messages, vars);
  return [{ role: 'user', content: renderTemplate(prompt.template, vars) }];
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank, as most latency dashboards report it.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

interface CallResult {
  output: string;
  usage: Usage | null;
  latencyMs: number;
  ttftMs: number | null;
}

function cacheKey(baseUrl: string, body: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify({ baseUrl, body })).digest('hex');
}

export async function runEval(options: RunEvalOptions): Promise<EvalResult> {
  const { suite, prompt, cases } = options;
  const clock = options.clock ?? Date.now;
  checkSuiteCriteria(suite.criteria);
  const provider = suite.provider;
  const client = new OpenAI({
    baseURL: provider.baseUrl,
    apiKey: options.apiKey ?? 'none',
    maxRetries: options.maxRetries ?? 3,
    timeout: provider.timeoutMs ?? 60_000,
    defaultHeaders: provider.headers,
  });
  const temperature = provider.temperature ?? numberSetting(prompt.modelSettings.temperature);
  const maxTokens = provider.maxTokens ?? numberSetting(prompt.modelSettings.max_tokens);
  const repeat = suite.repeat ?? 1;
  const useCache = (suite.cache ?? true) && options.cacheDir !== undefined;
  const started = clock();
  const startedMs = performance.now();

  const jobs: { index: number; repeat: number; c: EvalCase }[] = [];
  cases.forEach((c, index) => {
    for (let r = 0; r < repeat; r++) jobs.push({ index, repeat: r, c });
  });
  const results: CaseResult[] = new Array(jobs.length);
  const progress: EvalProgress = { done: 0, total: jobs.length, passed: 0, failed: 0, errored: 0 };

  const call = async (
    input: ChatMessage[],
    repeatIndex: number,
  ): Promise<CallResult & { cached: boolean }> => {
    const body: Record<string, unknown> = {
      model: provider.model,
      messages: input,
      ...(temperature !== undefined ? { temperature } : {}),
      ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
    };
    // Repeats must reach the model (that is their point), so each has its own key.
    const key = cacheKey(provider.baseUrl, { ...body, repeat: repeatIndex });
    const file = useCache ? path.join(options.cacheDir!, `${key}.json`) : undefined;
    if (file && fs.existsSync(file)) {
      try {
        return { ...(JSON.parse(fs.readFileSync(file, 'utf8')) as CallResult), cached: true };
      } catch {
        // a damaged cache entry is simply not used
      }
    }
    const t0 = performance.now();
    let ttftMs: number | null = null;
    let output = '';
    let usage: Usage | null = null;
    const stream = await client.chat.completions.create(
      {
        ...(body as { model: string; messages: ChatMessage[] }),
        messages: input as OpenAI.Chat.ChatCompletionMessageParam[],
        stream: true,
        stream_options: { include_usage: true },
      },
      { signal: options.signal },
    );
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) {
        if (ttftMs === null) ttftMs = performance.now() - t0;
        output += delta;
      }
      if (chunk.usage) {
        usage = {
          input: chunk.usage.prompt_tokens ?? 0,
          output: chunk.usage.completion_tokens ?? 0,
          cached: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
          reasoning: chunk.usage.completion_tokens_details?.reasoning_tokens ?? 0,
        };
      }
    }
    const result: CallResult = { output, usage, latencyMs: performance.now() - t0, ttftMs };
    if (file) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(result));
      fs.renameSync(tmp, file);
    }
    return { ...result, cached: false };
  };

  const runJob = async (slot: number): Promise<void> => {
    const job = jobs[slot]!;
    const base = {
      index: job.index,
      repeat: job.repeat,
      id: job.c.id ?? null,
      vars: job.c.vars,
    };
    let input: ChatMessage[] = [];
    try {
      input = renderInput(prompt, job.c.vars);
      const r = await call(input, job.repeat);
      const verdicts = suite.criteria.map((c) => {
        try {
          const g = gradeDeterministic(
            c as DeterministicCriterion & { not?: boolean; name: string },
            {
              output: r.output,
              expected: job.c.expected,
              vars: job.c.vars,
              latencyMs: r.latencyMs,
              ttftMs: r.ttftMs ?? undefined,
            },
          );
          return { name: c.name, ...g };
        } catch (e) {
          return {
            name: c.name,
            pass: false,
            score: 0,
            reason: `grader failed: ${(e as Error).message}`,
          };
        }
      });
      const pass = verdicts.every((v) => v.pass);
      results[slot] = {
        ...base,
        input,
        output: r.output,
        status: pass ? 'passed' : 'failed',
        error: null,
        verdicts,
        usage: r.usage,
        latencyMs: r.latencyMs,
        ttftMs: r.ttftMs,
        cached: r.cached,
      };
    } catch (e) {
      if (options.signal?.aborted) throw e;
      results[slot] = {
        ...base,
        input,
        output: null,
        status: 'errored',
        error: describeError(e),
        verdicts: [],
        usage: null,
        latencyMs: null,
        ttftMs: null,
        cached: false,
      };
    }
    const status = results[slot]!.status;
    progress.done++;
    progress[status]++;
    options.onProgress?.({ ...progress });
  };

  // A fixed pool of workers taking the next case: at most `concurrency` requests in flight.
  const concurrency = Math.min(suite.concurrency ?? 4, Math.max(1, jobs.length));
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) {
        if (options.signal?.aborted) throw new EvalCancelledError();
        const slot = next++;
        await runJob(slot);
      }
    }),
  ).catch((e) => {
    if (options.signal?.aborted) throw new EvalCancelledError();
    throw e;
  });

  return {
    suite: suite.name ?? 'eval',
    model: provider.model,
    baseUrl: provider.baseUrl,
    prompt: { label: prompt.label, name: prompt.name, version: prompt.version },
    startedAt: started,
    cases: results,
    summary: summarize(
      results,
      suite.criteria.map((c) => c.name),
      repeat,
      performance.now() - startedMs,
    ),
  };
}

export class EvalCancelledError extends Error {
  constructor() {
    super('The eval was cancelled.');
  }
}

function numberSetting(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function describeError(e: unknown): string {
  if (e instanceof OpenAI.APIConnectionTimeoutError) return 'the request timed out';
  if (e instanceof OpenAI.APIError && e.status) return `HTTP ${e.status}: ${e.message}`;
  if (e instanceof ValidationError) return e.message;
  return (e as Error).message ?? String(e);
}

export function summarize(
  results: CaseResult[],
  criteria: string[],
  repeat: number,
  durationMs: number,
): EvalSummary {
  const counts = { total: results.length, passed: 0, failed: 0, errored: 0 };
  const perCriterion: EvalSummary['perCriterion'] = {};
  for (const name of criteria) perCriterion[name] = { passed: 0, failed: 0, errored: 0 };
  const tokens: Usage = { input: 0, output: 0, cached: 0, reasoning: 0 };
  const latencies: number[] = [];
  const ttfts: number[] = [];
  let cachedCalls = 0;
  for (const r of results) {
    counts[r.status]++;
    for (const name of criteria) {
      const v = r.verdicts.find((x) => x.name === name);
      const slot = perCriterion[name]!;
      if (!v) slot.errored++;
      else if (v.pass) slot.passed++;
      else slot.failed++;
    }
    if (r.cached) cachedCalls++;
    // Cached answers were billed once already; they do not count again.
    if (r.usage && !r.cached) {
      tokens.input += r.usage.input;
      tokens.output += r.usage.output;
      tokens.cached += r.usage.cached;
      tokens.reasoning += r.usage.reasoning;
    }
    if (r.latencyMs !== null) latencies.push(r.latencyMs);
    if (r.ttftMs !== null) ttfts.push(r.ttftMs);
  }
  let passAtK: number | null = null;
  let passHatK: number | null = null;
  if (repeat > 1) {
    const byCase = new Map<number, CaseResult[]>();
    for (const r of results) byCase.set(r.index, [...(byCase.get(r.index) ?? []), r]);
    const groups = [...byCase.values()];
    passAtK = groups.filter((g) => g.some((r) => r.status === 'passed')).length / groups.length;
    passHatK = groups.filter((g) => g.every((r) => r.status === 'passed')).length / groups.length;
  }
  return {
    resultCounts: counts,
    perCriterion,
    passRate: counts.total === 0 ? 0 : counts.passed / counts.total,
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    ttftMs: { p50: percentile(ttfts, 50), p95: percentile(ttfts, 95) },
    tokens,
    repeat,
    passAtK,
    passHatK,
    cachedCalls,
    durationMs,
  };
}
