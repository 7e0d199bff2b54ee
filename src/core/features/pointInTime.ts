// Point-in-time correct feature joins, as Feast and Tecton do them: each entity row gets, per
// feature table, the latest row with its keys that was both true and written by the row's
// event time, so a training set never sees values from its own future. Pure functions over
// row records; feature rows are grouped by key and sorted once, then binary searched.

import { ValidationError } from '../model/errors.ts';

export type Row = Record<string, number | string | null>;

export interface FeatureTableSpec {
  /** A name for messages and for prefixing columns on collision (e.g. the file's base name). */
  name: string;
  rows: Row[];
  /** Entity key columns, same names as in the entity table (e.g. ['customer_id']). */
  keys: string[];
  /** When the feature value became true in the world. */
  timestampColumn: string;
  /** When the row was written (backfills have created > event time); optional. */
  createdColumn?: string;
  /** Rows older than this before the event are not used (ms); undefined = no limit. */
  ttlMs?: number;
  /** Feature columns to take (default: every column that is not a key / timestamp / created). */
  features?: string[];
}

export interface AsOfJoinOptions {
  entityRows: Row[];
  /** Column of the entity table with the event time. */
  eventTimestampColumn: string;
  keys: string[];
  featureTables: FeatureTableSpec[];
  signal?: AbortSignal;
}

export interface AsOfJoinStats {
  table: string;
  /** Entity rows that got a feature row. */
  matched: number;
  /**
   * Entity rows with no feature row of their keys at or before the event time (also: entity
   * rows whose event time or a key is empty).
   */
  missedNoRow: number;
  /** Entity rows whose latest usable feature row is older than event - ttlMs. */
  missedTtl: number;
  /**
   * Entity rows left without a match only because feature rows written after the event
   * (created > event time) were excluded: with them counted, the row would have matched.
   */
  excludedBackfill: number;
}

export interface AsOfJoinResult {
  /** The entity rows in their original order, each with the feature columns added (null when no row qualifies). */
  rows: Row[];
  /** Column names of the output in order: entity columns then features (a feature whose name collides with an existing column is named `${table.name}__${column}`). */
  columns: string[];
  stats: AsOfJoinStats[];
}

const ENTITY_TABLE = 'entity table';
/** Backfilled rows scanned past linearly before the segment tree is built and used. */
const LINEAR_SCAN = 16;
/** Columns listed in a "missing column" message. */
const LISTED_COLUMNS = 50;

// Timestamps: numbers and numeric strings are ms since the epoch; strings are ISO-8601 dates
// or date-times (`T` or a space between), with an optional zone (Z, UTC, GMT, +hh, +hhmm,
// +hh:mm). A date-time without a zone is read as UTC, never as the machine's local time, so a
// join gives the same answer everywhere. Fractions beyond milliseconds are truncated.
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(?:([Zz]|UTC|GMT)|([+-])(\d{2})(?::?(\d{2}))?)?$/;
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A timestamp in ms since the epoch; null for an empty value (null, undefined or blank);
 * undefined when the value does not parse. See parseTimestamp for the accepted forms.
 */
export function tryParseTimestamp(value: unknown): number | null | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return null;
  if (NUMERIC.test(text)) {
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  }
  const m = ISO_TIMESTAMP.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number((m[7] + '00').slice(0, 3));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > monthDays) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  let time = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (year < 100) {
    // Date.UTC maps years 0-99 to 1900-1999.
    const d = new Date(time);
    d.setUTCFullYear(year);
    time = d.getTime();
  }
  return time - offsetMinutes * 60_000;
}

/**
 * A timestamp in ms since the epoch, or null for an empty value. Accepts numbers and numeric
 * strings (ms since the epoch) and ISO-8601 strings (`2024-05-01`, `2024-05-01T12:00:00.250Z`,
 * `2024-05-01 12:00:00+02:00`); a string without a zone is read as UTC.
 * Throws a ValidationError naming `where` for anything else.
 */
export function parseTimestamp(value: number | string | null, where: string): number | null {
  const parsed = tryParseTimestamp(value);
  if (parsed === undefined) throw badTimestamp(value, where);
  return parsed;
}

