// The drift report page as data: how statistics, thresholds and verdicts read, what the
// filters keep, the chart's bin labels, and the Markdown / CSV exports. Pure, so the
// page draws exactly what the tests check, and the host and the page agree on it.

import type { DriftColumnView, DriftReportView, DriftVerdictView } from './protocol.ts';

export const DASH = '—';

// ------------------------------------------------------------------ numbers

/** Drops the zeros `toExponential` pads the mantissa with: '1.200e-5' → '1.2e-5'. */
function trimExponential(text: string): string {
  return text.replace(/\.?0+e/, 'e').replace('e+', 'e');
}

/**
 * A statistic or p-value: 4 significant digits, exponential below 1e-4 (p-values of
 * large samples are often 1e-30, which fixed notation would show as 0). Null: '—'.
 */
export function formatStat(v: number | null | undefined): string {
  if (v === null || v === undefined) return DASH;
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  if (v === 0) return '0';
  if (Math.abs(v) < 1e-4) return trimExponential(v.toExponential(3));
  // Number() drops the trailing zeros; past 1e21 String() writes an exponent itself.
  return String(Number(v.toPrecision(4)));
}

/** A share of columns: '0.67', '0.5', '1'. */
export function formatShare(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toFixed(2))) : DASH;
}

function groupThousands(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : DASH;
}

/** '12,345'. */
export function formatCount(n: number): string {
  return groupThousands(n);
}

/** A share of rows as a percentage for chart tooltips: '12.3%'. */
export function formatPercent(v: number): string {
  if (!Number.isFinite(v)) return DASH;
  const pct = v * 100;
  return `${pct !== 0 && Math.abs(pct) < 0.1 ? pct.toPrecision(1) : pct.toFixed(1).replace(/\.0$/, '')}%`;
}

/** A bin edge on a chart axis: three significant digits, k / M / G past ten thousand. */
export function compactNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const sign = v < 0 ? '-' : '';
  // Rounded first, so 999,999 reads '1M' rather than '1000k'.
  const a = Number(Math.abs(v).toPrecision(3));
  if (a >= 1e12 || a < 1e-3) return trimExponential(v.toExponential(2));
  if (a >= 1e9) return `${sign}${Number((a / 1e9).toPrecision(3))}G`;
  if (a >= 1e6) return `${sign}${Number((a / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${sign}${Number((a / 1e3).toPrecision(3))}k`;
  return `${sign}${a}`;
}

/** Epoch milliseconds between 1973 and 2286: a datetime column's values read as dates. */
function looksLikeEpochMs(edges: readonly number[]): boolean {
  return edges.length > 0 && edges.every((e) => Number.isFinite(e) && e >= 1e11 && e < 1e13);
}

function dateText(ms: number, withTime: boolean): string {
  const iso = new Date(ms).toISOString();
  return withTime ? `${iso.slice(0, 16).replace('T', ' ')}` : iso.slice(0, 10);
}

/**
 * Labels of a histogram's bins, one per bin: the compact range `lo–hi`. A datetime
 * column's edges (epoch milliseconds) read as dates, with the time when bins are
 * shorter than two days.
 */
export function binLabels(edges: readonly number[], kind = 'numerical'): string[] {
  const labels: string[] = [];
  const dates = kind === 'datetime' && looksLikeEpochMs(edges);
  const withTime = dates && edges.length > 1 && edges[1]! - edges[0]! < 2 * 86_400_000;
  const f = (v: number): string => (dates ? dateText(v, withTime) : compactNumber(v));
  for (let i = 0; i + 1 < edges.length; i++) labels.push(`${f(edges[i]!)}–${f(edges[i + 1]!)}`);
  return labels;
}

