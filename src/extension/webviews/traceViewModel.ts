// A stored trace as the inspector page shows it: every span's row (tree and waterfall, read
// from the columns stored with each span, packed column by column for the trip), a
// span's details on demand (chat, inputs and outputs, attributes, events and exceptions,
// documents, tokens and cost), eval verdicts put on the model call they judged. No vscode
// here, so the unit tests read what the page gets.

import type { Assessment, AttributeValue, Attributes } from '../../core/model/tracing.ts';
import type { TraceOutline, TraceSpan } from '../../core/tracing/traces.ts';
import { packSpans } from '../../shared/traceView.ts';
import { SPAN_KINDS } from '../../core/model/tracing.ts';
import type {
  AssessmentView,
  SpanDetailView,
  SpanRowView,
  TraceView,
} from '../../shared/protocol.ts';

const MAX_TEXT = 200_000;

function json(v: AttributeValue | undefined): string | null {
  if (v === undefined || v === null) return null;
  const s = typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  return s.length > MAX_TEXT
    ? `${s.slice(0, MAX_TEXT)}\n… (${s.length - MAX_TEXT} more characters)`
    : s;
}

const pairs = (a: Attributes): [string, string][] =>
  Object.entries(a).map(([k, v]) => [k, json(v) ?? 'null']);

const isModelCall = (type: string) => type === 'LLM' || type === 'CHAT_MODEL';

/**
 * Verdicts of evaluator spans (`grade <criterion>` of our evals, or any EVALUATOR span whose
 * outputs say pass) on the model call beside them: the span whose output they judged.
 */
function verdictsBySpan(o: TraceOutline): Map<string, SpanRowView['verdicts']> {
  const out = new Map<string, SpanRowView['verdicts']>();
  if (o.evaluators.length === 0) return out;
  const modelCallBySibling = new Map<string | null, string>();
  for (const s of o.spans) {
    if (isModelCall(s.type) && !modelCallBySibling.has(s.parentSpanId))
      modelCallBySibling.set(s.parentSpanId, s.spanId);
  }
  for (const s of o.evaluators) {
    const v = s.meaning.outputs;
    if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof v.pass !== 'boolean')
      continue;
    const judged = modelCallBySibling.get(s.parentSpanId) ?? s.spanId;
    const list = out.get(judged) ?? [];
    list.push({
      name: s.name.replace(/^grade /, ''),
      pass: v.pass,
      reason: typeof v.reason === 'string' ? v.reason : '',
    });
    out.set(judged, list);
  }
  return out;
}

export function assessmentView(a: Assessment): AssessmentView {
  return {
    assessmentId: a.assessmentId,
    spanId: a.spanId,
    name: a.name,
    value: a.value,
    rationale: a.rationale,
    source: `${a.source.type.toLowerCase()}:${a.source.id}`,
    createdMs: a.createdMs,
  };
}

export function traceView(o: TraceOutline): TraceView {
  const t = o.summary;
  const origin = o.spans.reduce((m, s) => Math.min(m, s.startUs), Infinity);
  const verdicts = verdictsBySpan(o);
  return {
    traceId: t.traceId,
    name: t.name,
    state: t.state,
    startMs: t.startMs,
    durationMs: t.durationMs,
    spanCount: t.spanCount,
    errorCount: t.errorCount,
    tokensIn: t.tokensIn,
    tokensOut: t.tokensOut,
    costUsd: t.cost,
    ttftMs: t.ttftMs,
    sessionId: t.sessionId,
    experimentId: t.experimentId,
    runId: t.runId,
    prompt: t.promptName ? { name: t.promptName, version: t.promptVersion } : null,
    evalRunId: t.evalRunId,
    evalCase: t.evalCase,
    flagged: t.flagged,
    tags: Object.entries(t.tags),
    spans: packSpans(
      o.spans.map((s) => ({
        spanId: s.spanId,
        parentSpanId: s.parentSpanId,
        name: s.name,
        type: s.type,
        startUs: s.startUs - origin,
        durationUs: Math.max(0, s.endUs - s.startUs),
        status: s.statusCode,
        flags: s.flags.map((f) => f.check),
        verdicts: verdicts.get(s.spanId) ?? [],
      })),
    ),
    assessments: o.assessments.map(assessmentView),
  };
}

export function spanDetailView(s: TraceSpan): SpanDetailView {
  const m = s.meaning;
  const startNs = BigInt(s.startNs);
  return {
    spanId: s.spanId,
    name: s.name,
    type: m.type,
    kind: SPAN_KINDS[s.kind] ?? 'UNSPECIFIED',
    convention: m.convention,
    startNs: s.startNs,
    endNs: s.endNs,
    durationUs: Math.max(0, s.endUs - s.startUs),
    status: s.statusCode,
    statusMessage: s.statusMessage,
    model: m.model,
    tokensIn: s.tokensIn,
    tokensOut: s.tokensOut,
    costUsd: s.cost,
    ttftMs: s.ttftMs,
    toolName: m.toolName,
    inputs: json(m.inputs),
    outputs: json(m.outputs),
    inputMessages: m.inputMessages,
    outputMessages: m.outputMessages,
    documents: m.documents.map((d) => ({
      ...(d.id !== undefined ? { id: d.id } : {}),
      content: d.content,
      ...(d.score !== undefined ? { score: d.score } : {}),
      ...(d.metadata ? { metadata: JSON.stringify(d.metadata) } : {}),
    })),
    attributes: pairs(s.attributes),
    resource: pairs(s.resource),
    events: s.events.map((e) => ({
      name: e.name,
      offsetUs: Number((BigInt(e.timeNs) - startNs) / 1000n),
      attributes: pairs(e.attributes),
    })),
    exceptions: s.events
      .filter((e) => e.name === 'exception')
      .map((e) => ({
        type: String(e.attributes['exception.type'] ?? ''),
        message: String(e.attributes['exception.message'] ?? ''),
        stacktrace: String(e.attributes['exception.stacktrace'] ?? ''),
      })),
    flags: s.flags.map((f) => ({ check: f.check, action: f.action, reason: f.reason })),
    canAddToDataset:
      isModelCall(m.type) &&
      (m.inputMessages.length > 0 || s.attributes['mlops.prompt.variables'] !== undefined),
  };
}