function badTimestamp(value: unknown, where: string): ValidationError {
  return new ValidationError(
    `Cannot read the timestamp at ${where}: ${JSON.stringify(value) ?? String(value)}. ` +
      'Expected ms since the epoch or ISO-8601 such as 2024-05-01T12:00:00Z (no zone = UTC).',
  );
}

/** Every column that appears in any row, in order of first appearance. */
export function columnsOf(rows: Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key in row) seen.add(key);
  return [...seen];
}

function requireColumns(
  table: string,
  columns: string[],
  present: Set<string>,
  wanted: string[],
  role: string,
): void {
  const missing = wanted.filter((c) => !present.has(c));
  if (missing.length === 0) return;
  const listed =
    columns.length > LISTED_COLUMNS
      ? `${columns.slice(0, LISTED_COLUMNS).join(', ')}, ... (${columns.length} in all)`
      : columns.join(', ');
  throw new ValidationError(
    `The ${role} column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} ` +
      `${missing.length > 1 ? 'are' : 'is'} not in ${table}. Its columns: ${listed || '(none)'}.`,
  );
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

/**
 * The join key of a row: values compared as strings (so 1 and "1" match), several keys
 * length-prefixed so no two different tuples collide. Null when a key is empty.
 */
function keyOf(row: Row, keys: string[]): string | null {
  if (keys.length === 1) {
    const v = row[keys[0]!];
    return isEmpty(v) ? null : String(v);
  }
  let out = '';
  for (const key of keys) {
    const v = row[key];
    if (isEmpty(v)) return null;
    const s = String(v);
    out += `${s.length}:${s}`;
  }
  return out;
}

/** Timestamps of one column, NaN for empty values; a ValidationError for a bad one. */
function timestampsOf(rows: Row[], column: string, table: string): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const value = rows[i]![column];
    const t = tryParseTimestamp(value);
    if (t === undefined) {
      // Row numbers count a header line, as a spreadsheet or editor shows a CSV file.
      throw badTimestamp(value, `${table} row ${i + 2}, column ${column}`);
    }
    out[i] = t === null ? Number.NaN : t;
  }
  return out;
}

/** A feature table grouped by key, each group sorted by (timestamp, created, file order). */
interface FeatureIndex {
  groups: Map<string, number>;
  /** Group g spans [start[g], start[g + 1]) of the sorted arrays. */
  start: Int32Array;
  ts: Float64Array;
  /** -Infinity where the row has no created time (never excluded, oldest in a tie). */
  created: Float64Array | undefined;
  rowIndex: Uint32Array;
  /** Min-segment tree over `created`, built the first time a backfill is skipped far. */
  tree: Float64Array | undefined;
  treeSize: number;
}

function indexTable(table: FeatureTableSpec): FeatureIndex {
  const { rows, keys } = table;
  const ts = timestampsOf(rows, table.timestampColumn, table.name);
  const createdRaw = table.createdColumn
    ? timestampsOf(rows, table.createdColumn, table.name)
    : undefined;

  // Rows without a key or a feature timestamp can never be chosen.
  const groups = new Map<string, number>();
  const groupOf = new Int32Array(rows.length);
  const counts: number[] = [];
  let usable = 0;
  for (let i = 0; i < rows.length; i++) {
    const key = keyOf(rows[i]!, keys);
    if (key === null || Number.isNaN(ts[i]!)) {
      groupOf[i] = -1;
      continue;
    }
    let g = groups.get(key);
    if (g === undefined) {
      g = counts.length;
      groups.set(key, g);
      counts.push(0);
    }
    groupOf[i] = g;
    counts[g]!++;
    usable++;
  }

  const start = new Int32Array(counts.length + 1);
  for (let g = 0; g < counts.length; g++) start[g + 1] = start[g]! + counts[g]!;
  const fill = start.slice(0, counts.length);
  const order = new Uint32Array(usable);
  for (let i = 0; i < rows.length; i++) {
    const g = groupOf[i]!;
    if (g >= 0) order[fill[g]!++] = i;
  }

  const created = new Float64Array(rows.length);
  if (createdRaw) {
    for (let i = 0; i < rows.length; i++) {
      const c = createdRaw[i]!;
      created[i] = Number.isNaN(c) ? -Infinity : c;
    }
  }
  // -Infinity - -Infinity is NaN, which falls through the || chain like 0 does.
  const compare = (a: number, b: number): number =>
    ts[a]! - ts[b]! || created[a]! - created[b]! || a - b;
  for (let g = 0; g < counts.length; g++) {
    const lo = start[g]!;
    const hi = start[g + 1]!;
    let sorted = true;
    for (let k = lo + 1; k < hi && sorted; k++) sorted = compare(order[k - 1]!, order[k]!) < 0;
    if (!sorted) order.subarray(lo, hi).sort(compare);
  }

  const sortedTs = new Float64Array(usable);
  const sortedCreated = createdRaw ? new Float64Array(usable) : undefined;
  for (let k = 0; k < usable; k++) {
    const i = order[k]!;
    sortedTs[k] = ts[i]!;
    if (sortedCreated) sortedCreated[k] = created[i]!;
  }
  return {
    groups,
    start,
    ts: sortedTs,
    created: sortedCreated,
    rowIndex: order,
    tree: undefined,
    treeSize: 0,
  };
}

