// The eval results page as data: its rows (one per case and repeat, paired with another
// run's side by side), which flipped, what the filters keep, how costs, rates and times
// read, and the CSV / Markdown exports. Pure, so the page draws exactly what tests check.

import { formatDuration } from './compareTable.ts';
import type { EvalCaseView, EvalRunView, EvalSummaryView } from './protocol.ts';

// ------------------------------------------------------------------ rows

/** Identifies a case across runs of one suite: its dataset index and its repeat. */
export function caseKey(c: { index: number; repeat: number }): string {
  return `${c.index}/${c.repeat}`;
}

export interface EvalRow {
  /** `<index>/<repeat>`, the row's `data-case`. */
  key: string;
  index: number;
  repeat: number;
  /** The case in the run shown; null when only the other run (side by side) has it. */
  current: EvalCaseView | null;
  /** Side by side: the other run's case, null when it lacks this one. Undefined otherwise. */
  other?: EvalCaseView | null;
  /**
   * The status changed: against the other run when side by side, else against the previous
   * run of the suite. A case present in one run only has no status to change: not flipped.
   */
  flipped: boolean;
  /** Not side by side: the status in the previous run, when flipped. */
  flippedFrom: string | null;
  /** Lower-cased text the search looks in: id, vars, output, error and verdict reasons. */
  search: string;
}

function searchText(c: EvalCaseView | null | undefined): string {
  if (!c) return '';
  const parts = [
    c.id ?? '',
    compactVars(c.vars),
    c.output ?? '',
    c.error ?? '',
    ...c.verdicts.map((v) => v.reason),
  ];
  return parts.join('\n').toLowerCase();
}

/**
 * The rows of the cases table, ordered by index then repeat. With `other`, each case is
 * paired with the other run's case of the same index and repeat, cases of only one run get
 * a row too, and `flipped` compares the two statuses; without it, `flipped` comes from the
 * run's comparison with the previous run.
 */
export function evalRows(run: EvalRunView, other: EvalRunView | null = null): EvalRow[] {
  const rows: EvalRow[] = [];
  if (!other) {
    const from = new Map((run.comparison?.flipped ?? []).map((f) => [caseKey(f), f.from]));
    for (const c of run.cases) {
      const key = caseKey(c);
      const was = from.get(key);
      rows.push({
        key,
        index: c.index,
        repeat: c.repeat,
        current: c,
        flipped: was !== undefined,
        flippedFrom: was ?? null,
        search: searchText(c),
      });
    }
  } else {
    const theirs = new Map(other.cases.map((c) => [caseKey(c), c]));
    const seen = new Set<string>();
    for (const c of run.cases) {
      const key = caseKey(c);
      seen.add(key);
      const o = theirs.get(key) ?? null;
      rows.push({
        key,
        index: c.index,
        repeat: c.repeat,
        current: c,
        other: o,
        flipped: o !== null && o.status !== c.status,
        flippedFrom: null,
        search: `${searchText(c)}\n${searchText(o)}`,
      });
    }
    for (const o of other.cases) {
      const key = caseKey(o);
      if (seen.has(key)) continue;
      rows.push({
        key,
        index: o.index,
        repeat: o.repeat,
        current: null,
        other: o,
        flipped: false,
        flippedFrom: null,
        search: searchText(o),
      });
    }
  }
  // Array.prototype.sort is stable: a run's own order survives among equal keys.
  return rows.sort((a, b) => a.index - b.index || a.repeat - b.repeat);
}

/** How many cases only one of two runs has. */
export function unpairedCounts(rows: readonly EvalRow[]): { onlyHere: number; onlyThere: number } {
  let onlyHere = 0;
  let onlyThere = 0;
  for (const r of rows) {
    if (r.other === undefined) continue;
    if (r.current && !r.other) onlyHere++;
    if (!r.current && r.other) onlyThere++;
  }
  return { onlyHere, onlyThere };
}

// ------------------------------------------------------------------ filters

export type StatusFilter = 'all' | 'failed' | 'errored' | 'passed' | 'not-passed';

