// Streaming, columnar readers of CSV, JSONL and Parquet tables for drift checks.
// Values go straight into growable typed arrays and string dictionaries (never row
// objects, never the whole file in one string), so a column of numbers costs about
// 8 bytes a row. Column kinds are inferred (see inferKind) unless the caller gives them.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseCsv } from 'csv-parse';
import { parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, FileMetaData, SchemaTree } from 'hyparquet';
import { ValidationError } from '../model/errors.ts';

export type ColumnKind = 'numerical' | 'categorical' | 'binary' | 'text' | 'datetime';
export const COLUMN_KINDS: readonly ColumnKind[] = [
  'numerical',
  'categorical',
  'binary',
  'text',
  'datetime',
];

/** One column, stored compactly: numbers in a Float64Array (NaN = missing; datetime as ms since epoch; binary as 0/1), strings dictionary-encoded. */
export interface Column {
  name: string;
  kind: ColumnKind;
  /** numerical, datetime, binary: one value per row, NaN where missing. */
  values?: Float64Array;
  /** categorical, text: codes into `dictionary`, -1 where missing. */
  codes?: Int32Array;
  dictionary?: string[];
  /** binary: the two labels, [label of 0, label of 1] (e.g. ['false','true'], ['0','1'], ['no','yes']). */
  labels?: [string, string];
  missing: number;
  /** Set when the kind was given by the caller rather than inferred. */
  kindOverridden: boolean;
}

export interface Table {
  file: string;
  format: 'csv' | 'jsonl' | 'parquet';
  rowCount: number;
  columns: Column[];
  /** Rows skipped as malformed (only with skipMalformed), and up to 10 examples { line, message }. */
  skipped: number;
  skippedExamples: { line: number; message: string }[];
}

export interface ReadOptions {
  /** Read only these columns (error naming the file and listing the available columns when one is missing). */
  columns?: string[];
  /** Kind per column, over inference. Kinds of columns the file does not have are ignored. */
  kinds?: Record<string, ColumnKind>;
  /** Skip and count malformed rows instead of failing. */
  skipMalformed?: boolean;
  signal?: AbortSignal;
  /** Called now and then (at most ~10 times a second) with bytes read and total bytes. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** CSV delimiter (default: detected from the header line among , ; \t |). */
  delimiter?: string;
}

/** Non-missing values looked at before a column's kind is decided. */
const SAMPLE_SIZE = 1000;
const MAX_EXAMPLES = 10;
const PROGRESS_INTERVAL_MS = 100;
/** A CSV record longer than this is an error (most likely an unclosed quote eating the file). */
const MAX_RECORD_CHARS = 16 * 1024 * 1024;
const DEFAULT_MAX_RECORDS = 2_000_000;

// ---------------------------------------------------------------------------
// Cell parsing

const MISSING_TOKENS = new Set(['NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']);

/** CSV missing value: empty, NA, N/A, NaN, nan, null, NULL, None. */
function isMissingToken(s: string): boolean {
  const n = s.length;
  return n === 0 || (n <= 4 && MISSING_TOKENS.has(s));
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const NUMBER_RE = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const INFINITY_RE = /^\s*([+-]?)(?:inf|infinity)\s*$/i;

/**
 * A decimal number as written in a CSV cell, or NaN when the cell is not one.
 * Plain decimals of at most 15 digits take the exact fast path (an integer below
 * 2^53 divided by an exact power of ten is correctly rounded, as Number() would be);
 * the rest (exponents, long mantissas, spaces, inf) go through a regex and Number().
 */
export function parseNumber(s: string): number {
  const n = s.length;
  let i = 0;
  let c = n ? s.charCodeAt(0) : 0;
  const neg = c === 45;
  if (neg || c === 43) i = 1;
  let m = 0;
  let digits = 0;
  let frac = 0;
  let dot = false;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (dot) frac++;
    } else if (c === 46 && !dot) dot = true;
    else break;
  }
  if (i === n && digits > 0 && digits <= 15) {
    const v = frac ? m / POW10[frac]! : m;
    return neg ? -v : v;
  }
  if (NUMBER_RE.test(s)) return Number(s);
  const inf = INFINITY_RE.exec(s);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  return NaN;
}

function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * ms since epoch of an ISO-8601 date or datetime: YYYY-MM-DD, optionally followed by
 * T or a space, HH:MM[:SS[.fff]] and a zone (Z, +HH, +HHMM, +HH:MM); NaN otherwise.
 * A datetime without a zone is taken as UTC (not local time), so results do not
 * depend on the machine. Fractions past milliseconds are dropped.
 */
export function parseIsoDate(s: string): number {
  const n = s.length;
  if (n < 10 || n > 40 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return NaN;
  const y1 = digits2(s, 0);
  const y2 = digits2(s, 2);
  const mo = digits2(s, 5);
  const d = digits2(s, 8);
  if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1) return NaN;
  const y = y1 * 100 + y2;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 && !leap ? 28 : DAYS_IN_MONTH[mo - 1]!)) return NaN;
  let ms = daysFromCivil(y, mo, d) * 86_400_000;
  if (n === 10) return ms;
  const sep = s.charCodeAt(10);
  if ((sep !== 84 && sep !== 116 && sep !== 32) || n < 16 || s.charCodeAt(13) !== 58) return NaN;
  const hh = digits2(s, 11);
  const mm = digits2(s, 14);
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59) return NaN;
  ms += hh * 3_600_000 + mm * 60_000;
  let i = 16;
  if (i < n && s.charCodeAt(i) === 58) {
    const ss = digits2(s, i + 1);
    if (ss < 0 || ss > 60) return NaN;
    ms += ss * 1000;
    i += 3;
    const c = s.charCodeAt(i);
    if (i < n && (c === 46 || c === 44)) {
      i++;
      let fd = 0;
      let frac = 0;
      for (; i < n; i++) {
        const x = s.charCodeAt(i) - 48;
        if (x < 0 || x > 9) break;
        if (fd < 3) frac = frac * 10 + x;
        fd++;
      }
      if (fd === 0) return NaN;
      ms += fd >= 3 ? frac : frac * 10 ** (3 - fd);
    }
  }
  if (i === n) return ms;
  const z = s.charCodeAt(i);
  if ((z === 90 || z === 122) && i + 1 === n) return ms;
  if (z !== 43 && z !== 45) return NaN;
  const oh = digits2(s, i + 1);
  if (oh < 0 || oh > 23) return NaN;
  let om = 0;
  let j = i + 3;
  if (j < n && s.charCodeAt(j) === 58) j++;
  if (j < n) {
    om = digits2(s, j);
    if (om < 0 || om > 59) return NaN;
    j += 2;
  }
  if (j !== n) return NaN;
  const offset = (oh * 60 + om) * 60_000;
  return z === 43 ? ms - offset : ms + offset;
}

