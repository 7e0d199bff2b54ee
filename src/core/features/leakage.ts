// Leakage checks on a training table: feature values stamped after the prediction (or after
// the label was known), and single columns that predict the label too well to be honest
// (rank AUC, held-out per-category accuracy, or Spearman correlation). Pure functions.

import { ValidationError } from '../model/errors.ts';
import { columnsOf, tryParseTimestamp } from './pointInTime.ts';
import type { Row } from './pointInTime.ts';

export interface LeakageOptions {
  rows: Row[];
  /** Event time of each row (when the prediction would be made). */
  eventTimestampColumn: string;
  /** Optional: time the label became known. */
  labelTimestampColumn?: string;
  labelColumn?: string;
  /** Feature timestamp columns: map feature column -> its timestamp column (e.g. { balance: 'balance_ts' }); a feature value whose timestamp is after the event time (or after the label time, when given) is leaked. */
  featureTimestamps?: Record<string, string>;
  /** Separation score at or above which a single column is flagged as predicting the label suspiciously well (default 0.98). */
  separationThreshold?: number;
  /** Example rows to keep per finding (default 5). */
  maxExamples?: number;
}

export interface LeakageFinding {
  kind: 'future-feature' | 'label-proxy';
  column: string;
  /** Rows affected (future-feature) or 0 for label-proxy. */
  count: number;
  /** future-feature: share of rows; label-proxy: the separation score (AUC-like, 0.5..1, or accuracy of the best single-column rule for categoricals). */
  score: number;
  message: string;
  /** 1-based data row numbers with the values involved. */
  examples: { row: number; values: Record<string, number | string | null> }[];
}

export interface LeakageReport {
  rows: number;
  findings: LeakageFinding[];
}

export const DEFAULT_SEPARATION_THRESHOLD = 0.98;
export const DEFAULT_MAX_EXAMPLES = 5;
/** Fewer labelled rows with a value than this and a column is not judged (chance wins). */
export const MIN_PROXY_ROWS = 10;
/** A categorical column is judged only when its distinct values are at most this share of rows. */
const MAX_CATEGORY_SHARE = 0.5;
/** A categorical rule must remove at least this share of the majority baseline's errors. */
const MIN_ERROR_REDUCTION = 0.5;
const MISSING_CATEGORY = '\u0000missing';

type Value = number | string | null;

function isEmpty(value: unknown): boolean {
  return (
    value === null ||
    value === undefined ||
    value === '' ||
    (typeof value === 'number' && Number.isNaN(value))
  );
}

const NUMERIC = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** The value as a finite number, or undefined when it is not one. */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && NUMERIC.test(value)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function fmt(x: number): string {
  return x.toFixed(3);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/**
 * Checks a training table for leakage. future-feature: per entry of featureTimestamps, rows
 * whose feature value is present and whose feature timestamp is after the row's event time
 * or after its label time. label-proxy: see proxyFinding.
 * Timestamps are read as by parseTimestamp (ms since the epoch or ISO-8601, no zone = UTC).
 */
export function checkLeakage(options: LeakageOptions): LeakageReport {
  const { rows, eventTimestampColumn, labelTimestampColumn, labelColumn } = options;
  const featureTimestamps = options.featureTimestamps ?? {};
  const threshold = options.separationThreshold ?? DEFAULT_SEPARATION_THRESHOLD;
  const maxExamples = options.maxExamples ?? DEFAULT_MAX_EXAMPLES;
  if (!(threshold > 0 && threshold <= 1)) {
    throw new ValidationError(`The separation threshold must be in (0, 1], not ${threshold}.`);
  }
  if (!(Number.isInteger(maxExamples) && maxExamples >= 0)) {
    throw new ValidationError(`maxExamples must be a whole number >= 0, not ${maxExamples}.`);
  }

  const columns = columnsOf(rows);
  const present = new Set(columns);
  if (rows.length > 0) {
    const wanted: [string, string][] = [['event timestamp', eventTimestampColumn]];
    if (labelTimestampColumn) wanted.push(['label timestamp', labelTimestampColumn]);
    if (labelColumn) wanted.push(['label', labelColumn]);
    for (const [feature, tsColumn] of Object.entries(featureTimestamps)) {
      wanted.push(['feature', feature], ['feature timestamp', tsColumn]);
    }
    for (const [role, column] of wanted) {
      if (!present.has(column)) {
        throw new ValidationError(
          `The ${role} column "${column}" is not in the table. Its columns: ${columns.join(', ') || '(none)'}.`,
        );
      }
    }
  }

  const findings: LeakageFinding[] = [];
  const featureEntries = Object.entries(featureTimestamps);
  if (featureEntries.length > 0) {
    const eventTs = timestamps(rows, eventTimestampColumn);
    const labelTs = labelTimestampColumn ? timestamps(rows, labelTimestampColumn) : undefined;
    for (const [feature, tsColumn] of featureEntries) {
      const finding = futureFinding(
        rows,
        feature,
        tsColumn,
        eventTs,
        labelTs,
        options,
        maxExamples,
      );
      if (finding) findings.push(finding);
    }
  }

  if (labelColumn) {
    const skip = new Set<string>([
      labelColumn,
      eventTimestampColumn,
      ...Object.values(featureTimestamps),
    ]);
    if (labelTimestampColumn) skip.add(labelTimestampColumn);
    const label = prepareLabel(rows, labelColumn);
    if (label) {
      for (const column of columns) {
        if (skip.has(column)) continue;
        const finding = proxyFinding(rows, column, labelColumn, label, threshold, maxExamples);
        if (finding) findings.push(finding);
      }
    }
  }

  findings.sort((a, b) => b.score - a.score || a.column.localeCompare(b.column));
  return { rows: rows.length, findings };
}

/** Timestamps of one column, NaN for empty; a ValidationError naming the data row for a bad one. */
function timestamps(rows: Row[], column: string): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const value = rows[i]![column];
    const t = tryParseTimestamp(value);
    if (t === undefined) {
      throw new ValidationError(
        `Cannot read the timestamp at data row ${i + 1}, column ${column}: ` +
          `${JSON.stringify(value) ?? String(value)}. Expected ms since the epoch or ISO-8601 ` +
          'such as 2024-05-01T12:00:00Z (no zone = UTC).',
      );
    }
    out[i] = t === null ? Number.NaN : t;
  }
  return out;
}