/** The last position in [lo, hi) whose created time is <= t, or -1. */
function lastWrittenBy(index: FeatureIndex, lo: number, hi: number, t: number): number {
  const created = index.created!;
  const stop = Math.max(lo, hi - LINEAR_SCAN);
  for (let k = hi - 1; k >= stop; k--) if (created[k]! <= t) return k;
  if (stop === lo) return -1;
  if (!index.tree) {
    let size = 1;
    while (size < created.length) size *= 2;
    const tree = new Float64Array(2 * size).fill(Infinity);
    tree.set(created, size);
    for (let node = size - 1; node >= 1; node--) {
      tree[node] = Math.min(tree[2 * node]!, tree[2 * node + 1]!);
    }
    index.tree = tree;
    index.treeSize = size;
  }
  return rightmostAtMost(index.tree, 1, 0, index.treeSize, lo, stop, t);
}

function rightmostAtMost(
  tree: Float64Array,
  node: number,
  nodeLo: number,
  nodeHi: number,
  lo: number,
  hi: number,
  t: number,
): number {
  if (nodeHi <= lo || nodeLo >= hi || tree[node]! > t) return -1;
  if (nodeHi - nodeLo === 1) return nodeLo;
  const mid = (nodeLo + nodeHi) >>> 1;
  const right = rightmostAtMost(tree, 2 * node + 1, mid, nodeHi, lo, hi, t);
  return right >= 0 ? right : rightmostAtMost(tree, 2 * node, nodeLo, mid, lo, hi, t);
}

/**
 * Point-in-time join. For each entity row and feature table, the candidates are the table's
 * rows with equal keys (compared as strings; empty keys never match) and timestamp <= the
 * event time; rows written after the event (created > event time) are dropped; of the rest
 * the latest timestamp wins, ties going to the latest created time (empty created = oldest),
 * then to the later row of the file. A winner older than event - ttlMs gives no match
 * (exactly at the bound is kept). Entity rows with an empty event time get no features.
 */