// Boolean words: family * 2 + code. Family 0 is the numbers 0/1, 1 true/false (and
// real booleans), 2 yes/no, 3 y/n, 4 t/f. A binary column holds one family.
const BOOL_WORDS = new Map<string, number>([
  ['false', 2],
  ['true', 3],
  ['no', 4],
  ['yes', 5],
  ['n', 6],
  ['y', 7],
  ['f', 8],
  ['t', 9],
]);
const COUNTERPART: Record<string, string> = {
  true: 'false',
  false: 'true',
  yes: 'no',
  no: 'yes',
  y: 'n',
  n: 'y',
  t: 'f',
  f: 't',
  '0': '1',
  '1': '0',
};

type Raw = string | number | boolean;

/** family * 2 + code of a binary-looking value, -1 otherwise. */
function boolish(raw: Raw, numericStrings: boolean): number {
  if (typeof raw === 'boolean') return raw ? 3 : 2;
  if (typeof raw === 'number') return raw === 0 ? 0 : raw === 1 ? 1 : -1;
  if (numericStrings) {
    const v = parseNumber(raw);
    if (v === v) return v === 0 ? 0 : v === 1 ? 1 : -1;
  }
  if (raw.length > 5) return -1;
  return BOOL_WORDS.get(raw.toLowerCase()) ?? -1;
}

/** The other label of a binary pair, in the same case ('Yes' -> 'No'). */
function counterpart(label: string): string {
  const lower = label.toLowerCase();
  const other = COUNTERPART[lower] ?? 'other';
  if (label !== lower && label === label.toUpperCase()) return other.toUpperCase();
  if (label !== lower) return other.charAt(0).toUpperCase() + other.slice(1);
  return other;
}

function rawToString(raw: Raw): string {
  return typeof raw === 'string' ? raw : String(raw);
}

const HAS_SPACE = /\s/;

// ---------------------------------------------------------------------------
// Column builder

const PENDING = 0;
const NUM = 1;
const BIN = 2;
const DATE = 3;
const DICT = 4;

/** csv: strings may spell numbers and missing tokens; json: values are typed; strings: Parquet text. */
type Mode = 'csv' | 'json' | 'strings';

function growF64(a: Float64Array, min: number): Float64Array {
  const b = new Float64Array(Math.max(min, a.length * 2, 1024));
  b.set(a);
  return b;
}

function growI32(a: Int32Array, min: number): Int32Array {
  const b = new Int32Array(Math.max(min, a.length * 2, 1024));
  b.set(a);
  return b;
}

/** The first n values; a view when little capacity would be wasted, else a copy. */
function trimmed<T extends Float64Array | Int32Array>(a: T, n: number): T {
  if (a.length === n) return a;
  if (a.length - n <= n >> 3) return a.subarray(0, n) as T;
  return a.slice(0, n) as T;
}

const NO_F64 = new Float64Array(0);
const NO_I32 = new Int32Array(0);

/**
 * Kind inference, from the first SAMPLE_SIZE non-missing values of a column:
 * - all numbers: binary when the distinct values are exactly {0, 1}, else numerical
 *   (CSV cells are numbers when they spell one; JSON strings are never numbers);
 * - booleans, or exactly two distinct values (ignoring case) of one pair among
 *   true/false, yes/no, y/n, t/f: binary, labelled as first written;
 * - all ISO-8601 dates or datetimes (see parseIsoDate): datetime;
 * - other strings: text when their mean length is >= 30 characters and at least half
 *   contain whitespace, else categorical. A column with no values at all is categorical.
 * Reading then goes on in that kind. A later value that does not fit (a word in a
 * numerical column, a third value in a binary one, a non-date in a datetime one)
 * turns the column categorical: the sampled values keep their text as written, later
 * ones are rendered back (numbers by String(), so "1.50" becomes "1.5"; binary values
 * by their label; datetimes as ISO strings in UTC). With a kind given by the caller
 * nothing is inferred and such a value makes the row malformed.
 */
class ColumnBuilder {
  st = PENDING;
  kind: ColumnKind = 'categorical';
  length = 0;
  missing = 0;
  values: Float64Array = NO_F64;
  codes: Int32Array = NO_I32;
  readonly dict = new Map<string, number>();
  readonly dictionary: string[] = [];
  sample: Raw[] = [];
  sampleRows: number[] = [];
  binFamily = -1;
  readonly labels: [string | undefined, string | undefined] = [undefined, undefined];
  private readonly binCache = new Map<string, number>();
  readonly strict: boolean;
  private readonly typed: boolean;
  private readonly numericStrings: boolean;

