// The "compare runs" table as data: its rows, what each cell shows, which differ and which are
// best, and its CSV / Markdown exports. Pure, so the webview renders exactly what tests check.

import { formatMetricValue, lowerIsBetter as defaultLowerIsBetter } from './format.ts';
import { decodeNumber } from './protocol.ts';
import type { CompareRun, Direction } from './protocol.ts';

export type RowGroup = 'attributes' | 'params' | 'metrics' | 'tags' | 'datasets';

export interface CompareCell {
  /** What the cell shows; '' when the run lacks the value. */
  text: string;
  /** For sorting and "best"; null when not numeric or missing. */
  value: number | null;
  /** The best value of its row; all ties are marked. */
  best: boolean;
}

export interface CompareRow {
  /**
   * Stable across rebuilds, so a sort or a selection survives new data: 'attr:status',
   * 'param:lr', 'metric:loss:last', 'tag:team', 'dataset:<name>:<context>'.
   */
  id: string;
  group: RowGroup;
  label: string;
  /** Metric rows only: the metric key. */
  metric?: string;
  /** Metric rows only: the direction "best" was judged by. */
  direction?: Direction;
  /** One per column, in column order. */
  cells: CompareCell[];
  /** The cells do not all show the same text (a missing value counts as different). */
  differs: boolean;
}

export interface CompareTableOptions {
  /** Drop rows whose cells are all equal. */
  onlyDifferences?: boolean;
  /** Per metric key; wins over `lowerIsBetter`. */
  directions?: Record<string, Direction>;
  /** The default direction of a metric; defaults to the name heuristic of format.ts. */
  lowerIsBetter?: (metric: string) => boolean;
  /** Run ids shown first, in this order; unknown ids are ignored. */
  pinned?: string[];
  /** Orders the unpinned columns by that row's cells; missing values always last. */
  sortBy?: { rowId: string; descending: boolean };
  /** For the duration of RUNNING runs; defaults to Date.now(). */
  now?: number;
}

export interface CompareTable {
  columns: CompareRun[];
  rows: CompareRow[];
}

const METRIC_ASPECTS = ['last', 'min', 'max'] as const;

export function buildCompareTable(
  runs: readonly CompareRun[],
  options: CompareTableOptions = {},
): CompareTable {
  const now = options.now ?? Date.now();
  const isLowerBetter = options.lowerIsBetter ?? defaultLowerIsBetter;

  // Rows are built in input order and their cells permuted once the column order is known,
  // so "best" and "differs" cannot depend on how the columns happen to be sorted.
  let rows: CompareRow[] = [
    ...attributeRows(runs, now),
    ...keyedRows(runs, 'params', 'param', (r) => r.params),
    ...metricRows(runs, (key) => options.directions?.[key] ?? (isLowerBetter(key) ? 'min' : 'max')),
    ...keyedRows(
      runs,
      'tags',
      'tag',
      (r) => r.tags,
      (key) => !key.startsWith('mlflow.'),
    ),
    ...datasetRows(runs),
  ];

  const order = columnOrder(runs, rows, options);
  rows = rows.map((row) => ({ ...row, cells: order.map((i) => row.cells[i]!) }));
  if (options.onlyDifferences) rows = rows.filter((row) => row.differs);
  return { columns: order.map((i) => runs[i]!), rows };
}

// ------------------------------------------------------------------ rows

function cell(text: string, value: number | null = null): CompareCell {
  return { text, value, best: false };
}

function row(id: string, group: RowGroup, label: string, cells: CompareCell[]): CompareRow {
  return { id, group, label, cells, differs: new Set(cells.map((c) => c.text)).size > 1 };
}

function attributeRows(runs: readonly CompareRun[], now: number): CompareRow[] {
  const attr = (name: string, toCell: (run: CompareRun) => CompareCell) =>
    row(`attr:${name}`, 'attributes', name, runs.map(toCell));
  return [
    attr('experiment', (r) => cell(r.experimentName)),
    attr('status', (r) => cell(r.status)),
    attr('start', (r) => cell(formatTimestamp(r.startTime), finiteOrNull(r.startTime))),
    attr('duration', (r) => durationCell(r, now)),
    attr('git commit', (r) => cell(r.gitCommit?.slice(0, 8) ?? '')),
    attr('user', (r) => cell(r.userId)),
  ];
}