export const STATUS_FILTERS: { value: StatusFilter; label: string }[] = [
  { value: 'all', label: 'All statuses' },
  { value: 'failed', label: 'Failed' },
  { value: 'errored', label: 'Errored' },
  { value: 'passed', label: 'Passed' },
  { value: 'not-passed', label: 'Not passed' },
];

export interface CaseFilter {
  status: StatusFilter;
  flippedOnly: boolean;
  /** Words that must all appear (case-insensitive) in the vars, output or reasons. */
  text: string;
}

export const NO_FILTER: CaseFilter = { status: 'all', flippedOnly: false, text: '' };

function statusMatches(row: EvalRow, status: StatusFilter): boolean {
  if (status === 'all') return true;
  // A case the run shown lacks has no status of its own to match.
  const s = row.current?.status;
  if (!s) return false;
  return status === 'not-passed' ? s !== 'passed' : s === status;
}

function searchTerms(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}

function textMatches(row: EvalRow, terms: readonly string[]): boolean {
  return terms.every((t) => row.search.includes(t));
}

function matches(row: EvalRow, filter: CaseFilter, terms: readonly string[]): boolean {
  return (
    statusMatches(row, filter.status) &&
    (!filter.flippedOnly || row.flipped) &&
    textMatches(row, terms)
  );
}

export function matchesFilter(row: EvalRow, filter: CaseFilter): boolean {
  return matches(row, filter, searchTerms(filter.text));
}

export function filterRows(rows: readonly EvalRow[], filter: CaseFilter): EvalRow[] {
  const terms = searchTerms(filter.text);
  return rows.filter((r) => matches(r, filter, terms));
}

/** The filter with only the parts that hide `row` cleared, so a case asked for is shown. */
export function filterShowing(row: EvalRow, filter: CaseFilter): CaseFilter {
  return {
    status: statusMatches(row, filter.status) ? filter.status : 'all',
    flippedOnly: filter.flippedOnly && row.flipped,
    text: textMatches(row, searchTerms(filter.text)) ? filter.text : '',
  };
}

// ------------------------------------------------------------------ cells

export const DASH = '—';

export const STATUS_ICON: Record<EvalCaseView['status'], string> = {
  passed: '✓',
  failed: '✗',
  errored: '⚠',
};

/** Criteria that did not pass; an undecided one (its judge failed) says so. */
export function failedCriteria(c: EvalCaseView): string[] {
  return c.verdicts
    .filter((v) => v.errored || !v.pass)
    .map((v) => (v.errored ? `${v.name} (error)` : v.name));
}

/** `topic=refunds, n=3`: strings as they are, everything else as JSON. */
export function compactVars(vars: Record<string, unknown>): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

/** One line of at most `max` characters, ending in '…' when cut. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

// ------------------------------------------------------------------ numbers

function groupThousands(digits: string): string {
  const [whole = '', fraction] = digits.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/** '12,345'. */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? groupThousands(String(Math.round(n))) : DASH;
}

/**
 * US dollars: cents from a dollar up; below it two significant digits however small
 * (one cheap call costs $0.000012, which '$0.00' would hide). Null: no price, '—'.
 */
export function formatCost(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return DASH;
  if (v === 0) return '$0';
  const sign = v < 0 ? '-' : '';
  const a = Math.abs(v);
  if (a >= 1) return `${sign}$${groupThousands(a.toFixed(2))}`;
  if (a < 1e-9) return `${sign}$${a.toExponential(1)}`;
  let fixed = a.toFixed(Math.max(2, 1 - Math.floor(Math.log10(a))));
  // Rounding may leave a trailing zero ('0.000100'): drop it, but keep cents.
  while (/\.\d{3,}$/.test(fixed) && fixed.endsWith('0')) fixed = fixed.slice(0, -1);
  return `${sign}$${fixed}`;
}

/** 0.733 → '73.3%', 1 → '100%'. */
export function formatPercent(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return DASH;
  return `${(v * 100).toFixed(1).replace(/\.0$/, '')}%`;
}

