// Runs an eval suite: renders the prompt per case, calls the model through the
// `openai` package with streaming (time to first token, total time, usage),
// bounded concurrency, the client's retries on 429 / 5xx (it honours
// retry-after), a per-request timeout, cancellation, a response cache so a re-run
// does not re-bill, `repeat` with pass@k and pass^k, and grades every answer. A
// failing case or a provider error never stops the run: it is counted as errored.
// Costs come from the response's usage and a price table (a tokenizer estimate
// when the provider sends no usage); judge and guardrail criteria call a judge
// model, whose calls are recorded with each case and charged to the run; code
// criteria run workspace code in a worker, in trusted workspaces only.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { getMaxListeners, setMaxListeners } from 'node:events';
import * as path from 'node:path';
import OpenAI from 'openai';
import { ValidationError } from '../model/errors.ts';
import type { ChatMessage, ModelSettings } from '../registry/registry.ts';
import { renderChat, renderTemplate } from '../registry/template.ts';
import { assertCodeGradersAllowed, createCodeGrader } from './codeGrader.ts';
import type { CodeGrader } from './codeGrader.ts';
import { checkCriterion, gradeDeterministic } from './graders.ts';
import type { DeterministicCriterion, GradeResult } from './graders.ts';
import { isJudgeCriterion, Judge, judgeCallsOf, judgeConfig } from './judge.ts';
import type { ModelCall } from './judge.ts';
import { costOf, priceFor } from './pricing.ts';
import type { ModelPrice } from './pricing.ts';
import type { Criterion, EvalCase, EvalSuite } from './suite.ts';
import { estimateChatTokens, estimateTokens } from './tokens.ts';
import type { LiveSpan, Tracer } from '../tracing/tracer.ts';

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
  /** The grader could not decide: its judge call failed. Counted as errored. */
  errored?: boolean;
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
  /** The provider sent no usage: `usage` was counted with a tokenizer. */
  tokensEstimated: boolean;
  /** USD of the answer (as billed when it was made, for a cached one); null: no price. */
  costUsd: number | null;
  /** USD of this case's judge calls; null: none, or no price for the judge model. */
  judgeCostUsd: number | null;
  /** Every judge and moderation call made to grade this case. */
  judgeCalls: ModelCall[];
  latencyMs: number | null;
  ttftMs: number | null;
  /** The answer came from the cache: nothing was sent, nothing billed. */
  cached: boolean;
  /** The trace recorded for this case (with a tracer), else null. */
  traceId?: string | null;
}

export interface EvalSummary {
  /** The shape users of the OpenAI Evals API know. */
  resultCounts: { total: number; passed: number; failed: number; errored: number };
  perCriterion: Record<string, { passed: number; failed: number; errored: number }>;
  passRate: number;
  latencyMs: { p50: number | null; p95: number | null };
  ttftMs: { p50: number | null; p95: number | null };
  tokens: Usage;
  /** USD billed in this run for the calls under test (cached answers cost nothing); null: no price. */
  costUsd: number | null;
  /** USD of the judge's calls in this run; null: no judge calls, or no price for its model. */
  judgeCostUsd: number | null;
  judgeTokens: Usage;
  /** Some token counts behind the cost are tokenizer estimates. */
  costEstimated: boolean;
  /** Where the prices came from ("settings", or the shipped table's source and date). */
  priceSource: string | null;
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
  /** The judge endpoint's key, when it differs from the provider's (default: apiKey). */
  judgeApiKey?: string;
  /** Code criteria run workspace code: only when true (a trusted workspace, or the CLI). */
  trusted?: boolean;
  /** The suite file: code criteria name files relative to it. */
  suiteFile?: string;
  /** Prices (USD per 1M tokens) over the shipped table, e.g. from settings. */
  prices?: Record<string, ModelPrice>;
  clock?: () => number;
  /**
   * Records a trace per case: the model call (messages, tokens, time to first token) and a
   * span per criterion with the judge's calls under it. The caller flushes it (or discards
   * it when the run is cancelled).
   */
  tracer?: Tracer;
}