function futureFinding(
  rows: Row[],
  feature: string,
  tsColumn: string,
  eventTs: Float64Array,
  labelTs: Float64Array | undefined,
  options: LeakageOptions,
  maxExamples: number,
): LeakageFinding | undefined {
  const featureTs = timestamps(rows, tsColumn);
  let count = 0;
  let afterLabel = 0;
  const examples: LeakageFinding['examples'] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const t = featureTs[i]!;
    // A missing value leaks nothing, whatever its timestamp says; NaN compares false.
    if (isEmpty(row[feature]) || Number.isNaN(t)) continue;
    const pastLabel = labelTs !== undefined && t > labelTs[i]!;
    if (!(t > eventTs[i]! || pastLabel)) continue;
    count++;
    if (pastLabel) afterLabel++;
    if (examples.length < maxExamples) {
      const values: Record<string, Value> = {
        [feature]: row[feature] ?? null,
        [tsColumn]: row[tsColumn] ?? null,
        [options.eventTimestampColumn]: row[options.eventTimestampColumn] ?? null,
      };
      if (options.labelTimestampColumn) {
        values[options.labelTimestampColumn] = row[options.labelTimestampColumn] ?? null;
      }
      examples.push({ row: i + 1, values });
    }
  }
  if (count === 0) return undefined;
  const share = count / rows.length;
  let message =
    `"${feature}" has ${count} of ${rows.length} rows (${pct(share)}) stamped (${tsColumn}) after ` +
    `the event time (${options.eventTimestampColumn})`;
  message += labelTs
    ? `${afterLabel > 0 ? `; ${afterLabel} of them after the label was known (${options.labelTimestampColumn})` : ''}.`
    : '.';
  message +=
    ' Those values were not known when the prediction would be made; join them as of the event time.';
  return { kind: 'future-feature', column: feature, count, score: share, message, examples };
}

interface PreparedLabel {
  kind: 'binary' | 'multiclass' | 'regression';
  /** Per row: label class index (classes ordered by frequency, most frequent first), -1 when missing. */
  classOf: Int32Array;
  classes: string[];
  /** Per row: the numeric label (regression), NaN when missing. */
  numeric: Float64Array | undefined;
}

/** The label's classes, or undefined when fewer than two distinct labels leave nothing to separate. */
function prepareLabel(rows: Row[], labelColumn: string): PreparedLabel | undefined {
  const counts = new Map<string, number>();
  let allNumeric = true;
  for (const row of rows) {
    const v = row[labelColumn];
    if (isEmpty(v)) continue;
    const key = String(v);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (allNumeric && asNumber(v) === undefined) allNumeric = false;
  }
  if (counts.size < 2) return undefined;
  const classes = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([key]) => key);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const classOf = new Int32Array(rows.length);
  const kind = counts.size === 2 ? 'binary' : allNumeric ? 'regression' : 'multiclass';
  const numeric = kind === 'regression' ? new Float64Array(rows.length) : undefined;
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]![labelColumn];
    classOf[i] = isEmpty(v) ? -1 : classIndex.get(String(v))!;
    if (numeric) numeric[i] = isEmpty(v) ? Number.NaN : asNumber(v)!;
  }
  return { kind, classOf, classes, numeric };
}