function durationCell(run: CompareRun, now: number): CompareCell {
  if (!Number.isFinite(run.startTime)) return cell('');
  if (run.endTime !== null) {
    const ms = Math.max(0, run.endTime - run.startTime);
    return cell(formatDuration(ms), ms);
  }
  if (run.status === 'RUNNING') {
    const ms = Math.max(0, now - run.startTime);
    return cell(`${formatDuration(ms)} (running)`, ms);
  }
  // Ended (or never started) without an end time: there is no honest duration to show.
  return cell('');
}

/** 'YYYY-MM-DD HH:MM:SS' in UTC, so every viewer of an exported table reads the same time. */
function formatTimestamp(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 19).replace('T', ' ');
}

function finiteOrNull(v: number | null): number | null {
  return v !== null && Number.isFinite(v) ? v : null;
}

/** A param or tag that reads as a number sorts as one; '' would otherwise read as 0. */
function numericText(text: string): number | null {
  if (text.trim() === '') return null;
  return finiteOrNull(Number(text));
}

function keyedRows(
  runs: readonly CompareRun[],
  group: 'params' | 'tags',
  prefix: string,
  entries: (run: CompareRun) => Record<string, string>,
  keep: (key: string) => boolean = () => true,
): CompareRow[] {
  const keys = unionOfKeys(runs.map(entries)).filter(keep);
  return keys.map((key) =>
    row(
      `${prefix}:${key}`,
      group,
      key,
      runs.map((r) => {
        const text = Object.hasOwn(entries(r), key) ? (entries(r)[key] ?? '') : '';
        return cell(text, numericText(text));
      }),
    ),
  );
}

function unionOfKeys(records: readonly Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const record of records) for (const key of Object.keys(record)) keys.add(key);
  return [...keys].sort();
}

function metricRows(
  runs: readonly CompareRun[],
  directionOf: (metric: string) => Direction,
): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const key of unionOfKeys(runs.map((r) => r.metrics))) {
    const direction = directionOf(key);
    for (const aspect of METRIC_ASPECTS) {
      const cells = runs.map((r) => {
        const m = Object.hasOwn(r.metrics, key) ? r.metrics[key] : undefined;
        if (!m) return cell('');
        const v = aspect === 'last' ? decodeNumber(m.last) : m[aspect];
        return cell(formatMetricValue(v), finiteOrNull(v));
      });
      markBest(cells, direction);
      rows.push({
        ...row(`metric:${key}:${aspect}`, 'metrics', `${key} (${aspect})`, cells),
        metric: key,
        direction,
      });
    }
  }
  return rows;
}

/** Only a real choice has a best: two or more finite values that are not all equal. */
function markBest(cells: CompareCell[], direction: Direction): void {
  const values = cells.map((c) => c.value).filter((v): v is number => v !== null);
  if (values.length < 2) return;
  const best = direction === 'max' ? Math.max(...values) : Math.min(...values);
  if (values.every((v) => v === best)) return;
  for (const c of cells) c.best = c.value === best;
}

function datasetRows(runs: readonly CompareRun[]): CompareRow[] {
  const pairs = new Map<string, { name: string; context: string | null }>();
  for (const run of runs) {
    for (const d of run.datasets) {
      const id = datasetRowId(d.name, d.context);
      if (!pairs.has(id)) pairs.set(id, { name: d.name, context: d.context });
    }
  }
  const sorted = [...pairs.entries()].sort(
    ([, a], [, b]) =>
      compareCodeUnits(a.name, b.name) || compareCodeUnits(a.context ?? '', b.context ?? ''),
  );
  return sorted.map(([id, { name, context }]) => {
    // A run logging the same pair twice shows the first, as the run page does.
    const found = runs.map((r) => r.datasets.find((d) => d.name === name && d.context === context));
    const cells = found.map((d) =>
      d
        ? cell(`${d.digest.slice(0, 12)}${d.rowCount !== null ? ` · ${d.rowCount} rows` : ''}`)
        : cell(''),
    );
    const shown = row(id, 'datasets', context === null ? name : `${name} (${context})`, cells);
    // Digests can share their first 12 characters; the full digest decides.
    const digests = new Set(found.map((d) => d?.digest));
    return { ...shown, differs: shown.differs || digests.size > 1 };
  });
}