  constructor(
    readonly name: string,
    readonly mode: Mode,
    readonly override: ColumnKind | undefined,
    /** The kind a typed source (Parquet) dictates, when not inferred. */
    fixed?: ColumnKind,
  ) {
    this.strict = override !== undefined;
    this.typed = fixed !== undefined;
    this.numericStrings = mode === 'csv' || this.strict;
    const kind = override ?? fixed;
    if (kind) this.start(kind);
    if (!override && fixed === 'binary') {
      this.binFamily = 1;
      this.labels[0] = 'false';
      this.labels[1] = 'true';
    }
  }

  /** Switches to storing values of a kind; rows so far become missing. */
  private start(kind: ColumnKind): void {
    this.kind = kind;
    const cap = Math.max(1024, this.length * 2);
    if (kind === 'categorical' || kind === 'text') {
      this.st = DICT;
      this.codes = new Int32Array(cap).fill(-1, 0, this.length);
    } else {
      this.st = kind === 'numerical' ? NUM : kind === 'binary' ? BIN : DATE;
      this.values = new Float64Array(cap).fill(NaN, 0, this.length);
    }
  }

  private inferKind(): ColumnKind {
    const sample = this.sample;
    const n = sample.length;
    if (n === 0) return 'categorical';
    if (this.mode !== 'strings') {
      let nums = 0;
      let dates = 0;
      let zeroOne = true;
      let family = -1;
      let sameFamily = true;
      let typedBool = false;
      const seen = [false, false];
      for (const raw of sample) {
        const v =
          typeof raw === 'number'
            ? raw
            : typeof raw === 'string' && this.mode === 'csv'
              ? parseNumber(raw)
              : NaN;
        if (v === v) {
          nums++;
          if (v !== 0 && v !== 1) zeroOne = false;
        } else if (typeof raw === 'string' && parseIsoDate(raw) === parseIsoDate(raw)) dates++;
        if (!sameFamily) continue;
        const b = boolish(raw, this.mode === 'csv');
        if (b < 0) sameFamily = false;
        else {
          if (family === -1) family = b >> 1;
          else if (family !== b >> 1) sameFamily = false;
          seen[b & 1] = true;
          if (typeof raw === 'boolean') typedBool = true;
        }
      }
      if (nums === n) {
        if (zeroOne && seen[0] && seen[1]) {
          this.binFamily = 0;
          return 'binary';
        }
        return 'numerical';
      }
      if (sameFamily && family > 0 && (typedBool || (seen[0] && seen[1]))) {
        this.binFamily = family;
        return 'binary';
      }
      if (dates === n) return 'datetime';
    }
    let chars = 0;
    let spaced = 0;
    for (const raw of sample) {
      const s = rawToString(raw);
      chars += s.length;
      if (HAS_SPACE.test(s)) spaced++;
    }
    return chars / n >= 30 && spaced * 2 >= n ? 'text' : 'categorical';
  }

  /** Ends the inference: picks the kind and stores the sampled values in it. */
  private decide(): void {
    this.start(this.inferKind());
    const { sample, sampleRows } = this;
    for (let j = 0; j < sample.length; j++) {
      const r = sampleRows[j]!;
      const raw = sample[j]!;
      if (this.st === DICT) this.codes[r] = this.code(rawToString(raw));
      else if (this.st === NUM) this.values[r] = this.numOf(raw);
      else if (this.st === DATE) this.values[r] = parseIsoDate(raw as string);
      else this.values[r] = this.binOf(raw);
    }
  }

  private numOf(raw: Raw): number {
    if (typeof raw === 'number') return raw;
    return typeof raw === 'string' && this.numericStrings ? parseNumber(raw) : NaN;
  }

  private dateOf(raw: Raw): number {
    if (typeof raw === 'string') return parseIsoDate(raw);
    // Typed timestamps (Parquet) and caller-given datetimes take numbers as ms.
    return typeof raw === 'number' && (this.strict || this.typed) ? raw : NaN;
  }

  /** 0 or 1 of a binary value (noting its label), -1 when it does not fit the column. */
  private binOf(raw: Raw): number {
    const b = boolish(raw, this.numericStrings);
    if (b < 0) return -1;
    const family = b >> 1;
    if (!this.strict && this.binFamily >= 0 && family !== this.binFamily) return -1;
    const code = b & 1;
    if (this.labels[code] === undefined) {
      this.labels[code] = family === 0 ? String(code) : rawToString(raw);
    }
    return code;
  }

  code(s: string): number {
    let c = this.dict.get(s);
    if (c === undefined) {
      c = this.dictionary.length;
      this.dict.set(s, c);
      this.dictionary.push(s);
    }
    return c;
  }

  private pushValue(v: number): void {
    if (this.length === this.values.length) this.values = growF64(this.values, this.length + 1);
    this.values[this.length++] = v;
  }

  private pushCode(c: number): void {
    if (this.length === this.codes.length) this.codes = growI32(this.codes, this.length + 1);
    this.codes[this.length++] = c;
  }

  private addSample(raw: Raw): void {
    this.sample.push(raw);
    this.sampleRows.push(this.length++);
    if (this.sample.length >= SAMPLE_SIZE) this.decide();
  }

  /** A value that does not fit the inferred kind: the column becomes categorical. */
  private misfit(s: string): void {
    if (this.strict) throw new Error(`internal: ${this.name} was not checked before a push`);
    this.toCategorical();
    this.pushCode(this.code(s));
  }

  private toCategorical(): void {
    const n = this.length;
    const codes = new Int32Array(Math.max(1024, this.values.length));
    const { sample, sampleRows, values, st } = this;
    let j = 0;
    for (let r = 0; r < n; r++) {
      const v = values[r]!;
      if (v !== v) {
        codes[r] = -1;
        continue;
      }
      while (j < sampleRows.length && sampleRows[j]! < r) j++;
      let s: string;
      if (j < sampleRows.length && sampleRows[j] === r) s = rawToString(sample[j]!);
      else if (st === BIN) s = this.finalLabels()[v ? 1 : 0];
      else if (st === DATE) s = new Date(v).toISOString();
      else s = String(v);
      codes[r] = this.code(s);
    }
    this.codes = codes;
    this.values = NO_F64;
    this.st = DICT;
    this.kind = 'categorical';
  }