/**
 * How well one column alone tells the label, over the rows with a label (and, for numeric
 * columns, a value). Skipped: columns with one value, id-like columns (all values distinct,
 * text or whole numbers) and columns with fewer than MIN_PROXY_ROWS usable rows.
 * - binary label, numeric column: rank AUC, max(AUC, 1 - AUC); and separately whether the
 *   column is empty, judged as a two-category column.
 * - binary or multiclass label, categorical column (empty = a category of its own), or a
 *   numeric one with few values for a multiclass label: held-out (leave-one-out) accuracy of
 *   predicting the majority label of the row's category, flagged only when it also removes
 *   at least half of the majority-class baseline's errors.
 * - numeric label (more than two values): |Spearman| with numeric columns.
 */
function proxyFinding(
  rows: Row[],
  column: string,
  labelColumn: string,
  label: PreparedLabel,
  threshold: number,
  maxExamples: number,
): LeakageFinding | undefined {
  const labelled: number[] = [];
  const withValue: number[] = [];
  let numeric = true;
  let whole = true;
  for (let i = 0; i < rows.length; i++) {
    if (label.classOf[i]! < 0) continue;
    labelled.push(i);
    const v = rows[i]![column];
    if (isEmpty(v)) continue;
    withValue.push(i);
    if (numeric) {
      const n = asNumber(v);
      if (n === undefined) numeric = false;
      else if (!Number.isInteger(n)) whole = false;
    }
  }
  if (withValue.length < MIN_PROXY_ROWS) return undefined;
  const distinct = new Set<string | number>();
  for (const i of withValue) {
    const v = rows[i]![column]!;
    distinct.add(numeric ? asNumber(v)! : String(v));
  }
  if (distinct.size < 2) return undefined;
  // All-distinct text or whole numbers are ids: any separation they show is chance or order.
  if (distinct.size === withValue.length && (!numeric || whole)) return undefined;

  const examples = (indices: number[]): LeakageFinding['examples'] =>
    indices.slice(0, maxExamples).map((i) => ({
      row: i + 1,
      values: { [column]: rows[i]![column] ?? null, [labelColumn]: rows[i]![labelColumn] ?? null },
    }));
  const finding = (score: number, message: string, indices: number[]): LeakageFinding => ({
    kind: 'label-proxy',
    column,
    count: 0,
    score,
    message: `${message} It may be derived from the label or recorded after it.`,
    examples: examples(indices),
  });

  if (label.kind === 'regression') {
    if (!numeric) return undefined;
    const x = new Float64Array(withValue.length);
    const y = new Float64Array(withValue.length);
    withValue.forEach((i, k) => {
      x[k] = asNumber(rows[i]![column])!;
      y[k] = label.numeric![i]!;
    });
    const rho = Math.abs(spearman(x, y));
    if (!(rho >= threshold)) return undefined;
    return finding(
      rho,
      `"${column}" alone ranks the label "${labelColumn}" with |Spearman| ${fmt(rho)} (>= ${threshold}).`,
      withValue,
    );
  }

  if (numeric && label.kind === 'binary') {
    const positives: number[] = [];
    const negatives: number[] = [];
    for (const i of withValue) {
      (label.classOf[i] === 0 ? positives : negatives).push(asNumber(rows[i]![column])!);
    }
    if (positives.length > 0 && negatives.length > 0) {
      const auc = rankAuc(Float64Array.from(positives), Float64Array.from(negatives));
      const score = Math.max(auc, 1 - auc);
      if (score >= threshold) {
        return finding(
          score,
          `"${column}" alone separates the label "${labelColumn}" with AUC ${fmt(score)} (>= ${threshold}).`,
          withValue,
        );
      }
    }
    // Whether the value is there at all can give the label away (e.g. a refund date).
    if (withValue.length === labelled.length) return undefined;
    const isSet = new Set(withValue);
    const categories = labelled.map((i) => (isSet.has(i) ? 'set' : 'empty'));
    const rule = heldOutAccuracy(categories, labelled, label);
    if (!rule || !suspicious(rule, threshold)) return undefined;
    return finding(
      rule.accuracy,
      `Whether "${column}" is empty predicts the label "${labelColumn}" with ${pct(rule.accuracy)} ` +
        `accuracy (>= ${pct(threshold)}; majority class alone: ${pct(rule.baseline)}).`,
      labelled,
    );
  }

  // Categorical rule; a numeric column for a multiclass label is read as categories too.
  const categories = labelled.map((i) => {
    const v = rows[i]![column];
    return isEmpty(v) ? MISSING_CATEGORY : numeric ? String(asNumber(v)) : String(v);
  });
  const categoryCount = new Set(categories).size;
  if (categoryCount > MAX_CATEGORY_SHARE * labelled.length) return undefined;
  const rule = heldOutAccuracy(categories, labelled, label);
  if (!rule || !suspicious(rule, threshold)) return undefined;
  return finding(
    rule.accuracy,
    `"${column}" (${categoryCount} values) alone predicts the label "${labelColumn}" with ` +
      `${pct(rule.accuracy)} accuracy (>= ${pct(threshold)}; majority class alone: ${pct(rule.baseline)}).`,
    labelled,
  );
}