export function asOfJoin(options: AsOfJoinOptions): AsOfJoinResult {
  const { entityRows, eventTimestampColumn, keys, featureTables, signal } = options;
  signal?.throwIfAborted();

  const entityColumns = columnsOf(entityRows);
  const entitySet = new Set(entityColumns);
  // An empty table has no columns to check against.
  if (entityRows.length > 0) {
    requireColumns(ENTITY_TABLE, entityColumns, entitySet, keys, 'key');
    requireColumns(ENTITY_TABLE, entityColumns, entitySet, [eventTimestampColumn], 'timestamp');
  }

  const outputColumns = [...entityColumns];
  const used = new Set(entityColumns);
  const plans: { features: string[]; outNames: string[]; table: FeatureTableSpec }[] = [];
  for (const table of featureTables) {
    if (table.ttlMs !== undefined && !(table.ttlMs >= 0 && table.ttlMs !== Infinity)) {
      throw new ValidationError(
        `The ttl of ${table.name} must be a number of ms >= 0, not ${table.ttlMs}.`,
      );
    }
    if (entityRows.length > 0)
      requireColumns(ENTITY_TABLE, entityColumns, entitySet, table.keys, 'key');
    const columns = columnsOf(table.rows);
    const present = new Set(columns);
    const special = [table.timestampColumn, ...(table.createdColumn ? [table.createdColumn] : [])];
    if (table.rows.length > 0) {
      requireColumns(table.name, columns, present, table.keys, 'key');
      requireColumns(table.name, columns, present, special, 'timestamp');
      if (table.features) requireColumns(table.name, columns, present, table.features, 'feature');
    }
    const reserved = new Set([...table.keys, ...special]);
    const features = [...new Set(table.features ?? columns.filter((c) => !reserved.has(c)))];
    const outNames = features.map((feature) => {
      let name = used.has(feature) ? `${table.name}__${feature}` : feature;
      for (let n = 2; used.has(name); n++) name = `${table.name}__${feature}__${n}`;
      used.add(name);
      outputColumns.push(name);
      return name;
    });
    plans.push({ features, outNames, table });
  }

  const eventTs = timestampsOf(entityRows, eventTimestampColumn, ENTITY_TABLE);
  const entityKeys = new Map<string, (string | null)[]>();
  const chosen: Int32Array[] = [];
  const stats: AsOfJoinStats[] = [];

  for (const { table } of plans) {
    signal?.throwIfAborted();
    const index = indexTable(table);
    signal?.throwIfAborted();
    const signature = JSON.stringify(table.keys);
    let keyStrings = entityKeys.get(signature);
    if (!keyStrings) {
      keyStrings = entityRows.map((row) => keyOf(row, table.keys));
      entityKeys.set(signature, keyStrings);
    }
    const picks = new Int32Array(entityRows.length).fill(-1);
    const stat: AsOfJoinStats = {
      table: table.name,
      matched: 0,
      missedNoRow: 0,
      missedTtl: 0,
      excludedBackfill: 0,
    };
    const { ts, created, start, rowIndex } = index;
    const ttl = table.ttlMs;

    for (let i = 0; i < entityRows.length; i++) {
      const t = eventTs[i]!;
      const key = keyStrings[i]!;
      const g = key === null || Number.isNaN(t) ? undefined : index.groups.get(key);
      if (g === undefined) {
        stat.missedNoRow++;
        continue;
      }
      const lo = start[g]!;
      // First position whose timestamp is after the event.
      let a = lo;
      let b = start[g + 1]!;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (ts[mid]! <= t) a = mid + 1;
        else b = mid;
      }
      if (a === lo) {
        stat.missedNoRow++;
        continue;
      }
      const latest = a - 1;
      const usable = created && created[latest]! > t ? lastWrittenBy(index, lo, latest, t) : latest;
      const bound = ttl === undefined ? -Infinity : t - ttl;
      if (usable >= 0 && ts[usable]! >= bound) {
        picks[i] = rowIndex[usable]!;
        stat.matched++;
      } else if (ts[latest]! >= bound) {
        // With backfills allowed, `latest` would have matched.
        stat.excludedBackfill++;
      } else {
        stat.missedTtl++;
      }
    }
    chosen.push(picks);
    stats.push(stat);
  }

  const out: Row[] = new Array<Row>(entityRows.length);
  for (let i = 0; i < entityRows.length; i++) {
    const source = entityRows[i]!;
    const row: Row = {};
    for (const column of entityColumns) row[column] = source[column] ?? null;
    for (let p = 0; p < plans.length; p++) {
      const { features, outNames, table } = plans[p]!;
      const pick = chosen[p]![i]!;
      const featureRow = pick >= 0 ? table.rows[pick] : undefined;
      for (let f = 0; f < features.length; f++) {
        row[outNames[f]!] = featureRow ? (featureRow[features[f]!] ?? null) : null;
      }
    }
    out[i] = row;
  }
  return { rows: out, columns: outputColumns, stats };
}
