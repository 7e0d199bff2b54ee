// What an eval run leaves behind: a run in the store (params, metrics, tags and the
// full results as an artifact, so the Experiments view and Compare Runs show it),
// the change against the previous run of the same suite, and the reports CI reads
// (a Markdown summary and JUnit XML).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tracer } from '../tracing/tracer.ts';
import type { Tracking } from '../tracking/tracking.ts';
import type { CaseResult, EvalResult } from './runner.ts';

export const EVAL_EXPERIMENT = 'Evals';
export const SUITE_TAG = 'mlops.eval.suite';

export interface EvalComparison {
  previousRunId: string;
  passRateChange: number;
  /** Cases (by index and repeat) whose status changed. */
  flipped: { index: number; repeat: number; from: string; to: string }[];
  outputTokensChange: number | null;
  /** Relative change of the cost (calls under test and judge); null when either is unknown. */
  costChange: number | null;
  latencyP50Change: number | null;
  /** Output tokens or cost grew by 30% or more. */
  costRegression: boolean;
}

/**
 * Records the run. With the `tracer` the run recorded its cases with, the cases' traces are
 * written too, each linked to the run (metadata mlops.eval.run) and to its case.
 */
export async function recordEval(
  t: Tracking,
  result: EvalResult,
  suiteFile: string,
  tracer?: Tracer,
): Promise<{ runId: string; comparison: EvalComparison | null }> {
  const experimentId = (await t.getOrCreateExperiment(EVAL_EXPERIMENT)).experimentId;
  const previous = t.searchRuns({
    experimentIds: [experimentId],
    filter: `tags.\`${SUITE_TAG}\` = '${suiteFile.replace(/'/g, "''")}' and attributes.status = 'FINISHED'`,
    orderBy: ['attributes.start_time DESC'],
    maxResults: 1,
  }).items[0];
  const s = result.summary;
  const run = await t.createRun({
    experimentId,
    runName: `${result.suite} · ${result.prompt.label}`,
    startTime: result.startedAt,
    captureGit: false,
    tags: {
      [SUITE_TAG]: suiteFile,
      'mlops.eval.model': result.model,
      ...(result.prompt.name ? { 'mlops.prompt.name': result.prompt.name } : {}),
      ...(result.prompt.version !== null
        ? { 'mlops.prompt.version': String(result.prompt.version) }
        : {}),
    },
  });
  const metrics: { key: string; value: number }[] = [
    { key: 'pass_rate', value: s.passRate },
    { key: 'passed', value: s.resultCounts.passed },
    { key: 'failed', value: s.resultCounts.failed },
    { key: 'errored', value: s.resultCounts.errored },
    { key: 'tokens_input', value: s.tokens.input },
    { key: 'tokens_output', value: s.tokens.output },
  ];
  const add = (key: string, v: number | null): void => {
    if (v !== null) metrics.push({ key, value: v });
  };
  add('cost_usd', totalCost(result));
  add('judge_cost_usd', s.judgeCostUsd ?? null);
  add('latency_p50_ms', s.latencyMs.p50);
  add('latency_p95_ms', s.latencyMs.p95);
  add('ttft_p50_ms', s.ttftMs.p50);
  add('ttft_p95_ms', s.ttftMs.p95);
  add('pass_at_k', s.passAtK);
  add('pass_hat_k', s.passHatK);
  for (const [name, c] of Object.entries(s.perCriterion)) {
    const n = c.passed + c.failed + c.errored;
    if (n > 0) metrics.push({ key: `criterion.${name}.pass_rate`, value: c.passed / n });
  }
  await t.logBatch(run.runId, {
    params: {
      suite: suiteFile,
      model: result.model,
      base_url: result.baseUrl,
      prompt: result.prompt.label,
      cases: String(new Set(result.cases.map((c) => c.index)).size),
      repeat: String(s.repeat),
    },
    metrics: metrics.map((m) => ({ ...m, step: 0, timestamp: result.startedAt })),
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-eval-'));
  try {
    const file = path.join(tmp, 'results.json');
    fs.writeFileSync(file, JSON.stringify(result, null, 2));
    t.logArtifact(run.runId, file, 'eval');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (tracer) {
    await tracer.flush();
    await t.traces.addMetadata(
      result.cases.map((c) => c.traceId).filter((id): id is string => !!id),
      { 'mlops.eval.run': run.runId },
    );
  }
  await t.endRun(run.runId, 'FINISHED');

  let comparison: EvalComparison | null = null;
  if (previous) {
    let before: EvalResult | undefined;
    try {
      before = JSON.parse(
        fs.readFileSync(t.artifactPath(previous.info.runId, 'eval/results.json'), 'utf8'),
      ) as EvalResult;
    } catch {
      before = undefined;
    }
    if (before) comparison = compareEvals(before, result, previous.info.runId);
  }
  return { runId: run.runId, comparison };
}

export function compareEvals(
  before: EvalResult,
  after: EvalResult,
  previousRunId: string,
): EvalComparison {
  const key = (c: CaseResult): string => `${c.index}/${c.repeat}`;
  const old = new Map(before.cases.map((c) => [key(c), c.status]));
  const flipped = after.cases
    .filter((c) => old.has(key(c)) && old.get(key(c)) !== c.status)
    .map((c) => ({ index: c.index, repeat: c.repeat, from: old.get(key(c))!, to: c.status }));
  const rel = (a: number | null | undefined, b: number | null | undefined): number | null =>
    a !== null && a !== undefined && b !== null && b !== undefined && a > 0 ? (b - a) / a : null;
  const change = rel(before.summary.tokens.output, after.summary.tokens.output);
  // Per case, so a run of more (or cached) cases is not a regression by itself.
  const costChange = rel(costPerCall(before), costPerCall(after));
  return {
    previousRunId,
    passRateChange: after.summary.passRate - before.summary.passRate,
    flipped,
    outputTokensChange: change,
    costChange,
    latencyP50Change: rel(before.summary.latencyMs.p50, after.summary.latencyMs.p50),
    costRegression:
      (change !== null && change >= 0.3) || (costChange !== null && costChange >= 0.3),
  };
}

/** USD of a run: the calls under test plus the judge's; null when the model has no price. */
export function totalCost(result: EvalResult): number | null {
  const s = result.summary as Partial<EvalResult['summary']>;
  if (s.costUsd === null || s.costUsd === undefined) return null;
  return s.costUsd + (s.judgeCostUsd ?? 0);
}

/** USD per answer that was billed (cached answers are not), judge included. */
function costPerCall(result: EvalResult): number | null {
  const total = totalCost(result);
  const billed = result.cases.filter((c) => !c.cached && c.output !== null).length;
  return total === null || billed === 0 ? null : total / billed;
}

export function formatUsd(v: number | null): string {
  if (v === null) return 'unknown';
  if (v === 0) return '$0';
  return v >= 0.01 ? `$${v.toFixed(2)}` : `$${Number(v.toPrecision(2))}`;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
const ms = (v: number | null): string => (v === null ? '-' : `${Math.round(v)} ms`);

export function markdownSummary(
  result: EvalResult,
  comparison: EvalComparison | null,
  gates: string[],
): string {
  const s = result.summary;
  const lines = [
    `### Eval ${result.suite}: ${pct(s.passRate)} passed`,
    '',
    `Prompt \`${result.prompt.label}\` on \`${result.model}\`: ${s.resultCounts.passed} passed, ${s.resultCounts.failed} failed, ${s.resultCounts.errored} errored of ${s.resultCounts.total}.`,
    '',
    '| criterion | passed | failed | errored |',
    '| --- | --- | --- | --- |',
    ...Object.entries(s.perCriterion).map(
      ([n, c]) => `| ${n} | ${c.passed} | ${c.failed} | ${c.errored} |`,
    ),
    '',
    `Latency p50 ${ms(s.latencyMs.p50)}, p95 ${ms(s.latencyMs.p95)}; time to first token p50 ${ms(s.ttftMs.p50)}, p95 ${ms(s.ttftMs.p95)}; tokens ${s.tokens.input} in, ${s.tokens.output} out${s.cachedCalls ? ` (${s.cachedCalls} answers from the cache)` : ''}.`,
    `Cost ${formatUsd(totalCost(result))}${s.judgeCostUsd ? ` (judge ${formatUsd(s.judgeCostUsd)})` : ''}${s.costEstimated ? ', partly estimated with a tokenizer (the provider sent no usage)' : ''}${s.costUsd === null ? ` (no price for ${result.model})` : ''}.`,
  ];
  if (s.passAtK !== null)
    lines.push(`pass@${s.repeat} ${pct(s.passAtK)}, pass^${s.repeat} ${pct(s.passHatK ?? 0)}.`);
  if (comparison) {
    const sign = comparison.passRateChange >= 0 ? '+' : '';
    lines.push(
      '',
      `Against the previous run: pass rate ${sign}${(comparison.passRateChange * 100).toFixed(1)} points, ${comparison.flipped.length} cases flipped` +
        (comparison.outputTokensChange !== null
          ? `, output tokens ${comparison.outputTokensChange >= 0 ? '+' : ''}${(comparison.outputTokensChange * 100).toFixed(0)}%`
          : '') +
        (comparison.costChange !== null
          ? `, cost per answer ${comparison.costChange >= 0 ? '+' : ''}${(comparison.costChange * 100).toFixed(0)}%`
          : '') +
        (comparison.costRegression
          ? ' (**cost regression**: output tokens or cost grew 30% or more)'
          : '') +
        '.',
    );
  }
  if (gates.length) lines.push('', ...gates.map((g) => `- ${g}`));
  return `${lines.join('\n')}\n`;
}

function xml(s: string): string {
  // XML 1.0 has no form for most control characters: they are dropped.
  return s
    .replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(/\p{Cc}/gu, (c) => (c === '\t' || c === '\n' || c === '\r' ? c : ''));
}

/** JUnit XML, one test case per eval case (and repeat), as CI systems read it. */
export function junitXml(result: EvalResult): string {
  const s = result.summary;
  const seconds = (v: number | null): string => ((v ?? 0) / 1000).toFixed(3);
  const cases = result.cases.map((c) => {
    const name = `${c.id ?? `case ${c.index + 1}`}${s.repeat > 1 ? ` #${c.repeat + 1}` : ''}`;
    const head = `  <testcase classname="${xml(result.suite)}" name="${xml(name)}" time="${seconds(c.latencyMs)}"`;
    if (c.status === 'passed') return `${head}/>`;
    if (c.status === 'errored')
      return `${head}>\n    <error message="${xml(c.error ?? 'error')}"/>\n  </testcase>`;
    const failed = c.verdicts.filter((v) => !v.pass);
    return `${head}>\n    <failure message="${xml(failed.map((v) => `${v.name}: ${v.reason}`).join('; '))}"/>\n  </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="${xml(result.suite)}" tests="${s.resultCounts.total}" failures="${s.resultCounts.failed}" errors="${s.resultCounts.errored}" time="${(s.durationMs / 1000).toFixed(3)}">`,
    ...cases,
    '</testsuite>',
    '',
  ].join('\n');
}