  pushMissing(): void {
    this.missing++;
    if (this.st === PENDING) this.length++;
    else if (this.st === DICT) this.pushCode(-1);
    else this.pushValue(NaN);
  }

  pushMissingRows(count: number): void {
    if (this.st === PENDING) {
      this.length += count;
      this.missing += count;
    } else for (let i = 0; i < count; i++) this.pushMissing();
  }

  /** A CSV cell: the hot path of CSV reading, so each kind is handled inline. */
  pushCsv(s: string): void {
    switch (this.st) {
      case NUM: {
        const v = parseNumber(s);
        if (v === v) this.pushValue(v);
        else if (isMissingToken(s)) {
          this.missing++;
          this.pushValue(NaN);
        } else this.misfit(s);
        return;
      }
      case DICT:
        if (isMissingToken(s)) {
          this.missing++;
          this.pushCode(-1);
        } else this.pushCode(this.code(s));
        return;
      case BIN: {
        let c = this.binCache.get(s);
        if (c === undefined) {
          c = isMissingToken(s) ? -2 : this.binOf(s);
          if (this.binCache.size < 64) this.binCache.set(s, c);
        }
        if (c >= 0) this.pushValue(c);
        else if (c === -2) {
          this.missing++;
          this.pushValue(NaN);
        } else this.misfit(s);
        return;
      }
      case DATE: {
        const v = parseIsoDate(s);
        if (v === v) this.pushValue(v);
        else if (isMissingToken(s)) {
          this.missing++;
          this.pushValue(NaN);
        } else this.misfit(s);
        return;
      }
      default:
        if (isMissingToken(s)) {
          this.missing++;
          this.length++;
        } else this.addSample(s);
    }
  }

  /** A typed value (JSONL, Parquet); null is missing. */
  push(raw: Raw | null): void {
    if (raw === null) {
      this.pushMissing();
      return;
    }
    switch (this.st) {
      case NUM: {
        const v = this.numOf(raw);
        if (v === v) this.pushValue(v);
        else this.misfit(rawToString(raw));
        return;
      }
      case DICT:
        this.pushCode(this.code(rawToString(raw)));
        return;
      case BIN: {
        const c = this.binOf(raw);
        if (c >= 0) this.pushValue(c);
        else this.misfit(rawToString(raw));
        return;
      }
      case DATE: {
        const v = this.dateOf(raw);
        if (v === v) this.pushValue(v);
        else this.misfit(rawToString(raw));
        return;
      }
      default:
        this.addSample(raw);
    }
  }

  /** Parquet values of a numerical, datetime or boolean column, in bulk. */
  pushTyped(data: ArrayLike<unknown>, from: number, to: number): void {
    if (this.strict || !this.typed || this.st === DICT || this.st === PENDING) {
      for (let i = from; i < to; i++) this.push(parquetRaw(data[i]));
      return;
    }
    const need = this.length + (to - from);
    if (need > this.values.length) this.values = growF64(this.values, need);
    const out = this.values;
    let k = this.length;
    for (let i = from; i < to; i++) {
      const x = data[i];
      if (x === null || x === undefined) {
        out[k++] = NaN;
        this.missing++;
      } else if (typeof x === 'number') out[k++] = x;
      else if (typeof x === 'bigint') out[k++] = Number(x);
      else if (typeof x === 'boolean') out[k++] = x ? 1 : 0;
      else if (x instanceof Date) out[k++] = x.getTime();
      else out[k++] = Number(x);
    }
    this.length = k;
  }

  /** Whether a CSV cell fits the kind the caller gave (checked before a row is kept). */
  fitsCsv(s: string): boolean {
    return isMissingToken(s) || this.fits(s);
  }

  /** Whether a value fits the kind the caller gave. */
  fits(raw: Raw | null): boolean {
    if (raw === null) return true;
    switch (this.override) {
      case 'numerical':
        return this.numOf(raw) === this.numOf(raw);
      case 'binary':
        return boolish(raw, true) >= 0;
      case 'datetime':
        return typeof raw === 'number' || parseIsoDate(String(raw)) === parseIsoDate(String(raw));
      default:
        return true;
    }
  }

  private finalLabels(): [string, string] {
    let [l0, l1] = this.labels;
    if (l0 === undefined && l1 === undefined) {
      if (this.binFamily === 0) return ['0', '1'];
      return ['false', 'true'];
    }
    l0 ??= counterpart(l1!);
    l1 ??= counterpart(l0);
    return [l0, l1];
  }

  finish(): Column {
    if (this.st === PENDING) this.decide();
    const n = this.length;
    const column: Column = {
      name: this.name,
      kind: this.kind,
      missing: this.missing,
      kindOverridden: this.strict,
    };
    if (this.st === DICT) {
      column.codes = trimmed(this.codes, n);
      column.dictionary = this.dictionary;
    } else {
      column.values = trimmed(this.values, n);
      if (this.st === BIN) column.labels = this.finalLabels();
    }
    return column;
  }

  describeKind(): string {
    switch (this.override) {
      case 'numerical':
        return 'a number';
      case 'binary':
        return 'a binary value (0/1, true/false, yes/no, y/n, t/f)';
      case 'datetime':
        return 'an ISO-8601 date or datetime (YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM])';
      default:
        return `a ${this.override} value`;
    }
  }
}