function suspicious(rule: { accuracy: number; baseline: number }, threshold: number): boolean {
  return (
    rule.accuracy >= threshold &&
    rule.baseline < 1 &&
    1 - rule.accuracy <= (1 - MIN_ERROR_REDUCTION) * (1 - rule.baseline)
  );
}

/**
 * Leave-one-out accuracy of "predict the most common label of the row's category" (ties and
 * empty categories go to the more frequent class overall), so a column of near-unique values
 * cannot score by memorising each row. Baseline: the majority class's share of these rows.
 */
function heldOutAccuracy(
  categories: string[],
  indices: number[],
  label: PreparedLabel,
): { accuracy: number; baseline: number } | undefined {
  const perCategory = new Map<string, Map<number, number>>();
  const classCounts = new Map<number, number>();
  indices.forEach((row, k) => {
    const y = label.classOf[row]!;
    const category = categories[k]!;
    let counts = perCategory.get(category);
    if (!counts) perCategory.set(category, (counts = new Map()));
    counts.set(y, (counts.get(y) ?? 0) + 1);
    classCounts.set(y, (classCounts.get(y) ?? 0) + 1);
  });
  if (classCounts.size < 2) return undefined;
  // Class indices are ordered by overall frequency, so the smaller index wins a tie.
  const better = (c1: number, y1: number, c2: number, y2: number): boolean =>
    c1 > c2 || (c1 === c2 && y1 < y2);
  let majority = -1;
  let majorityCount = 0;
  for (const [y, c] of classCounts) {
    if (majority < 0 || better(c, y, majorityCount, majority)) [majority, majorityCount] = [y, c];
  }
  let correct = 0;
  for (const counts of perCategory.values()) {
    let top = -1;
    let topCount = 0;
    let second = -1;
    let secondCount = 0;
    for (const [y, c] of counts) {
      if (top < 0 || better(c, y, topCount, top)) {
        [second, secondCount] = [top, topCount];
        [top, topCount] = [y, c];
      } else if (second < 0 || better(c, y, secondCount, second)) {
        [second, secondCount] = [y, c];
      }
    }
    // Only rows of the top class can be predicted right once they are held out.
    const left = topCount - 1;
    if (left === 0 && second < 0) {
      if (top === majority) correct += topCount;
    } else if (second < 0 || better(left, top, secondCount, second)) {
      correct += topCount;
    }
  }
  return { accuracy: correct / indices.length, baseline: majorityCount / indices.length };
}

/** P(positive > negative) + P(tie) / 2, from the two sorted samples. */
function rankAuc(positives: Float64Array, negatives: Float64Array): number {
  positives.sort();
  negatives.sort();
  // Both counts only grow as p does: negatives below p, and negatives at or below p.
  let below = 0;
  let atOrBelow = 0;
  let sum = 0;
  for (const p of positives) {
    while (below < negatives.length && negatives[below]! < p) below++;
    if (atOrBelow < below) atOrBelow = below;
    while (atOrBelow < negatives.length && negatives[atOrBelow]! <= p) atOrBelow++;
    sum += below + (atOrBelow - below) / 2;
  }
  return sum / (positives.length * negatives.length);
}

/** Average ranks (1-based, ties share their mean rank). */
function ranks(values: Float64Array): Float64Array {
  const sorted = Float64Array.from(values).sort();
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    out[i] = (first + lo + 1) / 2;
  }
  return out;
}

function spearman(x: Float64Array, y: Float64Array): number {
  const rx = ranks(x);
  const ry = ranks(y);
  const n = rx.length;
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i]! - mean;
    const dy = ry[i]! - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}
