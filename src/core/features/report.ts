// What the point-in-time and leakage commands share between the CLI and VS Code:
// durations ("30d"), guessing time columns and feature/timestamp pairs by name, and
// the leakage report as Markdown.

import { ValidationError } from '../model/errors.ts';
import type { Table } from '../drift/readers.ts';
import type { LeakageReport } from './leakage.ts';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** `30d`, `12h`, `90m`, `45s`, `500ms`, `2w` (or a plain number of ms) to milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(text);
  if (!m) {
    throw new ValidationError(
      `'${text}' is not a duration: write a number and a unit, such as 30d, 12h, 90m, 45s or 500ms.`,
    );
  }
  return Number(m[1]) * UNITS[(m[2] ?? 'ms').toLowerCase()]!;
}

const TIME_NAME = /(time|timestamp|date|_ts$|^ts$|_at$)/i;

/** Columns that may hold times: datetime columns first, then names that say so. */
export function timestampCandidates(table: Table): string[] {
  const byKind = table.columns.filter((c) => c.kind === 'datetime').map((c) => c.name);
  const byName = table.columns
    .filter((c) => c.kind !== 'datetime' && TIME_NAME.test(c.name))
    .map((c) => c.name);
  return [...byKind, ...byName];
}

/** Pairs a feature column with its timestamp column by name: balance + balance_ts. */
export function featureTimestampPairs(
  columns: string[],
  exclude: string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of columns) {
    if (exclude.includes(c)) continue;
    const m = /^(.+?)(_ts|_time|_timestamp|_at|_date)$/i.exec(c);
    if (m && columns.includes(m[1]!) && !exclude.includes(m[1]!)) out[m[1]!] = c;
  }
  return out;
}

const cell = (v: unknown): string =>
  v === null || v === undefined ? '' : String(v).replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function leakageMarkdown(
  report: LeakageReport,
  meta: {
    file: string;
    event: string;
    label: string | null;
    labelTime: string | null;
    featureTimestamps?: Record<string, string>;
  },
): string {
  const lines = [
    `# Leakage check: ${meta.file}`,
    '',
    `${report.rows} rows; event time \`${meta.event}\`` +
      (meta.label ? `; label \`${meta.label}\`` : '') +
      (meta.labelTime ? ` known at \`${meta.labelTime}\`` : '') +
      '.',
  ];
  const pairs = Object.entries(meta.featureTimestamps ?? {});
  if (pairs.length) {
    lines.push(
      '',
      `Feature timestamps checked: ${pairs.map(([f, ts]) => `\`${f}\` at \`${ts}\``).join(', ')}.`,
    );
  }
  if (!report.findings.length) {
    lines.push('', 'No leakage found.');
    return `${lines.join('\n')}\n`;
  }
  lines.push('', `## ${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}`);
  for (const f of report.findings) {
    lines.push(
      '',
      `### ${f.kind === 'future-feature' ? 'Future value' : 'Label proxy'}: \`${f.column}\``,
      '',
      f.message,
    );
    if (f.examples.length) {
      const cols = [...new Set(f.examples.flatMap((e) => Object.keys(e.values)))];
      lines.push(
        '',
        `| row | ${cols.join(' | ')} |`,
        `| --- | ${cols.map(() => '---').join(' | ')} |`,
      );
      for (const e of f.examples) {
        lines.push(`| ${e.row} | ${cols.map((c) => cell(e.values[c])).join(' | ')} |`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