/**
 * Dataset names may contain ':', so the name is escaped to keep ids unique; a null context
 * has no trailing segment, which keeps it apart from an empty one.
 */
function datasetRowId(name: string, context: string | null): string {
  const escaped = name.replace(/%/g, '%25').replace(/:/g, '%3A');
  return context === null ? `dataset:${escaped}` : `dataset:${escaped}:${context}`;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ------------------------------------------------------------------ columns

function columnOrder(
  runs: readonly CompareRun[],
  rows: readonly CompareRow[],
  options: CompareTableOptions,
): number[] {
  const pinned: number[] = [];
  for (const runId of new Set(options.pinned ?? [])) {
    const i = runs.findIndex((r) => r.runId === runId);
    if (i >= 0) pinned.push(i);
  }
  const rest = runs.map((_, i) => i).filter((i) => !pinned.includes(i));

  const sortRow = options.sortBy && rows.find((r) => r.id === options.sortBy?.rowId);
  if (sortRow) {
    const sign = options.sortBy?.descending ? -1 : 1;
    // Array.prototype.sort is stable, so equal cells keep their input order.
    rest.sort((i, j) => {
      const a = sortRow.cells[i]!;
      const b = sortRow.cells[j]!;
      if (a.text === '' || b.text === '') return (a.text === '' ? 1 : 0) - (b.text === '' ? 1 : 0);
      const byValue =
        a.value !== null && b.value !== null
          ? a.value - b.value
          : a.text.localeCompare(b.text, undefined, { numeric: true });
      return sign * byValue;
    });
  }
  return [...pinned, ...rest];
}

// ------------------------------------------------------------------ formatting

/** '850 ms', '12.3 s', '4m 05s', '2h 03m', '3d 4h': two units at most, the larger first. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const t = Math.max(0, ms);
  // Each tier rounds at its own precision and is chosen by the rounded value, so 59.96 s
  // reads '1m 00s' rather than '60.0 s'.
  if (Math.round(t) < 1000) return `${Math.round(t)} ms`;
  const tenths = Math.round(t / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const seconds = Math.round(t / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${pad2(seconds % 60)}s`;
  const minutes = Math.round(t / 60_000);
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)}h ${pad2(minutes % 60)}m`;
  const hours = Math.round(t / 3_600_000);
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

// ------------------------------------------------------------------ exports

/** A column's heading: its name, or its id when the run has no name. */
function columnTitle(run: CompareRun): string {
  return run.runName || run.runId;
}

/** RFC 4180 with CRLF line ends, which is what spreadsheet imports expect. */
export function compareTableToCsv(table: CompareTable): string {
  const lines = [
    ['group', 'field', ...table.columns.map(columnTitle)],
    ['attributes', 'run id', ...table.columns.map((r) => r.runId)],
    ...table.rows.map((r) => [r.group, r.label, ...r.cells.map((c) => c.text)]),
  ];
  return lines.map((fields) => fields.map(csvField).join(',') + '\r\n').join('');
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A GitHub table; the group goes into the field label since GFM tables have no row groups. */
export function compareTableToMarkdown(table: CompareTable): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const lines = [
    line(['field', ...table.columns.map((r) => markdownText(columnTitle(r)))]),
    line(['---', ...table.columns.map(() => '---')]),
    ...table.rows.map((r) =>
      line([
        markdownText(`${r.group} · ${r.label}`),
        ...r.cells.map((c) => (c.best ? `**${markdownText(c.text)}**` : markdownText(c.text))),
      ]),
    ),
  ];
  return lines.join('\n') + '\n';
}

function markdownText(text: string): string {
  return text.replace(/\r\n|\r|\n/g, ' ').replace(/\|/g, '\\|');
}