/** 'YYYY-MM-DD HH:MM UTC', the same for every reader of an export. */
export function formatUtc(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '' : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The start of a content digest, enough to tell two datasets apart: 'a1b2c3d4e5f6'. */
export function shortDigest(digest: string | null | undefined): string {
  if (!digest) return DASH;
  const bare = digest.replace(/^[a-z0-9-]+:/i, '');
  return bare.slice(0, 12);
}

// ------------------------------------------------------------------ labels

/** Tests whose verdict comes from a p-value (drift when p < threshold). */
const P_VALUE_TESTS: ReadonlySet<string> = new Set(['ks', 'chi2', 'z']);

export const TEST_NAMES: Record<string, string> = {
  ks: 'Kolmogorov-Smirnov',
  psi: 'Population Stability Index',
  chi2: 'chi-square',
  wasserstein: 'Wasserstein distance (normed)',
  js: 'Jensen-Shannon distance',
  z: 'Z-test for proportions',
};

/** Does the column's verdict come from a p-value? An untested one goes by its test. */
export function isPValueColumn(c: Pick<DriftColumnView, 'pValue' | 'statistic' | 'test'>): boolean {
  return c.pValue !== null || (c.statistic === null && P_VALUE_TESTS.has(c.test));
}

/** Where drift starts: 'p < 0.05' for p-value tests, '>= 0.1' for distances. */
export function thresholdLabel(
  c: Pick<DriftColumnView, 'pValue' | 'statistic' | 'test' | 'threshold'>,
): string {
  return isPValueColumn(c) ? `p < ${formatStat(c.threshold)}` : `>= ${formatStat(c.threshold)}`;
}

/** Where "possible drift" starts, said the same way. */
export function possibleThresholdLabel(
  c: Pick<DriftColumnView, 'pValue' | 'statistic' | 'test' | 'possibleThreshold'>,
): string {
  return isPValueColumn(c)
    ? `p < ${formatStat(c.possibleThreshold)}`
    : `>= ${formatStat(c.possibleThreshold)}`;
}

/** '(auto)' when the check chose the test, '(set)' when an option did. */
export function chosenByLabel(c: Pick<DriftColumnView, 'chosenBy'>): string {
  return c.chosenBy === 'auto' ? '(auto)' : '(set)';
}

/** 'ks (auto)'. */
export function testLabel(c: Pick<DriftColumnView, 'test' | 'chosenBy'>): string {
  return `${c.test} ${chosenByLabel(c)}`;
}

/** The test cell's tooltip: the test's full name and why it was picked. */
export function testTooltip(c: Pick<DriftColumnView, 'test' | 'reason'>): string {
  const name = TEST_NAMES[c.test] ?? c.test;
  return c.reason ? `${name}: ${c.reason}` : name;
}

/** Icons beside the words: a verdict never rests on colour alone. */
export const VERDICT_ICON: Record<DriftVerdictView, string> = {
  drift: '✗',
  possible: '⚠',
  none: '✓',
};

/** A column's verdict badge: 'drift', 'possible', 'none'. */
export function verdictLabel(v: DriftVerdictView): string {
  return v;
}

/** The dataset's verdict, as the summary headline says it. */
export function datasetVerdictLabel(v: DriftVerdictView): string {
  return v === 'drift' ? 'Dataset drift' : v === 'possible' ? 'Possible drift' : 'No drift';
}

/** A column's verdict in words, for the exports: 'drift', 'possible drift', 'no drift', 'not tested'. */
export function columnVerdictText(c: Pick<DriftColumnView, 'verdict' | 'error'>): string {
  if (c.error) return 'not tested';
  return c.verdict === 'drift' ? 'drift' : c.verdict === 'possible' ? 'possible drift' : 'no drift';
}

/** The reference as the title names it: its file, or 'baseline <name>'. */
export function referenceLabel(r: DriftReportView): string {
  return r.reference.baseline !== null && r.reference.baseline !== undefined
    ? `baseline ${r.reference.baseline}`
    : r.reference.source;
}

/** 'Drift: data/today.csv vs baseline train'. */
export function driftTitle(r: DriftReportView): string {
  return `Drift: ${r.current.source} vs ${referenceLabel(r)}`;
}

/** '2 of 3 columns drifted'. Text columns count once, however many derived columns they have. */
export function driftedText(r: Pick<DriftReportView, 'driftedColumns' | 'checkedColumns'>): string {
  return `${r.driftedColumns} of ${r.checkedColumns} ${r.checkedColumns === 1 ? 'column' : 'columns'} drifted`;
}

/** 'share 0.67 >= 0.5': the drifted share against the dataset threshold. */
export function shareText(
  r: Pick<DriftReportView, 'driftedShare' | 'driftShareThreshold'>,
): string {
  const op = r.driftedShare >= r.driftShareThreshold ? '>=' : '<';
  return `share ${formatShare(r.driftedShare)} ${op} ${formatShare(r.driftShareThreshold)}`;
}

/**
 * Source columns whose verdict is "possible" (none of their tested columns drifted, one
 * nearly did), counted as the check counts drifted ones: a text column once.
 */
export function possibleCount(r: Pick<DriftReportView, 'columns'>): number {
  const bySource = new Map<string, DriftVerdictView[]>();
  for (const c of r.columns) {
    if (c.error) continue;
    bySource.set(c.sourceColumn, [...(bySource.get(c.sourceColumn) ?? []), c.verdict]);
  }
  let n = 0;
  for (const verdicts of bySource.values()) {
    if (!verdicts.includes('drift') && verdicts.includes('possible')) n++;
  }
  return n;
}

/** Columns that could not be tested (no values on one side). */
export function untestedCount(r: Pick<DriftReportView, 'columns'>): number {
  return r.columns.filter((c) => c.error).length;
}

/** 'showing 3 of 12'. */
export function countText(shown: number, total: number): string {
  return `showing ${formatCount(shown)} of ${formatCount(total)}`;
}

// ------------------------------------------------------------------ filters

export interface ColumnFilter {
  driftedOnly: boolean;
  /** Words that must all appear (case-insensitive) in the column, its kind or its test. */
  text: string;
}

export function columnMatches(c: DriftColumnView, filter: ColumnFilter): boolean {
  if (filter.driftedOnly && c.verdict !== 'drift') return false;
  const terms = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return true;
  const haystack = [c.column, c.sourceColumn, c.kind, c.test].join('\n').toLowerCase();
  return terms.every((t) => haystack.includes(t));
}

export function filterColumns(
  columns: readonly DriftColumnView[],
  filter: ColumnFilter,
): DriftColumnView[] {
  return columns.filter((c) => columnMatches(c, filter));
}

/** The column whose chart opens first: the first that drifted, in the report's order. */
export function firstDriftedColumn(r: Pick<DriftReportView, 'columns'>): string | null {
  return r.columns.find((c) => c.verdict === 'drift' && !c.error)?.column ?? null;
}

// ------------------------------------------------------------------ exports

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Column names come from data files, which may come from anywhere: a cell starting with
 * = + - @ (or a tab / CR) would run as a formula in a spreadsheet, so free text gets a
 * leading apostrophe there (OWASP's advice), as the eval export does.
 */
function csvText(text: string): string {
  return csvField(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
}

function csvNumber(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '' : String(v);
}

const CSV_HEADER = [
  'column',
  'source_column',
  'kind',
  'test',
  'chosen_by',
  'statistic',
  'p_value',
  'threshold',
  'possible_threshold',
  'verdict',
  'drift',
  'reference_count',
  'reference_missing',
  'reference_sampled',
  'current_count',
  'current_missing',
  'error',
  'reason',
];

/** The column table, full precision, one line per tested column, CRLF line ends. */
export function driftCsv(r: DriftReportView): string {
  const lines = [CSV_HEADER.join(',')];
  for (const c of r.columns) {
    lines.push(
      [
        csvText(c.column),
        csvText(c.sourceColumn),
        csvText(c.kind),
        csvText(c.test),
        c.chosenBy,
        csvNumber(c.statistic),
        csvNumber(c.pValue),
        csvNumber(c.threshold),
        csvNumber(c.possibleThreshold),
        c.error ? 'not tested' : c.verdict,
        String(c.drift),
        csvNumber(c.reference.count),
        csvNumber(c.reference.missing),
        String(c.reference.sampled),
        csvNumber(c.current.count),
        csvNumber(c.current.missing),
        csvText(c.error ?? ''),
        csvText(c.reason),
      ].join(','),
    );
  }
  return lines.map((l) => `${l}\r\n`).join('');
}

/** Text in a Markdown table cell: one line, pipes and inline markup escaped. */
export function markdownCell(text: string): string {
  return (
    text
      .replace(/\r\n|\r|\n/g, ' ')
      .replace(/[\\`*_[\]|~]/g, (ch) => `\\${ch}`)
      // `<` opens inline HTML only before a letter, '/', '!' or '?': 'p < 0.05' stays as it is.
      .replace(/<(?=[A-Za-z/!?])/g, '\\<')
      .trim()
  );
}

/** Inline code that survives backticks in the text (a file name may hold one). */
function markdownCode(text: string): string {
  const flat = text.replace(/\r\n|\r|\n/g, ' ');
  const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = longest > 0 || flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A summary and the column table, to paste into a PR, an issue or a notebook. */
export function driftMarkdown(r: DriftReportView): string {
  const ref =
    r.reference.baseline === null || r.reference.baseline === undefined
      ? markdownCode(r.reference.source)
      : r.reference.baseline === r.reference.source
        ? `baseline ${markdownCode(r.reference.baseline)}`
        : `baseline ${markdownCode(r.reference.baseline)} (${markdownCode(r.reference.source)})`;
  const lines = [
    `### ${datasetVerdictLabel(r.datasetVerdict)}: ${driftedText(r)}`,
    '',
    `${markdownCode(r.current.source)} (${formatCount(r.current.rows)} rows) against ${ref} ` +
      `(${formatCount(r.reference.rows)} rows), ${formatUtc(r.createdAt)}; ` +
      `${shareText(r)}.`,
    '',
    '| column | kind | test | statistic | p-value | threshold | verdict |',
    '| --- | --- | --- | ---: | ---: | --- | --- |',
  ];
  for (const c of r.columns) {
    const verdict = c.error
      ? `not tested: ${markdownCell(c.error)}`
      : `${VERDICT_ICON[c.verdict]} ${columnVerdictText(c)}`;
    lines.push(
      `| ${markdownCell(c.column)} | ${markdownCell(c.kind)} | ${markdownCell(testLabel(c))} | ` +
        `${formatStat(c.statistic)} | ${formatStat(c.pValue)} | ${markdownCell(thresholdLabel(c))} | ${verdict} |`,
    );
  }
  if (r.columns.length === 0) lines.push('| (no column tested) | | | | | | |');
  if (r.missingColumns.length > 0) {
    lines.push(
      '',
      `Missing from the current data: ${r.missingColumns.map(markdownCode).join(', ')}.`,
    );
  }
  if (r.newColumns.length > 0) {
    lines.push(
      '',
      `Not in the reference (not checked): ${r.newColumns.map(markdownCode).join(', ')}.`,
    );
  }
  if (r.columns.some((c) => c.reference.sampled)) {
    lines.push('', 'Some reference columns were tested on the baseline’s sample of their values.');
  }
  return `${lines.join('\n')}\n`;
}

/** 'drift-today-20250102.csv': a file name (never a path) for the CSV export. */
export function exportFileName(r: DriftReportView, ext: 'csv' | 'md'): string {
  const base = r.current.source.split(/[\\/]/).pop() ?? '';
  const stem =
    base
      .replace(/\.[^.]*$/, '')
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'data';
  const d = new Date(r.createdAt);
  const day = Number.isNaN(d.getTime()) ? '' : `-${d.toISOString().slice(0, 10).replace(/-/g, '')}`;
  return `drift-${stem}${day}.${ext}`;
}
