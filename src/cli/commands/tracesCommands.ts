// `mlops traces list|search|show|export|prune|to-dataset`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ValidationError } from '../../core/model/errors.ts';
import type { TraceSummary } from '../../core/model/tracing.ts';
import { addCaseToSuite, caseFromSpan } from '../../core/tracing/toDataset.ts';
import type { TraceDetail, TraceSpan } from '../../core/tracing/traces.ts';
import type { CommandContext, CommandSpec } from '../context.ts';
import { EXIT_CHECK_FAILED, EXIT_OK } from '../context.ts';
import { formatTime, table } from '../format.ts';
import { findExperiment } from './shared.ts';

const SEARCH_OPTIONS = {
  experiment: { type: 'string', multiple: true, short: 'e' },
  'order-by': { type: 'string', multiple: true },
  max: { type: 'string' },
  'page-token': { type: 'string' },
  'fail-if-empty': { type: 'boolean' },
} as const;

const SEARCH_DETAILS = `  -e, --experiment <id|name>  limit to these experiments (repeatable; default: all)
  --order-by "<field> [ASC|DESC]"  e.g. "trace.execution_time_ms DESC" (repeatable)
  --max <n>            at most n traces (default 50)
  --page-token <t>     continue from a previous --json page's nextPageToken
  --fail-if-empty      exit 1 when nothing matches (for CI)`;

