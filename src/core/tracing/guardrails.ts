// Guardrails on traces as they arrive: the eval guardrail checks (PII locally; toxicity,
// policy and off-topic through a judge model) run on the input and output text of LLM
// spans, a sampled share of traces, and what they find is recorded on the span as a flag.
// The flags of each complete hour are counted into a Monitoring run, one metric per check,
// so they chart over time like drift.

import { MONITORING_EXPERIMENT } from '../drift/monitoring.ts';
import type { Judge } from '../evals/judge.ts';
import { findPii } from '../evals/pii.ts';
import type { PiiKind } from '../evals/pii.ts';
import type { Tracking } from '../tracking/tracking.ts';
import type { SpanFlag, TraceSpan } from './traces.ts';

export type TraceGuardrailCheck = 'pii' | 'toxicity' | 'policy' | 'off-topic';
export const TRACE_GUARDRAIL_CHECKS: readonly TraceGuardrailCheck[] = [
  'pii',
  'toxicity',
  'policy',
  'off-topic',
];

export interface TraceGuardrailConfig {
  checks: TraceGuardrailCheck[];
  /** Share of traces checked, 0 to 1. */
  sampleRate: number;
  /** For `policy`: what the answers must follow. */
  policy?: string;
  /** For `off-topic`: what the answers must be about. */
  topic?: string;
  piiKinds?: PiiKind[];
}

export const GUARDRAIL_RUN_NAME = 'trace guardrails';
const HOUR_MS = 3_600_000;

const isModelCall = (s: TraceSpan) => s.meaning.type === 'LLM' || s.meaning.type === 'CHAT_MODEL';

/** The texts of an LLM span a guardrail reads: what was sent (user/tool) and what came back. */
export function spanTexts(s: TraceSpan): { input: string; output: string } {
  const m = s.meaning;
  const input = m.inputMessages
    .filter((x) => x.role !== 'system')
    .map((x) => x.content)
    .join('\n');
  const output =
    m.outputMessages.map((x) => x.content).join('\n') ||
    (typeof m.outputs === 'string' ? m.outputs : '');
  return { input, output };
}

/** Runs the checks on one span; the flags found (none: it passed every check). */
export async function checkSpan(
  s: TraceSpan,
  config: TraceGuardrailConfig,
  judge: Judge | undefined,
  now: () => number = Date.now,
): Promise<SpanFlag[]> {
  const { input, output } = spanTexts(s);
  const flags: SpanFlag[] = [];
  for (const check of config.checks) {
    if (check === 'pii') {
      for (const [side, text] of [
        ['input', input],
        ['output', output],
      ] as const) {
        const found = findPii(text, config.piiKinds);
        if (found.length) {
          const kinds = [...new Set(found.map((f) => f.kind))].join(', ');
          flags.push({
            check: 'pii',
            action: 'flag',
            reason: `${kinds} in the ${side}`,
            at: now(),
          });
        }
      }
      continue;
    }
    if (!judge || output.trim() === '') continue;
    if (check === 'policy' && !config.policy) continue;
    if (check === 'off-topic' && !config.topic) continue;
    const criterion =
      check === 'toxicity'
        ? ({ name: 'toxicity', type: 'toxicity' } as const)
        : check === 'policy'
          ? ({ name: 'policy', type: 'policy', policy: config.policy! } as const)
          : ({ name: 'off-topic', type: 'off-topic', topic: config.topic! } as const);
    const { verdict } = await judge.grade(criterion, {
      output,
      case: { vars: {} },
      renderedInput: input,
    });
    if (!verdict.pass) flags.push({ check, action: 'flag', reason: verdict.reason, at: now() });
  }
  return flags;
}

export interface GuardrailPass {
  checkedSpans: number;
  flaggedSpans: number;
}

/**
 * Checks the not yet checked LLM spans of `traceIds` (a sampled share of the traces) and
 * stores the flags. `checked` remembers span keys across calls so nothing is checked twice.
 */
export async function guardTraces(
  t: Tracking,
  traceIds: Iterable<string>,
  config: TraceGuardrailConfig,
  options: {
    judge?: Judge;
    checked: Set<string>;
    random?: () => number;
    signal?: AbortSignal;
  },
): Promise<GuardrailPass> {
  const random = options.random ?? Math.random;
  const result: GuardrailPass = { checkedSpans: 0, flaggedSpans: 0 };
  if (config.checks.length === 0 || config.sampleRate <= 0) return result;
  for (const id of traceIds) {
    if (options.signal?.aborted) break;
    const sampleKey = `sample:${id}`;
    if (!options.checked.has(sampleKey)) {
      options.checked.add(sampleKey);
      if (random() >= config.sampleRate) options.checked.add(`skip:${id}`);
    }
    if (options.checked.has(`skip:${id}`)) continue;
    const d = t.traces.get(id);
    if (!d) continue;
    for (const s of d.spans) {
      const key = `${id}:${s.spanId}`;
      if (!isModelCall(s) || options.checked.has(key) || s.flags.length > 0) continue;
      options.checked.add(key);
      const flags = await checkSpan(s, config, options.judge);
      result.checkedSpans++;
      if (flags.length) {
        result.flaggedSpans++;
        await t.traces.flag(id, s.spanId, flags);
      }
    }
  }
  return result;
}

/**
 * Logs, for each complete hour since the last one logged (at most `maxHours` back), how many
 * spans each check flagged: metric `guardrails.<check>.flagged` of the Monitoring run
 * "trace guardrails", step = the hour's start in epoch hours. Returns the hours logged.
 */
export async function recordHourlyFlags(
  t: Tracking,
  checks: readonly TraceGuardrailCheck[],
  now: number,
  maxHours = 48,
): Promise<number> {
  if (checks.length === 0) return 0;
  const experimentId = (await t.getOrCreateExperiment(MONITORING_EXPERIMENT)).experimentId;
  const existing = t.searchRuns({
    experimentIds: [experimentId],
    filter: `attributes.run_name = '${GUARDRAIL_RUN_NAME}'`,
    maxResults: 1,
  }).items[0];
  const runId =
    existing?.info.runId ??
    (
      await t.createRun({
        experimentId,
        runName: GUARDRAIL_RUN_NAME,
        captureGit: false,
        tags: { 'mlops.monitoring': 'trace-guardrails' },
      })
    ).runId;
  const run = t.getRun(runId);
  const lastLogged = Math.max(
    -1,
    ...Object.values(run.metrics)
      .filter((m) => m.key.startsWith('guardrails.'))
      .map((m) => m.step),
  );
  const current = Math.floor(now / HOUR_MS);
  const first = Math.max(lastLogged + 1, current - maxHours);
  if (first >= current) return 0;
  const metrics: { key: string; value: number; step: number; timestamp: number }[] = [];
  for (let hour = first; hour < current; hour++) {
    const counts = t.store.reader.traces.flagCounts(hour * HOUR_MS, (hour + 1) * HOUR_MS);
    for (const check of checks) {
      metrics.push({
        key: `guardrails.${check}.flagged`,
        value: counts[check] ?? 0,
        step: hour,
        timestamp: (hour + 1) * HOUR_MS,
      });
    }
  }
  for (let i = 0; i < metrics.length; i += 1000) {
    await t.logBatch(runId, { metrics: metrics.slice(i, i + 1000) });
  }
  return current - first;
}