/** A change of a rate in percentage points, always signed: '+6.7 pts', '-10 pts', '±0 pts'. */
export function formatPoints(change: number | null): string {
  if (change === null || !Number.isFinite(change)) return DASH;
  const tenths = Math.round(change * 1000);
  if (tenths === 0) return '±0 pts';
  return `${tenths > 0 ? '+' : '-'}${(Math.abs(tenths) / 10).toFixed(1).replace(/\.0$/, '')} pts`;
}

/** A relative change, signed: 0.123 → '+12%', -0.004 → '-0.4%', 0 → '±0%'. */
export function formatRelativeChange(change: number | null): string {
  if (change === null || !Number.isFinite(change)) return DASH;
  const pct = change * 100;
  const abs = Math.abs(pct);
  const text = abs < 10 ? abs.toFixed(1).replace(/\.0$/, '') : abs.toFixed(0);
  if (Number(text) === 0) return '±0%';
  return `${pct > 0 ? '+' : '-'}${text}%`;
}

/** '850 ms', '1.25 s', '12.3 s', '4m 05s'. */
export function formatMs(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return DASH;
  if (Math.round(v) < 1000) return `${Math.round(Math.max(0, v))} ms`;
  if (v < 10_000) return `${(v / 1000).toFixed(2)} s`;
  return formatDuration(v);
}

/** A grader's score: integers as they are, else three significant digits. */
export function formatScore(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
}