function parquetRaw(x: unknown): Raw | null {
  if (x === null || x === undefined) return null;
  switch (typeof x) {
    case 'string':
    case 'number':
    case 'boolean':
      return x;
    case 'bigint':
      return Number(x);
    default:
      if (x instanceof Date) return x.getTime();
      return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
  }
}

// ---------------------------------------------------------------------------
// Shared plumbing

interface Context {
  file: string;
  options: ReadOptions;
  skipped: number;
  skippedExamples: { line: number; message: string }[];
  /** Bytes read so far; reports progress at most every PROGRESS_INTERVAL_MS. */
  progress(bytes: number): void;
  total: number;
}

function makeContext(file: string, options: ReadOptions, total: number): Context {
  let last = 0;
  return {
    file,
    options,
    skipped: 0,
    skippedExamples: [],
    total,
    progress(bytes: number) {
      if (!options.onProgress) return;
      const now = Date.now();
      if (now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      options.onProgress(Math.min(bytes, total), total);
    },
  };
}

const SKIP_ADVICE = 'Fix the file, or pass skipMalformed to skip and count such rows.';

/** A malformed row: counted with skipMalformed, else an error naming file and line. */
function malformed(ctx: Context, where: string, line: number, message: string): void {
  if (!ctx.options.skipMalformed) {
    throw new ValidationError(`${ctx.file}, ${where} ${line}: ${message}. ${SKIP_ADVICE}`);
  }
  ctx.skipped++;
  if (ctx.skippedExamples.length < MAX_EXAMPLES) ctx.skippedExamples.push({ line, message });
}

function valueMessage(b: ColumnBuilder, raw: Raw): string {
  const shown = rawToString(raw);
  const text = shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
  return `column "${b.name}": ${JSON.stringify(text)} is not ${b.describeKind()}, but the column was given kind ${b.override}`;
}

function listNames(names: Iterable<string>): string {
  const all = [...names];
  const shown = all.slice(0, 30).join(', ');
  return all.length > 30 ? `${shown}, ... (${all.length} in all)` : shown || '(none)';
}

function unknownColumn(file: string, name: string, available: Iterable<string>): ValidationError {
  return new ValidationError(
    `${file} has no column "${name}". Its columns are: ${listNames(available)}.`,
  );
}

function abortError(file: string): Error {
  const e = new Error(`Reading ${file} was cancelled.`);
  e.name = 'AbortError';
  return e;
}

function uniqueColumns(columns: string[] | undefined): string[] | undefined {
  return columns ? [...new Set(columns)] : undefined;
}

// ---------------------------------------------------------------------------
// CSV

/** The first line of a file (up to 64 KiB), without a BOM. */
async function readFirstLine(file: string): Promise<string> {
  const fd = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fd.read(buf, 0, buf.length, 0);
    const text = buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    const nl = text.indexOf('\n');
    return nl < 0 ? text : text.slice(0, nl);
  } finally {
    await fd.close();
  }
}

/** The candidate delimiter seen most often outside quotes in the header line. */
export function detectDelimiter(headerLine: string, preferTab = false): string {
  const candidates = preferTab ? ['\t', ',', ';', '|'] : [',', '\t', ';', '|'];
  const counts = new Map<string, number>(candidates.map((c) => [c, 0]));
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = candidates[0]!;
  for (const c of candidates) if (counts.get(c)! > counts.get(best)!) best = c;
  return best;
}