const ms = (v: number) => (v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(2)} s`);
const usd = (v: number | null) =>
  v === null ? '' : `$${v < 0.01 ? v.toPrecision(2) : v.toFixed(4)}`;
const tokens = (t: TraceSummary) =>
  t.tokensIn === null && t.tokensOut === null ? '' : `${t.tokensIn ?? 0}/${t.tokensOut ?? 0}`;

function traceTable(traces: TraceSummary[]): string {
  if (traces.length === 0) return 'No traces.\n';
  return table(
    ['TRACE', 'NAME', 'STATE', 'STARTED', 'DURATION', 'SPANS', 'TOKENS', 'COST'],
    traces.map((t) => [
      t.traceId.slice(0, 12),
      t.name,
      t.state + (t.flagged ? ' (flagged)' : ''),
      formatTime(t.startMs),
      ms(t.durationMs),
      `${t.spanCount}${t.errorCount ? ` (${t.errorCount} err)` : ''}`,
      tokens(t),
      usd(t.cost),
    ]),
  );
}

async function search(ctx: CommandContext, filter: string): Promise<number> {
  const t = await ctx.open();
  const experimentIds = ctx.list('experiment').map((ref) => findExperiment(t, ref).experimentId);
  const page = t.traces.search({
    experimentIds,
    filter,
    orderBy: ctx.list('order-by'),
    maxResults: ctx.int('max') ?? 50,
    pageToken: ctx.str('page-token'),
  });
  ctx.print(
    { traces: page.traces, nextPageToken: page.nextPageToken ?? null },
    () =>
      traceTable(page.traces) +
      (page.nextPageToken ? `(more traces: --page-token ${page.nextPageToken})\n` : ''),
  );
  return page.traces.length === 0 && ctx.bool('fail-if-empty') ? EXIT_CHECK_FAILED : EXIT_OK;
}

/** The span tree, indented, with type, duration and what went wrong. */
function spanTree(d: TraceDetail): string {
  const children = new Map<string | null, TraceSpan[]>();
  const ids = new Set(d.spans.map((s) => s.spanId));
  for (const s of d.spans) {
    // A span whose parent never arrived is shown at the top.
    const parent = s.parentSpanId !== null && ids.has(s.parentSpanId) ? s.parentSpanId : null;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      const dur = ms((s.endUs - s.startUs) / 1000);
      const extra = [
        s.meaning.model ?? '',
        s.tokensIn !== null || s.tokensOut !== null
          ? `${s.tokensIn ?? 0}/${s.tokensOut ?? 0} tokens`
          : '',
        s.statusCode === 2 ? `ERROR ${s.statusMessage}` : '',
        s.flags.length ? `flagged: ${s.flags.map((f) => f.check).join(', ')}` : '',
      ].filter(Boolean);
      lines.push(
        `${'  '.repeat(depth)}${s.name}  [${s.meaning.type}] ${dur}${extra.length ? `  ${extra.join(' · ')}` : ''}`,
      );
      walk(s.spanId, depth + 1);
    }
  };
  walk(null, 0);
  return lines.join('\n') + '\n';
}

function showTrace(d: TraceDetail): string {
  const t = d.summary;
  const lines = [
    `Trace      ${t.traceId} (${t.requestId})`,
    `Name       ${t.name}`,
    `State      ${t.state}`,
    `Started    ${formatTime(t.startMs)}  ${ms(t.durationMs)}`,
    `Spans      ${t.spanCount}${t.errorCount ? `, ${t.errorCount} with errors` : ''}`,
  ];
  if (tokens(t)) lines.push(`Tokens     ${t.tokensIn ?? 0} in / ${t.tokensOut ?? 0} out`);
  if (t.cost !== null) lines.push(`Cost       ${usd(t.cost)}`);
  if (t.ttftMs !== null) lines.push(`First tok. ${ms(t.ttftMs)}`);
  if (t.sessionId) lines.push(`Session    ${t.sessionId}`);
  if (t.runId) lines.push(`Run        ${t.runId}`);
  if (t.promptName)
    lines.push(`Prompt     ${t.promptName}${t.promptVersion ? ` v${t.promptVersion}` : ''}`);
  if (t.evalRunId) lines.push(`Eval       run ${t.evalRunId}, case ${t.evalCase ?? ''}`);
  if (t.inputPreview) lines.push(`Input      ${t.inputPreview}`);
  if (t.outputPreview) lines.push(`Output     ${t.outputPreview}`);
  let out = lines.join('\n') + '\n\nSpans\n' + spanTree(d);
  const tags = Object.entries(t.tags);
  if (tags.length) out += '\nTags\n' + table(['KEY', 'VALUE'], tags);
  if (d.assessments.length) {
    out +=
      '\nAssessments\n' +
      table(
        ['NAME', 'VALUE', 'SOURCE', 'RATIONALE'],
        d.assessments.map((a) => [
          a.name,
          String(a.value),
          `${a.source.type}:${a.source.id}`,
          a.rationale,
        ]),
      );
  }
  return out;
}

/** "30d", "12h", "90m", "45s" or milliseconds. */
export function parseAge(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!m) throw new ValidationError(`'${text}' is not an age: write 30d, 12h, 90m or 45s.`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
    (m[2] ?? 'ms') as 'ms'
  ];
  return Number(m[1]) * unit;
}

function mustTrace(ctx: CommandContext, d: TraceDetail | undefined, id: string): TraceDetail {
  if (!d) throw ctx.usage(`trace ${id} not found`);
  return d;
}

export const tracesCommands: CommandSpec[] = [
  {
    name: 'traces list',
    usage: 'mlops traces list [-e <experiment>]... [--order-by ...] [--max n] [--json]',
    summary: 'List traces, newest first, with duration, spans, tokens and cost.',
    details: SEARCH_DETAILS,
    options: SEARCH_OPTIONS,
    run: (ctx) => search(ctx, ''),
  },
  {
    name: 'traces search',
    usage:
      'mlops traces search "<filter>" [-e <experiment>]... [--order-by ...] [--max n] [--json]',
    summary: "Find traces with MLflow's trace filter, plus OR, parentheses and IN.",
    details:
      SEARCH_DETAILS +
      `\n\nFields: trace.status, trace.name, trace.timestamp_ms, trace.execution_time_ms,
trace.tokens, trace.cost, trace.ttft_ms, trace.session, trace.user, trace.run_id,
trace.prompt, trace.flagged, tags.<key>, metadata.<key>, span.name, span.type, span.model,
span.status.