/** 'YYYY-MM-DD HH:MM UTC', the same for every reader of an export. */
export function formatUtc(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '' : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** USD of a run: the calls under test plus the judge's; null when the model has no price. */
export function totalCostUsd(s: EvalSummaryView): number | null {
  return s.costUsd === null ? null : s.costUsd + (s.judgeCostUsd ?? 0);
}

/** The judge's part of the total, 0..1; null when there is no total or no judge cost. */
export function judgeShare(s: EvalSummaryView): number | null {
  const total = totalCostUsd(s);
  if (total === null || total === 0 || !s.judgeCostUsd) return null;
  return s.judgeCostUsd / total;
}

function relative(before: number | null, after: number | null): number | null {
  return before !== null && after !== null && before > 0 ? (after - before) / before : null;
}

/** What the side-by-side summary shows: this run, the other, and the change from it. */
export interface SideBySideFigure {
  label: string;
  here: string;
  there: string;
  change: string;
}

export function sideBySideFigures(run: EvalRunView, other: EvalRunView): SideBySideFigure[] {
  const a = run.summary;
  const b = other.summary;
  const counts = (s: EvalSummaryView) =>
    `${s.resultCounts.passed} / ${s.resultCounts.failed} / ${s.resultCounts.errored} of ${s.resultCounts.total}`;
  return [
    {
      label: 'Pass rate',
      here: formatPercent(a.passRate),
      there: formatPercent(b.passRate),
      change: formatPoints(a.passRate - b.passRate),
    },
    { label: 'Passed / failed / errored', here: counts(a), there: counts(b), change: '' },
    {
      label: 'Cost',
      here: formatCost(totalCostUsd(a)),
      there: formatCost(totalCostUsd(b)),
      change: formatRelativeChange(relative(totalCostUsd(b), totalCostUsd(a))),
    },
    {
      label: 'Latency p50',
      here: formatMs(a.latencyMs.p50),
      there: formatMs(b.latencyMs.p50),
      change: formatRelativeChange(relative(b.latencyMs.p50, a.latencyMs.p50)),
    },
    {
      label: 'Latency p95',
      here: formatMs(a.latencyMs.p95),
      there: formatMs(b.latencyMs.p95),
      change: formatRelativeChange(relative(b.latencyMs.p95, a.latencyMs.p95)),
    },
    {
      label: 'Output tokens',
      here: formatCount(a.tokens.output),
      there: formatCount(b.tokens.output),
      change: formatRelativeChange(relative(b.tokens.output, a.tokens.output)),
    },
  ];
}

// ------------------------------------------------------------------ exports

/** RFC 4180 with CRLF line ends, which is what spreadsheet imports expect. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Model output is untrusted: a cell starting with = + - @ (or a tab / CR) would run as a
 * formula in a spreadsheet, so free text gets a leading apostrophe there (OWASP's advice).
 */
function csvText(text: string): string {
  return csvField(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
}

function csvNumber(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '' : String(v);
}

/** Criteria in the run's order, then any a verdict names that the run's list lacks. */
function criteriaOf(run: EvalRunView): string[] {
  const names = [...run.criteria];
  const known = new Set(names);
  for (const c of run.cases) {
    for (const v of c.verdicts) {
      if (!known.has(v.name)) {
        known.add(v.name);
        names.push(v.name);
      }
    }
  }
  return names;
}

/** Every case of the run (filters aside), one line per case and repeat. */
export function evalCasesToCsv(run: EvalRunView): string {
  const criteria = criteriaOf(run);
  const header = [
    'index',
    'id',
    'repeat',
    'status',
    'vars',
    'output',
    'error',
    ...criteria.flatMap((n) => [`${n} pass`, `${n} score`, `${n} reason`]),
    'tokens_in',
    'tokens_out',
    'cost_usd',
    'judge_cost_usd',
    'latency_ms',
    'ttft_ms',
  ].map(csvText);
  const lines = [header.join(',')];
  for (const c of run.cases) {
    const byName = new Map(c.verdicts.map((v) => [v.name, v]));
    lines.push(
      [
        String(c.index),
        csvText(c.id ?? ''),
        String(c.repeat),
        c.status,
        csvText(JSON.stringify(c.vars)),
        csvText(c.output ?? ''),
        csvText(c.error ?? ''),
        ...criteria.flatMap((n) => {
          const v = byName.get(n);
          if (!v) return ['', '', ''];
          return [
            v.errored ? 'error' : v.pass ? 'pass' : 'fail',
            csvNumber(v.score),
            csvText(v.reason),
          ];
        }),
        csvNumber(c.tokens?.input),
        csvNumber(c.tokens?.output),
        csvNumber(c.costUsd),
        csvNumber(c.judgeCostUsd),
        csvNumber(c.latencyMs),
        csvNumber(c.ttftMs),
      ].join(','),
    );
  }
  return lines.map((l) => `${l}\r\n`).join('');
}

function markdownText(text: string): string {
  return text.replace(/\r\n|\r|\n/g, ' ').replace(/\|/g, '\\|');
}

/** Inline code that survives backticks in the text. */
function markdownCode(text: string): string {
  const flat = text.replace(/\r\n|\r|\n/g, ' ');
  const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = longest > 0 ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Failing cases listed in the Markdown summary; the CSV has them all. */
const MARKDOWN_CASES = 20;

/** A summary to paste into a PR or an issue; with `other`, the side-by-side figures too. */
export function evalRunToMarkdown(run: EvalRunView, other: EvalRunView | null = null): string {
  const s = run.summary;
  const rc = s.resultCounts;
  const lines = [
    `### Eval ${markdownText(run.suite)}: ${formatPercent(s.passRate)} passed`,
    '',
    `Prompt ${markdownCode(run.prompt.label)} on ${markdownCode(run.model)}, ${formatUtc(run.startedAt)}, took ${formatDuration(s.durationMs)}: ` +
      `${rc.passed} passed, ${rc.failed} failed, ${rc.errored} errored of ${rc.total}.`,
  ];
  if (s.repeat > 1 && s.passAtK !== null) {
    lines.push(
      `Each case ran ${s.repeat} times: pass@${s.repeat} ${formatPercent(s.passAtK)}, pass^${s.repeat} ${formatPercent(s.passHatK)}.`,
    );
  }
  const criteria = Object.entries(s.perCriterion);
  if (criteria.length > 0) {
    lines.push(
      '',
      '| criterion | passed | failed | errored |',
      '| --- | --- | --- | --- |',
      ...criteria.map(
        ([n, c]) => `| ${markdownText(n)} | ${c.passed} | ${c.failed} | ${c.errored} |`,
      ),
    );
  }
  const total = totalCostUsd(s);
  const cost =
    total === null
      ? `Cost unknown: no price for ${markdownCode(run.model)}.`
      : `Cost ${formatCost(total)}` +
        (s.judgeCostUsd ? ` (judge ${formatCost(s.judgeCostUsd)})` : '') +
        (s.costEstimated ? ', estimated: some token counts come from a tokenizer' : '') +
        '.';
  lines.push(
    '',
    `Latency p50 ${formatMs(s.latencyMs.p50)}, p95 ${formatMs(s.latencyMs.p95)}; time to first token p50 ${formatMs(s.ttftMs.p50)}, p95 ${formatMs(s.ttftMs.p95)}.`,
    `Tokens ${formatCount(s.tokens.input)} in (${formatCount(s.tokens.cached)} cached), ${formatCount(s.tokens.output)} out (${formatCount(s.tokens.reasoning)} reasoning)` +
      (s.cachedCalls > 0 ? `; ${s.cachedCalls} answers from the cache.` : '.'),
    cost,
  );
  const cmp = run.comparison;
  if (cmp) {
    lines.push(
      '',
      `Against the previous run (${markdownCode(cmp.previousRunId)}): pass rate ${formatPoints(cmp.passRateChange)}, ` +
        `${cmp.flipped.length} ${cmp.flipped.length === 1 ? 'case' : 'cases'} flipped` +
        (cmp.costChange !== null
          ? `, cost per answer ${formatRelativeChange(cmp.costChange)}`
          : '') +
        (cmp.latencyP50Change !== null
          ? `, latency p50 ${formatRelativeChange(cmp.latencyP50Change)}`
          : '') +
        '.' +
        (cmp.costRegression ? ' **Cost regression**: output tokens or cost grew 30% or more.' : ''),
    );
  }
  if (other) {
    const rows = evalRows(run, other);
    const flipped = rows.filter((r) => r.flipped).length;
    lines.push(
      '',
      `Side by side with ${markdownCode(other.prompt.label)} on ${markdownCode(other.model)} (${markdownCode(other.runId)}), ${formatUtc(other.startedAt)}: ` +
        `${flipped} ${flipped === 1 ? 'case' : 'cases'} changed status.`,
      '',
      '| | this run | other run | change |',
      '| --- | --- | --- | --- |',
      ...sideBySideFigures(run, other).map(
        (f) => `| ${f.label} | ${f.here} | ${f.there} | ${f.change || ' '} |`,
      ),
    );
  }
  const failing = run.cases.filter((c) => c.status !== 'passed');
  if (failing.length > 0) {
    const shown = failing.slice(0, MARKDOWN_CASES);
    lines.push(
      '',
      failing.length > shown.length
        ? `First ${shown.length} of ${failing.length} cases that did not pass:`
        : 'Cases that did not pass:',
      '',
      '| # | id | status | criteria | reason |',
      '| --- | --- | --- | --- | --- |',
      ...shown.map((c) => {
        const failed = c.verdicts.filter((v) => v.errored || !v.pass);
        const reason =
          c.status === 'errored' && c.error
            ? c.error
            : failed.map((v) => `${v.name}: ${v.reason}`).join('; ');
        const n = s.repeat > 1 ? `${c.index + 1} (run ${c.repeat + 1})` : String(c.index + 1);
        return `| ${n} | ${markdownText(c.id ?? '')} | ${c.status} | ${markdownText(failedCriteria(c).join(', '))} | ${markdownText(oneLine(reason, 300))} |`;
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A file name for an export: the suite and the run, nothing a file system refuses. */
export function exportFileName(run: EvalRunView, extension: string): string {
  const suite =
    run.suite
      .replace(/[^\w.-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 80) || 'eval';
  return `${suite}-${run.runId.slice(0, 8)}.${extension}`;
}
