// Data snapshots: the content digest, size and (for tables) row count of a file or
// folder a run used, so that "same data?" is a comparison of digests.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse as parseCsv } from 'csv-parse';
import { ValidationError } from '../model/errors.ts';

export interface DatasetProfile {
  digest: string;
  sizeBytes: number;
  rowCount: number | null;
  sourceType: 'file' | 'directory';
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  walk(root);
  return out;
}

async function hashInto(hash: ReturnType<typeof createHash>, file: string): Promise<void> {
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
}

async function countRows(file: string, signal?: AbortSignal): Promise<number | null> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') {
    let rows = 0;
    const parser = parseCsv({
      delimiter: ext === '.tsv' ? '\t' : ',',
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
    });
    parser.on('data', () => rows++);
    try {
      await pipeline(fs.createReadStream(file), parser, { signal });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      const err = e as Error & { lines?: number };
      throw new ValidationError(
        `${file}${err.lines ? `:${err.lines}` : ''}: not a readable ${ext.slice(1).toUpperCase()} file (${err.message}). Fix the file or log it as a plain file with a different extension.`,
      );
    }
    return Math.max(0, rows - 1); // the header is not a row
  }
  if (ext === '.jsonl' || ext === '.ndjson') {
    let rows = 0;
    let sawContent = false;
    for await (const chunk of fs.createReadStream(file)) {
      const buf = chunk as Buffer;
      for (let i = 0; i < buf.length; i++) {
        const c = buf[i]!;
        if (c === 0x0a) {
          if (sawContent) rows++;
          sawContent = false;
        } else if (c !== 0x20 && c !== 0x0d && c !== 0x09) {
          sawContent = true;
        }
      }
    }
    return sawContent ? rows + 1 : rows;
  }
  if (ext === '.parquet') {
    const { parquetMetadataAsync } = await import('hyparquet');
    const fd = await fs.promises.open(file, 'r');
    try {
      const size = (await fd.stat()).size;
      const meta = await parquetMetadataAsync({
        byteLength: size,
        slice: async (start: number, end?: number) => {
          const length = (end ?? size) - start;
          const buf = Buffer.alloc(length);
          await fd.read(buf, 0, length, start);
          return buf.buffer.slice(buf.byteOffset, buf.byteOffset + length);
        },
      });
      return Number(meta.num_rows);
    } catch (e) {
      throw new ValidationError(`${file}: not a readable Parquet file (${(e as Error).message}).`);
    } finally {
      await fd.close();
    }
  }
  return null;
}

/** Hashes a file or a folder (paths and contents, in a stable order). */
export async function profileDataset(
  source: string,
  signal?: AbortSignal,
): Promise<DatasetProfile> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch {
    throw new ValidationError(
      `The dataset ${source} does not exist; give the path of a file or folder.`,
    );
  }
  const hash = createHash('sha256');
  if (stat.isDirectory()) {
    let size = 0;
    for (const file of listFiles(source)) {
      signal?.throwIfAborted();
      hash.update(path.relative(source, file).split(path.sep).join('/'));
      hash.update('\0');
      await hashInto(hash, file);
      hash.update('\0');
      size += fs.statSync(file).size;
    }
    return { digest: hash.digest('hex'), sizeBytes: size, rowCount: null, sourceType: 'directory' };
  }
  await hashInto(hash, source);
  signal?.throwIfAborted();
  return {
    digest: hash.digest('hex'),
    sizeBytes: stat.size,
    rowCount: await countRows(source, signal),
    sourceType: 'file',
  };
}