Examples:
  mlops traces search "trace.status = 'ERROR'"
  mlops traces search "trace.execution_time_ms > 2000 AND span.type = 'TOOL'"
  mlops traces search "trace.cost > 0.01" --order-by "trace.cost DESC"`,
    options: SEARCH_OPTIONS,
    run: (ctx) => search(ctx, ctx.arg(0, 'filter')),
  },
  {
    name: 'traces show',
    usage: 'mlops traces show <trace-id> [--json]',
    summary:
      'Show a trace: its span tree with types, timings, tokens and errors; tags and assessments.',
    details: '  <trace-id>  the 32 hex digits, tr-<hex>, or a unique prefix of 6 or more',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      const id = t.traces.resolveId(ctx.arg(0, 'trace-id'));
      const d = mustTrace(ctx, t.traces.get(id), id);
      ctx.print(d, () => showTrace(d));
      return EXIT_OK;
    },
  },
  {
    name: 'traces export',
    usage: 'mlops traces export <trace-id>... [--filter "<filter>"] [--out <file>]',
    summary: 'Export traces with every span and attribute as JSON (to stdout or a file).',
    details: `  --filter "<f>"   export the traces that match instead of listing ids (at most 1000)
  --out <file>     write there instead of stdout`,
    options: { filter: { type: 'string' }, out: { type: 'string' } },
    async run(ctx) {
      const t = await ctx.open();
      const filter = ctx.str('filter');
      const ids =
        filter !== undefined
          ? t.traces.search({ filter, maxResults: 1000 }).traces.map((x) => x.traceId)
          : ctx.positionals.map((p) => t.traces.resolveId(p));
      if (ids.length === 0) throw ctx.usage('name the traces to export, or give --filter');
      const traces = ids.map((id) => mustTrace(ctx, t.traces.get(id), id));
      const text = JSON.stringify({ traces }, null, 2) + '\n';
      const out = ctx.str('out');
      if (out) {
        fs.writeFileSync(path.resolve(ctx.io.cwd, out), text);
        ctx.io.err(`Wrote ${traces.length} trace${traces.length === 1 ? '' : 's'} to ${out}.\n`);
      } else ctx.io.out(text);
      return EXIT_OK;
    },
  },
  {
    name: 'traces prune',
    usage: 'mlops traces prune --older-than <age> [--dry-run] [--json]',
    summary: 'Delete traces that started longer ago than an age (30d, 12h, ...).',
    details: `  --older-than <age>  30d, 12h, 90m, 45s
  --dry-run           say how many would go, delete nothing`,
    options: { 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean' } },
    async run(ctx) {
      const age = ctx.str('older-than');
      if (!age) throw ctx.usage('give --older-than, e.g. --older-than 30d');
      const t = await ctx.open();
      const dryRun = ctx.bool('dry-run');
      const n = await t.traces.prune(parseAge(age), { dryRun });
      ctx.print({ deleted: dryRun ? 0 : n, matched: n, dryRun }, () =>
        dryRun
          ? `${n} trace${n === 1 ? '' : 's'} would be deleted.\n`
          : `Deleted ${n} trace${n === 1 ? '' : 's'}.\n`,
      );
      return EXIT_OK;
    },
  },
  {
    name: 'traces to-dataset',
    usage:
      'mlops traces to-dataset <trace-id> --suite <file.eval.yaml> [--span <span-id>] [--json]',
    summary:
      "Add an LLM span of a trace as a case of an eval suite's dataset (its output the reference).",
    details: `  --suite <file>   the eval suite whose dataset gets the case (JSONL, CSV or inline cases)
  --span <id>      the span (default: the trace's first LLM or chat span)

The case's variables are the span's template variables when it recorded them, else
"input" (the last user message) and "messages". A case whose variables are already in the
dataset is not added again (exit 1, nothing written).`,
    options: { suite: { type: 'string' }, span: { type: 'string' } },
    async run(ctx) {
      const suite = ctx.str('suite');
      if (!suite) throw ctx.usage('give --suite <file.eval.yaml>');
      const t = await ctx.open();
      const id = t.traces.resolveId(ctx.arg(0, 'trace-id'));
      const d = mustTrace(ctx, t.traces.get(id), id);
      const wanted = ctx.str('span');
      const span = wanted
        ? d.spans.find((s) => s.spanId.startsWith(wanted.toLowerCase()))
        : d.spans.find((s) => s.meaning.type === 'LLM' || s.meaning.type === 'CHAT_MODEL');
      if (!span) {
        throw ctx.usage(
          wanted ? `trace ${id} has no span ${wanted}` : `trace ${id} has no LLM span`,
        );
      }
      const result = addCaseToSuite(path.resolve(ctx.io.cwd, suite), caseFromSpan(span));
      ctx.print(result, () =>
        result.added
          ? `Added case ${result.case.id} to ${path.relative(ctx.io.cwd, result.file)}.\n`
          : `${path.relative(ctx.io.cwd, result.file)} already has a case with these variables; nothing added.\n`,
      );
      return result.added ? EXIT_OK : EXIT_CHECK_FAILED;
    },
  },
];