function headerNames(record: string[]): string[] {
  const used = new Set<string>();
  return record.map((raw, i) => {
    // As pandas names them: "Unnamed: 3" for an empty name, "a.1" for a second "a".
    const base = raw === '' ? `Unnamed: ${i}` : raw;
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}.${k}`;
    used.add(name);
    return name;
  });
}

function unclosedQuote(file: string, line: number): ValidationError {
  return new ValidationError(
    `${file}, line ${line}: a quoted value opened in the row starting on this line is never closed, so the rest of the file cannot be read. Close the quote; a quote inside a quoted value is written as two quotes ("").`,
  );
}

interface CsvError extends Error {
  code?: string;
  lines?: number;
}

async function readCsv(ctx: Context): Promise<Table> {
  const { file, options } = ctx;
  const delimiter =
    options.delimiter ??
    detectDelimiter(await readFirstLine(file), path.extname(file).toLowerCase() === '.tsv');
  const parser = parseCsv({
    bom: true,
    delimiter,
    // Counts are checked here, so a bad row is skipped or reported with our message.
    relax_column_count: true,
    // A quote inside an unquoted field is kept as a character (5'11" stays 5'11").
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: options.skipMalformed === true,
    max_record_size: MAX_RECORD_CHARS,
  });
  const info = parser.info;
  const requested = uniqueColumns(options.columns);
  const kinds = options.kinds ?? {};

  let names: string[] | undefined;
  let fieldCount = 0;
  let indexes: number[] = [];
  let builders: ColumnBuilder[] = [];
  let strict: number[] = [];
  let rows = 0;
  let failure: unknown;
  // The line a record starts on: csv-parse's line counter is at the record's end
  // line when it emits it, so the start is just after the previous record.
  let prevEnd = 0;
  let prevEmpty = 0;
  const startLine = (): number => prevEnd + 1 + (info.empty_lines - prevEmpty);

  const setHeader = (record: string[]): void => {
    if (record.length && record.every((s) => s.trim() !== '' && !isNaN(parseNumber(s)))) {
      throw new ValidationError(
        `${file}: the first line (${record.slice(0, 5).join(delimiter)}${record.length > 5 ? delimiter + '...' : ''}) looks like data, not column names. A CSV file needs a header line naming its columns; add one.`,
      );
    }
    names = headerNames(record);
    fieldCount = record.length;
    const all = names;
    const wanted = requested ?? all;
    indexes = wanted.map((name) => {
      const i = all.indexOf(name);
      if (i < 0) throw unknownColumn(file, name, all);
      return i;
    });
    builders = wanted.map((name) => new ColumnBuilder(name, 'csv', kinds[name]));
    strict = builders.flatMap((b, j) => (b.strict ? [j] : []));
  };

  const onRecord = (record: string[]): void => {
    if (failure !== undefined) return;
    try {
      if (names === undefined) setHeader(record);
      else if (record.length !== fieldCount) {
        malformed(
          ctx,
          'line',
          startLine(),
          `${record.length} field${record.length === 1 ? '' : 's'}, but the header line has ${fieldCount} columns (${listNames(names)}). Values that contain the delimiter ${JSON.stringify(delimiter)}, a quote or a line break must be quoted`,
        );
      } else {
        for (const j of strict) {
          const b = builders[j]!;
          const cell = record[indexes[j]!]!;
          if (!b.fitsCsv(cell)) {
            malformed(ctx, 'line', startLine(), valueMessage(b, cell));
            return;
          }
        }
        for (let j = 0; j < builders.length; j++) builders[j]!.pushCsv(record[indexes[j]!]!);
        rows++;
      }
    } catch (e) {
      failure = e;
      parser.destroy(e as Error);
    } finally {
      prevEnd = info.lines;
      prevEmpty = info.empty_lines;
    }
  };

  // Records are taken as csv-parse emits them, in place of queueing them on the
  // stream: that is when its line counter is exact, and it saves the queueing.
  const hooked = parser as unknown as { push(chunk: unknown): boolean };
  const push = hooked.push.bind(parser);
  hooked.push = (chunk: unknown): boolean => {
    if (chunk === null) return push(null);
    onRecord(chunk as string[]);
    return true;
  };
  parser.on('skip', (err: CsvError | undefined) => {
    const line = startLine();
    if (err?.code === 'CSV_QUOTE_NOT_CLOSED' || err?.code === 'CSV_MAX_RECORD_SIZE') {
      // Not one bad row: the rest of the file went into it. Skipping would hide that.
      failure ??= unclosedQuote(file, line);
      parser.destroy(failure as Error);
      return;
    }
    ctx.skipped++;
    if (ctx.skippedExamples.length < MAX_EXAMPLES) {
      ctx.skippedExamples.push({ line, message: err?.message ?? 'unreadable record' });
    }
    prevEnd = info.lines;
    prevEmpty = info.empty_lines;
  });

  const source = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  let bytes = 0;
  source.on('data', (chunk) => {
    bytes += chunk.length;
    ctx.progress(bytes);
  });
  try {
    await pipeline(
      source,
      parser,
      async (records: AsyncIterable<string[]>) => {
        // Only reached if csv-parse ever stops emitting through push.
        for await (const record of records) onRecord(record);
      },
      { signal: options.signal },
    );
  } catch (e) {
    if (failure !== undefined) throw failure;
    if (options.signal?.aborted) throw abortError(file);
    const err = e as CsvError;
    if (err.code === 'CSV_QUOTE_NOT_CLOSED' || err.code === 'CSV_MAX_RECORD_SIZE') {
      throw unclosedQuote(file, startLine());
    }
    if (err.code?.startsWith('CSV_')) {
      throw new ValidationError(
        `${file}, line ${err.lines ?? startLine()}: ${err.message}. ${SKIP_ADVICE}`,
      );
    }
    throw e;
  }
  if (failure !== undefined) throw failure;
  if (names === undefined) {
    throw new ValidationError(
      `${file} is empty: a CSV file needs a header line naming its columns, even with no rows.`,
    );
  }
  return {
    file,
    format: 'csv',
    rowCount: rows,
    columns: builders.map((b) => b.finish()),
    skipped: ctx.skipped,
    skippedExamples: ctx.skippedExamples,
  };
}

// ---------------------------------------------------------------------------
// JSONL

function jsonRaw(v: unknown): Raw | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  return v as Raw;
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

async function readJsonl(ctx: Context): Promise<Table> {
  const { file, options } = ctx;
  const requested = uniqueColumns(options.columns);
  const wanted = requested ? new Set(requested) : undefined;
  const kinds = options.kinds ?? {};
  const byName = new Map<string, ColumnBuilder>();
  const builders: ColumnBuilder[] = [];
  const strict: ColumnBuilder[] = [];
  const otherKeys = new Set<string>();
  let rows = 0;
  let lineNo = 0;

  const onLine = (line: string): void => {
    lineNo++;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      if (line.trim() === '') return;
      malformed(
        ctx,
        'line',
        lineNo,
        `not valid JSON (${(e as Error).message}); each line must be one JSON object`,
      );
      return;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      malformed(
        ctx,
        'line',
        lineNo,
        `${describeJson(obj)}, not a JSON object like {"column": value}`,
      );
      return;
    }
    const record = obj as Record<string, unknown>;
    for (const b of strict) {
      const raw = jsonRaw(record[b.name]);
      if (!b.fits(raw)) {
        malformed(ctx, 'line', lineNo, valueMessage(b, raw!));
        return;
      }
    }
    for (const key in record) {
      let b = byName.get(key);
      if (b === undefined) {
        if (wanted && !wanted.has(key)) {
          otherKeys.add(key);
          continue;
        }
        // A key first seen now was missing from every earlier row.
        b = new ColumnBuilder(key, 'json', kinds[key]);
        b.pushMissingRows(rows);
        byName.set(key, b);
        builders.push(b);
        if (b.strict) strict.push(b);
      }
      b.push(jsonRaw(record[key]));
    }
    rows++;
    for (const b of builders) if (b.length < rows) b.pushMissing();
  };

  const source = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const decoder = new StringDecoder('utf8');
  let pending: string[] = [];
  let bytes = 0;
  let first = true;
  try {
    for await (const chunk of source) {
      if (options.signal?.aborted) throw abortError(file);
      const buf = chunk as Buffer;
      bytes += buf.length;
      ctx.progress(bytes);
      let text = decoder.write(buf);
      if (first && text.length) {
        text = text.replace(/^\uFEFF/, '');
        first = false;
      }
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const piece = text.slice(start, nl);
        // Lines split across chunks are joined only when they end.
        onLine(pending.length ? pending.join('') + piece : piece);
        pending = [];
        start = nl + 1;
      }
      if (start < text.length) pending.push(text.slice(start));
    }
    const last = pending.join('') + decoder.end();
    if (last.trim() !== '') onLine(last);
  } finally {
    source.destroy();
  }
  if (options.signal?.aborted) throw abortError(file);

  let columns = builders;
  if (requested) {
    columns = requested.map((name) => {
      const b = byName.get(name);
      if (!b) throw unknownColumn(file, name, [...builders.map((x) => x.name), ...otherKeys]);
      return b;
    });
  }
  return {
    file,
    format: 'jsonl',
    rowCount: rows,
    columns: columns.map((b) => b.finish()),
    skipped: ctx.skipped,
    skippedExamples: ctx.skippedExamples,
  };
}

// ---------------------------------------------------------------------------
// Parquet

/** The kind a Parquet column maps to, 'strings' for text to infer, or why it cannot be read. */
function parquetKind(child: SchemaTree): ColumnKind | 'strings' | { unsupported: string } {
  const e = child.element;
  const logical = e.logical_type?.type;
  const converted = e.converted_type;
  if (child.children.length) {
    return { unsupported: logical ?? converted ?? 'struct' };
  }
  if (
    logical === 'DATE' ||
    logical === 'TIMESTAMP' ||
    converted === 'DATE' ||
    converted === 'TIMESTAMP_MILLIS' ||
    converted === 'TIMESTAMP_MICROS' ||
    e.type === 'INT96'
  ) {
    return 'datetime';
  }
  if (e.type === 'BOOLEAN') return 'binary';
  if (logical === 'DECIMAL' || converted === 'DECIMAL' || logical === 'FLOAT16') return 'numerical';
  const unsupported = ['INTERVAL', 'BSON', 'GEOMETRY', 'GEOGRAPHY', 'VARIANT'];
  if (unsupported.includes(logical ?? '') || unsupported.includes(converted ?? '')) {
    return { unsupported: logical ?? converted ?? '' };
  }
  if (e.type === 'INT32' || e.type === 'INT64' || e.type === 'FLOAT' || e.type === 'DOUBLE') {
    return 'numerical';
  }
  if (e.type === 'BYTE_ARRAY' || logical === 'UUID') return 'strings';
  return { unsupported: e.type ?? 'unknown' };
}

// Timestamps and dates as ms numbers, not Date objects (one allocation less per cell).
const PARQUET_PARSERS = {
  timestampFromMilliseconds: (ms: bigint) => Number(ms),
  timestampFromMicroseconds: (us: bigint) => Number(us) / 1000,
  timestampFromNanoseconds: (ns: bigint) => Number(ns) / 1e6,
  dateFromDays: (days: number) => days * 86_400_000,
};

interface Chunk {
  rowStart: number;
  data: ArrayLike<unknown>;
}

async function readParquet(ctx: Context): Promise<Table> {
  const { file, options } = ctx;
  const fd = await fs.promises.open(file, 'r');
  try {
    const size = (await fd.stat()).size;
    let bytes = 0;
    const buffer: AsyncBuffer = {
      byteLength: size,
      slice: async (start: number, end?: number) => {
        if (options.signal?.aborted) throw abortError(file);
        const length = (end ?? size) - start;
        const buf = Buffer.alloc(length);
        await fd.read(buf, 0, length, start);
        bytes += length;
        ctx.progress(bytes);
        return buf.buffer.slice(buf.byteOffset, buf.byteOffset + length);
      },
    };
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (e) {
      if (options.signal?.aborted) throw abortError(file);
      throw new ValidationError(
        `${file}: not a readable Parquet file (${(e as Error).message}). Check that it is complete and really Parquet.`,
      );
    }
    const top = parquetSchema(metadata).children;
    const byName = new Map(top.map((c) => [c.element.name, c]));
    const requested = uniqueColumns(options.columns);
    const selected = requested
      ? requested.map((name) => {
          const child = byName.get(name);
          if (!child) throw unknownColumn(file, name, byName.keys());
          return child;
        })
      : top;
    const kinds = options.kinds ?? {};
    const builders: ColumnBuilder[] = [];
    for (const child of selected) {
      const name = child.element.name;
      const kind = parquetKind(child);
      if (typeof kind === 'object') {
        // Nested and exotic columns are left out, unless asked for by name.
        if (!requested) continue;
        throw new ValidationError(
          `${file}: column "${name}" has Parquet type ${kind.unsupported}, which drift checks do not support (only flat numbers, booleans, strings, dates and timestamps). Leave it out of the columns to read.`,
        );
      }
      builders.push(
        kind === 'strings'
          ? new ColumnBuilder(name, 'strings', kinds[name])
          : new ColumnBuilder(name, 'json', kinds[name], kind),
      );
    }
    const names = builders.map((b) => b.name);
    let rows = 0;
    let groupStart = 0;
    for (const group of metadata.row_groups) {
      if (options.signal?.aborted) throw abortError(file);
      const groupRows = Number(group.num_rows);
      const groupEnd = groupStart + groupRows;
      if (groupRows === 0 || names.length === 0) {
        rows += names.length ? 0 : groupRows;
        groupStart = groupEnd;
        continue;
      }
      const chunks = new Map<string, Chunk[]>(names.map((n) => [n, []]));
      await parquetRead({
        file: buffer,
        metadata,
        columns: names,
        rowStart: groupStart,
        rowEnd: groupEnd,
        parsers: PARQUET_PARSERS,
        onChunk: (c) =>
          chunks.get(c.columnName)?.push({ rowStart: c.rowStart, data: c.columnData }),
      });
      if (options.signal?.aborted) throw abortError(file);
      // Rows with a value that does not fit a caller-given kind are dropped from
      // every column, so all columns stay the same length.
      let bad: Uint8Array | undefined;
      let badCount = 0;
      for (const b of builders) {
        if (!b.strict) continue;
        for (const { rowStart, data } of chunks.get(b.name)!) {
          for (let i = 0; i < data.length; i++) {
            const r = rowStart + i;
            if (r < groupStart || r >= groupEnd) continue;
            const raw = parquetRaw(data[i]);
            if (b.fits(raw) || bad?.[r - groupStart]) continue;
            malformed(ctx, 'row', r + 1, valueMessage(b, raw!));
            bad ??= new Uint8Array(groupRows);
            bad[r - groupStart] = 1;
            badCount++;
          }
        }
      }
      for (const b of builders) {
        const list = chunks.get(b.name)!.sort((x, y) => x.rowStart - y.rowStart);
        let next = groupStart;
        for (const { rowStart, data } of list) {
          const from = Math.max(0, next - rowStart);
          const to = Math.min(data.length, groupEnd - rowStart);
          if (from >= to) continue;
          if (rowStart + from > next) b.pushMissingRows(rowStart + from - next);
          if (bad) {
            for (let i = from; i < to; i++) {
              if (!bad[rowStart + i - groupStart]) b.push(parquetRaw(data[i]));
            }
          } else b.pushTyped(data, from, to);
          next = rowStart + to;
        }
        if (next < groupEnd) {
          // Rows hyparquet gave nothing for (not expected): missing, minus dropped ones.
          let gap = 0;
          for (let r = next; r < groupEnd; r++) if (!bad?.[r - groupStart]) gap++;
          b.pushMissingRows(gap);
        }
      }
      rows += groupRows - badCount;
      groupStart = groupEnd;
    }
    return {
      file,
      format: 'parquet',
      rowCount: rows,
      columns: builders.map((b) => b.finish()),
      skipped: ctx.skipped,
      skippedExamples: ctx.skippedExamples,
    };
  } finally {
    await fd.close();
  }
}

// ---------------------------------------------------------------------------
// API

/** The format from the file name (.csv, .tsv, .jsonl, .ndjson, .parquet); ValidationError otherwise. */
export function formatOf(file: string): 'csv' | 'jsonl' | 'parquet' {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.parquet') return 'parquet';
  throw new ValidationError(
    `${file}: cannot tell the format from the extension "${ext}". Use a .csv, .tsv, .jsonl, .ndjson or .parquet file.`,
  );
}

/** Reads a table file into compact columns (see the module comment and Column). */
export async function readTable(file: string, options: ReadOptions = {}): Promise<Table> {
  const format = formatOf(file);
  for (const [name, kind] of Object.entries(options.kinds ?? {})) {
    if (!COLUMN_KINDS.includes(kind)) {
      throw new ValidationError(
        `Kind "${kind}" given for column "${name}" of ${file} is not one of ${COLUMN_KINDS.join(', ')}.`,
      );
    }
  }
  if (options.signal?.aborted) throw abortError(file);
  let total: number;
  try {
    total = (await fs.promises.stat(file)).size;
  } catch {
    throw new ValidationError(`${file} does not exist or cannot be read; check the path.`);
  }
  const ctx = makeContext(file, options, total);
  let table: Table;
  try {
    if (format === 'csv') table = await readCsv(ctx);
    else if (format === 'jsonl') table = await readJsonl(ctx);
    else table = await readParquet(ctx);
  } catch (e) {
    if (options.signal?.aborted) throw abortError(file);
    throw e;
  }
  options.onProgress?.(total, total);
  return table;
}

/**
 * Value of a row as a JS value (number, string, null) for small tables / previews:
 * numbers as they are, datetimes as ms since epoch (or ISO-8601 text with `dates: 'iso'`,
 * for output people read), binary values as their label,
 * categories and texts as their string, missing as null.
 */
export function cellValue(
  column: Column,
  row: number,
  dates: 'ms' | 'iso' = 'ms',
): number | string | null {
  if (column.values) {
    const v = column.values[row];
    if (v === undefined || Number.isNaN(v)) return null;
    if (column.kind === 'binary' && column.labels) return column.labels[v ? 1 : 0];
    if (column.kind === 'datetime' && dates === 'iso') return new Date(v).toISOString();
    return v;
  }
  if (column.codes && column.dictionary) {
    const c = column.codes[row];
    return c === undefined || c < 0 ? null : (column.dictionary[c] ?? null);
  }
  return null;
}

/**
 * Rows as records, for small tables (point-in-time joins); throws past maxRows (default
 * 2,000,000). Datetimes as in cellValue (`dates`).
 */
export function tableToRecords(
  table: Table,
  maxRows = DEFAULT_MAX_RECORDS,
  dates: 'ms' | 'iso' = 'ms',
): Record<string, number | string | null>[] {
  if (table.rowCount > maxRows) {
    throw new ValidationError(
      `${table.file} has ${table.rowCount} rows, more than the ${maxRows} that can be turned into records in memory. Use a smaller file or sample it first.`,
    );
  }
  const out = new Array<Record<string, number | string | null>>(table.rowCount);
  for (let r = 0; r < table.rowCount; r++) {
    const record: Record<string, number | string | null> = {};
    for (const column of table.columns) record[column.name] = cellValue(column, r, dates);
    out[r] = record;
  }
  return out;
}
