// The append-only journal: one file per generation, `journal-<G>.log`. The first
// line is a header naming the format and schema; every further line is one record,
// `<crc32 hex> <json>\n`, holding the mutations of one acknowledged write. A
// record is complete only with its newline and matching checksum, so a write torn
// by a crash shows up as an incomplete last line.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { StoreCorruptError, StoreVersionError } from '../model/errors.ts';
import { decodeMutation, encodeMutation } from './mutations.ts';
import type { Mutation } from './mutations.ts';

export const JOURNAL_FORMAT = 1;
const HEADER_PREFIX = 'MLOPS-JOURNAL ';

export interface JournalHeader {
  format: number;
  schema: number;
  generation: number;
}

export function journalPath(dir: string, generation: number): string {
  return path.join(dir, `journal-${generation}.log`);
}

export function encodeHeader(header: JournalHeader): Buffer {
  return Buffer.from(`${HEADER_PREFIX}${JSON.stringify(header)}\n`, 'utf8');
}

export function encodeRecord(mutations: Mutation[]): Buffer {
  const json = JSON.stringify({ m: mutations.map(encodeMutation) });
  const body = Buffer.from(json, 'utf8');
  const sum = crc32(body).toString(16).padStart(8, '0');
  const out = Buffer.allocUnsafe(body.length + 10);
  out.write(sum, 0, 'latin1');
  out[8] = 0x20;
  body.copy(out, 9);
  out[out.length - 1] = 0x0a;
  return out;
}

/** A record line (without its newline) is `<crc32 hex> <json>`. */
function recordChecksumMatches(line: Buffer): boolean {
  return (
    line.length > 9 &&
    line[8] === 0x20 &&
    crc32(line.subarray(9)).toString(16).padStart(8, '0') === line.subarray(0, 8).toString('latin1')
  );
}

export interface ReadResult {
  /** Records decoded, in order. */
  records: Mutation[][];
  /** Offset just past the last complete, valid record. */
  end: number;
  /** Bytes after `end` that do not form a complete record (a torn tail, or a write in progress). */
  trailing: number;
  header?: JournalHeader;
}

/**
 * Reads complete records from `offset` to the end of the file. A line with a bad
 * checksum that is followed by more data cannot be a torn write (writers hold the
 * lock and truncate a torn tail before appending), so it is corruption.
 */
export function readJournal(file: string, offset: number, supportedSchema: number): ReadResult {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      return { records: [], end: offset, trailing: 0 };
    throw e;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size <= offset) return { records: [], end: offset, trailing: 0 };
    const buf = Buffer.allocUnsafe(size - offset);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return parseJournalBytes(file, buf.subarray(0, got), offset, supportedSchema);
  } finally {
    fs.closeSync(fd);
  }
}

export function parseJournalBytes(
  file: string,
  buf: Buffer,
  baseOffset: number,
  supportedSchema: number,
): ReadResult {
  const records: Mutation[][] = [];
  let pos = 0;
  let header: JournalHeader | undefined;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const at = baseOffset + pos;
    if (at === 0) {
      header = parseHeader(file, buf.subarray(0, nl).toString('utf8'));
      if (header.format > JOURNAL_FORMAT || header.schema > supportedSchema) {
        throw new StoreVersionError(
          `${file} was written by a newer version of MLOps Workbench (journal format ${header.format}, schema ${header.schema}; ` +
            `this version reads up to format ${JOURNAL_FORMAT}, schema ${supportedSchema}). Update the extension or the mlops CLI; the store was not changed.`,
          file,
        );
      }
      pos = nl + 1;
      continue;
    }
    const line = buf.subarray(pos, nl);
    if (!recordChecksumMatches(line)) {
      throw new StoreCorruptError(
        `${file} is damaged at byte ${at}: a record's checksum does not match and more records follow it. ` +
          `The file was kept as it is. Run \`mlops store repair\` to keep a copy and drop the damaged record.`,
        file,
      );
    }
    const parsed = JSON.parse(line.subarray(9).toString('utf8')) as { m: unknown[] };
    records.push(parsed.m.map(decodeMutation));
    pos = nl + 1;
  }
  return { records, end: baseOffset + pos, trailing: buf.length - pos, header };
}

function parseHeader(file: string, line: string): JournalHeader {
  if (!line.startsWith(HEADER_PREFIX)) {
    throw new StoreCorruptError(
      `${file} is not an MLOps Workbench journal (its first line has no header). The file was kept as it is; ` +
        'move it out of the store folder if it does not belong there, or run `mlops store repair`.',
      file,
    );
  }
  try {
    const h = JSON.parse(line.slice(HEADER_PREFIX.length)) as JournalHeader;
    if (typeof h.format !== 'number' || typeof h.schema !== 'number') throw new Error('fields');
    return h;
  } catch {
    throw new StoreCorruptError(
      `${file} has an unreadable header line. Run \`mlops store repair\`.`,
      file,
    );
  }
}

/** Lists the generations of the journal files present in the store folder. */
export function journalGenerations(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const n of names) {
    const m = /^journal-(\d+)\.log$/.exec(n);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

export function writeFully(fd: number, buf: Buffer): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done);
}

export interface TolerantScan {
  records: Mutation[][];
  /** Complete lines whose checksum or JSON was bad. */
  damaged: number;
  /** Bytes of an incomplete last record. */
  tornBytes: number;
}

/** For repair: keeps every good record and counts the rest instead of stopping. */
export function scanJournalTolerant(buf: Buffer): TolerantScan {
  const records: Mutation[][] = [];
  let damaged = 0;
  let pos = 0;
  if (buf.subarray(0, HEADER_PREFIX.length).toString('utf8') === HEADER_PREFIX) {
    const nl = buf.indexOf(0x0a);
    pos = nl < 0 ? buf.length : nl + 1;
  }
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const line = buf.subarray(pos, nl);
    pos = nl + 1;
    if (!recordChecksumMatches(line)) {
      damaged++;
      continue;
    }
    try {
      const parsed = JSON.parse(line.subarray(9).toString('utf8')) as { m: unknown[] };
      records.push(parsed.m.map(decodeMutation));
    } catch {
      damaged++;
    }
  }
  return { records, damaged, tornBytes: buf.length - pos };
}