/** Refuses, before any call, bad criteria configurations and untrusted code criteria. */
export function checkSuiteCriteria(criteria: Criterion[], trusted = false): void {
  assertCodeGradersAllowed(criteria, trusted);
  for (const c of criteria) {
    if (c.type === 'code' || isJudgeCriterion(c)) continue;
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

function addUsage(into: Usage, u: Usage): void {
  into.input += u.input;
  into.output += u.output;
  into.cached += u.cached;
  into.reasoning += u.reasoning;
}

export async function runEval(options: RunEvalOptions): Promise<EvalResult> {
  const { suite, prompt, cases } = options;
  const clock = options.clock ?? Date.now;
  checkSuiteCriteria(suite.criteria, options.trusted ?? false);
  if (options.signal) {
    // Every request in flight (cases, judge and moderation calls, retries) listens
    // for the abort; with concurrency above a few that passes Node's default of 10
    // and prints a leak warning that is not one.
    const wanted = (suite.concurrency ?? 4) * 4 + 16;
    if (getMaxListeners(options.signal) < wanted) setMaxListeners(wanted, options.signal);
  }
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

  const price = priceFor(provider.model, options.prices);
  let judge: Judge | undefined;
  let judgeModel = '';
  if (suite.criteria.some(isJudgeCriterion)) {
    const jc = judgeConfig(suite);
    judgeModel = jc.model;
    judge = new Judge({
      client: new OpenAI({
        baseURL: jc.baseUrl,
        apiKey: options.judgeApiKey ?? options.apiKey ?? 'none',
        maxRetries: options.maxRetries ?? 3,
        timeout: jc.timeoutMs ?? 60_000,
        defaultHeaders: jc.headers,
      }),
      model: jc.model,
      temperature: jc.temperature,
      maxTokens: jc.maxTokens,
      signal: options.signal,
      moderationClient: client,
    });
  }
  const judgePrice = judge ? priceFor(judgeModel, options.prices) : null;
  const codeGraders = new Map<string, CodeGrader>();
  try {
    for (const c of suite.criteria) {
      if (c.type !== 'code') continue;
      if (!options.suiteFile) {
        throw new ValidationError(
          `criterion "${c.name}": a code criterion needs the suite's file to find ${c.file}.`,
        );
      }
      codeGraders.set(
        c.name,
        await createCodeGrader(c, options.suiteFile, { concurrency: suite.concurrency ?? 4 }),
      );
    }
  } catch (e) {
    await Promise.all([...codeGraders.values()].map((g) => g.close()));
    throw e;
  }

  const jobs: { index: number; repeat: number; c: EvalCase }[] = [];
  cases.forEach((c, index) => {
    for (let r = 0; r < repeat; r++) jobs.push({ index, repeat: r, c });
  });
  const results: CaseResult[] = new Array(jobs.length);
  const progress: EvalProgress = { done: 0, total: jobs.length, passed: 0, failed: 0, errored: 0 };

  const call = async (
    input: ChatMessage[],
    repeatIndex: number,
    root: LiveSpan | undefined,
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
    const span = root?.startChild(`chat ${provider.model}`, {
      type: 'CHAT_MODEL',
      kind: 3,
      inputs: body,
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': provider.model },
    });
    const finishSpan = (r: CallResult, cached: boolean) => {
      if (!span) return;
      span.setOutputs({
        model: provider.model,
        choices: [{ index: 0, message: { role: 'assistant', content: r.output } }],
        ...(r.usage
          ? { usage: { prompt_tokens: r.usage.input, completion_tokens: r.usage.output } }
          : {}),
      });
      if (r.usage) span.setTokenUsage(r.usage.input, r.usage.output);
      if (r.ttftMs !== null) span.setAttribute('mlops.ttft_ms', r.ttftMs);
      if (cached) span.setAttribute('mlops.cached', true);
      span.end();
    };
    if (file && fs.existsSync(file)) {
      try {
        const hit = JSON.parse(fs.readFileSync(file, 'utf8')) as CallResult;
        finishSpan(hit, true);
        return { ...hit, cached: true };
      } catch {
        // a damaged cache entry is simply not used
      }
    }
    const t0 = performance.now();
    let ttftMs: number | null = null;
    let output = '';
    let usage: Usage | null = null;
    try {
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
          if (ttftMs === null) {
            ttftMs = performance.now() - t0;
            span?.addEvent('first_token');
          }
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
    } catch (e) {
      span?.recordException(e);
      span?.end();
      throw e;
    }
    const result: CallResult = { output, usage, latencyMs: performance.now() - t0, ttftMs };
    finishSpan(result, false);
    if (file) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(result));
      fs.renameSync(tmp, file);
    }
    return { ...result, cached: false };
  };

  const judgeCost = (calls: ModelCall[]): number | null => {
    if (calls.length === 0 || !judgePrice) return null;
    let usd = 0;
    for (const c of calls) if (c.usage) usd += costOf(c.usage, judgePrice.price);
    return usd;
  };

  const grade = async (
    c: Criterion,
    job: (typeof jobs)[number],
    r: CallResult,
    renderedInput: string,
    costUsd: number | null,
    calls: ModelCall[],
  ): Promise<CriterionVerdict> => {
    try {
      if (isJudgeCriterion(c)) {
        try {
          const outcome = await judge!.grade(c, {
            output: r.output,
            case: job.c,
            renderedInput,
          });
          calls.push(...outcome.calls);
          return { name: c.name, ...outcome.verdict };
        } catch (e) {
          calls.push(...judgeCallsOf(e));
          if (options.signal?.aborted) throw e;
          return {
            name: c.name,
            pass: false,
            score: 0,
            reason: `the judge call failed: ${describeError(e)}`,
            errored: true,
          };
        }
      }
      if (c.type === 'code') {
        const g = await codeGraders.get(c.name)!.grade({
          output: r.output,
          case: job.c,
          vars: job.c.vars,
        });
        if (!c.not) return { name: c.name, ...g };
        return { name: c.name, pass: !g.pass, score: 1 - g.score, reason: `not: ${g.reason}` };
      }
      const g = gradeDeterministic(c as DeterministicCriterion & { not?: boolean; name: string }, {
        output: r.output,
        expected: job.c.expected,
        vars: job.c.vars,
        latencyMs: r.latencyMs,
        ttftMs: r.ttftMs ?? undefined,
        costUsd: costUsd ?? undefined,
      });
      if (c.type === 'max-cost' && costUsd === null) {
        return {
          name: c.name,
          pass: false,
          score: 0,
          reason: `no price for ${provider.model}: add it to the mlops.evals.prices setting (USD per 1M tokens)`,
        };
      }
      return { name: c.name, ...g };
    } catch (e) {
      if (options.signal?.aborted) throw e;
      return {
        name: c.name,
        pass: false,
        score: 0,
        reason: `grader failed: ${(e as Error).message}`,
      };
    }
  };

  /** A criterion's verdict as a span, with its judge and moderation calls as children. */
  const gradeTraced = async (
    root: LiveSpan | undefined,
    c: Criterion,
    ...args: Parameters<typeof grade> extends [Criterion, ...infer Rest] ? Rest : never
  ): Promise<CriterionVerdict> => {
    const span = root?.startChild(`grade ${c.name}`, {
      type: 'EVALUATOR',
      inputs: { criterion: c, output: args[1].output },
    });
    const verdict = await grade(c, ...args);
    if (span) {
      const calls = args[4].filter((x) => x.criterion === c.name);
      for (const x of calls) {
        const judgeSpan = span.startChild(`${x.purpose} ${x.model}`, {
          type: 'CHAT_MODEL',
          kind: 3,
          inputs: x.request,
          startMs: span.startMs,
        });
        judgeSpan.setOutputs(x.response);
        if (x.usage) judgeSpan.setTokenUsage(x.usage.input, x.usage.output);
        if (x.error) judgeSpan.setStatus('ERROR', x.error);
        judgeSpan.end(span.startMs + x.latencyMs);
      }
      span.setOutputs({ pass: verdict.pass, score: verdict.score, reason: verdict.reason });
      span.setAttribute('mlops.eval.pass', verdict.pass);
      if (verdict.errored) span.setStatus('ERROR', verdict.reason);
      span.end();
    }
    return verdict;
  };

  const runJob = async (slot: number): Promise<void> => {
    const job = jobs[slot]!;
    const base = {
      index: job.index,
      repeat: job.repeat,
      id: job.c.id ?? null,
      vars: job.c.vars,
    };
    const root = options.tracer?.startSpan(
      `${suite.name ?? 'eval'} · ${job.c.id ?? `case ${job.index + 1}`}${repeat > 1 ? ` #${job.repeat + 1}` : ''}`,
      {
        parent: null,
        type: 'CHAIN',
        inputs: job.c.vars,
        attributes: {
          'mlops.eval.suite': suite.name ?? '',
          'mlops.eval.case': `${job.index}/${job.repeat}`,
          'mlops.prompt.variables': job.c.vars,
          ...(prompt.name ? { 'mlops.prompt.name': prompt.name } : {}),
          ...(prompt.version !== null ? { 'mlops.prompt.version': String(prompt.version) } : {}),
        },
      },
    );
    let input: ChatMessage[] = [];
    try {
      input = renderInput(prompt, job.c.vars);
      const r = await call(input, job.repeat, root);
      let usage = r.usage;
      let tokensEstimated = false;
      if (!usage) {
        // No usage in the stream (some servers never send it): count with a tokenizer.
        usage = {
          input: await estimateChatTokens(input, provider.model),
          output: await estimateTokens(r.output, provider.model),
          cached: 0,
          reasoning: 0,
        };
        tokensEstimated = true;
      }
      const costUsd = price ? costOf(usage, price.price) : null;
      const renderedInput = input.map((m) => `${m.role}: ${m.content}`).join('\n\n');
      const calls: ModelCall[] = [];
      const verdicts = await Promise.all(
        suite.criteria.map((c) => gradeTraced(root, c, job, r, renderedInput, costUsd, calls)),
      );
      const erroredVerdict = verdicts.find((v) => v.errored);
      const pass = verdicts.every((v) => v.pass);
      results[slot] = {
        ...base,
        input,
        output: r.output,
        status: erroredVerdict ? 'errored' : pass ? 'passed' : 'failed',
        error: erroredVerdict ? `${erroredVerdict.name}: ${erroredVerdict.reason}` : null,
        verdicts,
        usage,
        tokensEstimated,
        costUsd,
        judgeCostUsd: judgeCost(calls),
        judgeCalls: calls,
        latencyMs: r.latencyMs,
        ttftMs: r.ttftMs,
        cached: r.cached,
        traceId: root?.traceId ?? null,
      };
    } catch (e) {
      if (options.signal?.aborted) throw e;
      root?.recordException(e);
      results[slot] = {
        ...base,
        input,
        output: null,
        status: 'errored',
        error: describeError(e),
        verdicts: [],
        usage: null,
        tokensEstimated: false,
        costUsd: null,
        judgeCostUsd: null,
        judgeCalls: [],
        latencyMs: null,
        ttftMs: null,
        cached: false,
        traceId: root?.traceId ?? null,
      };
    }
    if (root) {
      const done = results[slot]!;
      root.setOutputs(done.output);
      root.setAttribute('mlops.eval.status', done.status);
      if (done.status === 'errored' && done.error) root.setStatus('ERROR', done.error);
      root.end();
    }
    const status = results[slot]!.status;
    progress.done++;
    progress[status]++;
    options.onProgress?.({ ...progress });
  };

  // A fixed pool of workers taking the next case: at most `concurrency` requests in flight.
  const concurrency = Math.min(suite.concurrency ?? 4, Math.max(1, jobs.length));
  let next = 0;
  try {
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
  } finally {
    await Promise.all([...codeGraders.values()].map((g) => g.close()));
  }

  const priceSources = [price, judgePrice].filter((p) => p !== null);
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
      {
        priced: price !== null,
        judgePriced: judgePrice !== null,
        priceSource:
          priceSources.length === 0
            ? null
            : [...new Set(priceSources.map((p) => p.sourceLabel))].join('; '),
      },
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
  pricing: { priced: boolean; judgePriced: boolean; priceSource: string | null } = {
    priced: false,
    judgePriced: false,
    priceSource: null,
  },
): EvalSummary {
  const counts = { total: results.length, passed: 0, failed: 0, errored: 0 };
  const perCriterion: EvalSummary['perCriterion'] = {};
  for (const name of criteria) perCriterion[name] = { passed: 0, failed: 0, errored: 0 };
  const tokens: Usage = { input: 0, output: 0, cached: 0, reasoning: 0 };
  const judgeTokens: Usage = { input: 0, output: 0, cached: 0, reasoning: 0 };
  let costUsd = 0;
  let judgeCostUsd = 0;
  let judgeCalls = 0;
  let costEstimated = false;
  const latencies: number[] = [];
  const ttfts: number[] = [];
  let cachedCalls = 0;
  for (const r of results) {
    counts[r.status]++;
    for (const name of criteria) {
      const v = r.verdicts.find((x) => x.name === name);
      const slot = perCriterion[name]!;
      if (!v || v.errored) slot.errored++;
      else if (v.pass) slot.passed++;
      else slot.failed++;
    }
    if (r.cached) cachedCalls++;
    // Cached answers were billed once already; they do not count again.
    if (r.usage && !r.cached) {
      addUsage(tokens, r.usage);
      costUsd += r.costUsd ?? 0;
      if (r.tokensEstimated) costEstimated = true;
    }
    // Judge calls are made afresh on every run, cached answer or not.
    for (const c of r.judgeCalls ?? []) {
      judgeCalls++;
      if (c.usage) addUsage(judgeTokens, c.usage);
    }
    judgeCostUsd += r.judgeCostUsd ?? 0;
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
    costUsd: pricing.priced ? costUsd : null,
    judgeCostUsd: judgeCalls > 0 && pricing.judgePriced ? judgeCostUsd : null,
    judgeTokens,
    costEstimated,
    priceSource: pricing.priceSource,
    repeat,
    passAtK,
    passHatK,
    cachedCalls,
    durationMs,
  };
}
