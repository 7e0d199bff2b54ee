// The drift readers: CSV, JSONL and Parquet into compact columns, kind inference and
// its overrides, malformed rows (errors naming file, line and column, or skipped and
// counted), cancellation, and a 200,000-row CSV read in one go.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  cellValue,
  formatOf,
  readTable,
  tableToRecords,
  type Column,
  type Table,
} from '../../src/core/drift/readers.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readers-'));
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'drift');

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

function col(table: Table, name: string): Column {
  const c = table.columns.find((x) => x.name === name);
  assert.ok(c, `no column ${name}`);
  return c;
}

function cells(table: Table, name: string): (number | string | null)[] {
  const c = col(table, name);
  return Array.from({ length: table.rowCount }, (_, r) => cellValue(c, r));
}

async function rejects(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    const err = e as Error;
    for (const p of patterns) assert.match(err.message, p);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('formatOf', () => {
  test('knows the extensions, in any case, and names the file otherwise', () => {
    assert.equal(formatOf('a/b.csv'), 'csv');
    assert.equal(formatOf('b.TSV'), 'csv');
    assert.equal(formatOf('b.jsonl'), 'jsonl');
    assert.equal(formatOf('b.ndjson'), 'jsonl');
    assert.equal(formatOf('b.Parquet'), 'parquet');
    assert.throws(() => formatOf('data.xlsx'), /data\.xlsx.*\.csv/);
  });
});

describe('CSV', () => {
  test('quoted values keep commas, doubled quotes and line breaks', async () => {
    const file = write(
      'quoted.csv',
      'id,note,n\n1,"a, b",10\n2,"say ""hi""",20\n3,"two\nlines",30\n4,plain,40\n',
    );
    const t = await readTable(file);
    assert.equal(t.format, 'csv');
    assert.equal(t.rowCount, 4);
    assert.deepEqual(cells(t, 'note'), ['a, b', 'say "hi"', 'two\nlines', 'plain']);
    assert.deepEqual(Array.from(col(t, 'n').values!), [10, 20, 30, 40]);
    assert.deepEqual(tableToRecords(t)[2], { id: 3, note: 'two\nlines', n: 30 });
  });

  test('missing values: empty, NA, N/A, NaN, nan, null, NULL, None', async () => {
    const tokens = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None'];
    const lines = ['x,y', ...tokens.map((m, i) => `${m},c${i % 2}`), '1.5,c0'];
    const t = await readTable(write('missing.csv', lines.join('\n') + '\n'));
    const x = col(t, 'x');
    assert.equal(x.kind, 'numerical');
    assert.equal(x.missing, tokens.length);
    assert.equal(x.values!.length, t.rowCount);
    assert.ok(Number.isNaN(x.values![0]!));
    assert.equal(x.values![tokens.length], 1.5);
    assert.equal(cellValue(x, 0), null);
  });

  test('each kind is inferred from the values', async () => {
    const rows = ['num,flag01,yn,tf,day,ts,cat,txt'];
    for (let i = 0; i < 40; i++) {
      rows.push(
        [
          (i * 1.25).toString(),
          String(i % 2),
          i % 3 ? 'yes' : 'No',
          i % 2 ? 'TRUE' : 'FALSE',
          `2024-01-${String((i % 28) + 1).padStart(2, '0')}`,
          `2024-03-01T10:${String(i).padStart(2, '0')}:00Z`,
          ['red', 'green', 'blue'][i % 3],
          `"a long free text answer, number ${i}, written with several words"`,
        ].join(','),
      );
    }
    const t = await readTable(write('kinds.csv', rows.join('\n')));
    const kinds = Object.fromEntries(t.columns.map((c) => [c.name, c.kind]));
    assert.deepEqual(kinds, {
      num: 'numerical',
      flag01: 'binary',
      yn: 'binary',
      tf: 'binary',
      day: 'datetime',
      ts: 'datetime',
      cat: 'categorical',
      txt: 'text',
    });
    assert.deepEqual(col(t, 'flag01').labels, ['0', '1']);
    assert.deepEqual(col(t, 'yn').labels, ['No', 'yes']);
    assert.deepEqual(col(t, 'tf').labels, ['FALSE', 'TRUE']);
    assert.deepEqual(cells(t, 'yn').slice(0, 3), ['No', 'yes', 'yes']);
    assert.equal(col(t, 'day').values![0], Date.UTC(2024, 0, 1));
    assert.equal(col(t, 'ts').values![1], Date.UTC(2024, 2, 1, 10, 1));
    assert.deepEqual(col(t, 'cat').dictionary, ['red', 'green', 'blue']);
    assert.deepEqual(Array.from(col(t, 'cat').codes!.slice(0, 4)), [0, 1, 2, 0]);
    for (const c of t.columns) assert.equal(c.kindOverridden, false);
  });

  test('a numerical column seeing a word at row 1500 turns categorical', async () => {
    const rows = ['v,w'];
    for (let i = 1; i < 1500; i++) rows.push(`${i}.50,${i}`);
    rows.push('oops,1500');
    rows.push(',1501');
    const t = await readTable(write('turns.csv', rows.join('\n') + '\n'));
    const v = col(t, 'v');
    assert.equal(v.kind, 'categorical');
    assert.equal(t.rowCount, 1501);
    assert.equal(v.codes!.length, 1501);
    assert.equal(v.missing, 1);
    assert.equal(cellValue(v, 0), '1.50', 'sampled rows keep their text');
    assert.equal(cellValue(v, 1199), '1200.5', 'later numbers are rendered back');
    assert.equal(cellValue(v, 1499), 'oops');
    assert.equal(cellValue(v, 1500), null);
    assert.equal(col(t, 'w').kind, 'numerical');
  });

  test('a binary column seeing a third value, and dates seeing a non-date, turn categorical', async () => {
    const rows = ['b,d'];
    for (let i = 0; i < 1200; i++) rows.push(`${i % 2 ? 'yes' : 'no'},2024-01-0${(i % 9) + 1}`);
    rows.push('maybe,soon');
    const t = await readTable(write('third.csv', rows.join('\n')));
    assert.equal(col(t, 'b').kind, 'categorical');
    assert.equal(col(t, 'd').kind, 'categorical');
    assert.deepEqual(cells(t, 'b').slice(-3), ['no', 'yes', 'maybe']);
    assert.equal(cellValue(col(t, 'd'), 1100), '2024-01-03T00:00:00.000Z');
    assert.equal(cellValue(col(t, 'd'), 1200), 'soon');
  });

  test('kinds given by the caller win; a numerical column as categorical keeps its text', async () => {
    const file = write('override.csv', 'zip,score,flag\n007,1.0,1\n0123,2.50,0\n,3,1\n');
    const t = await readTable(file, {
      kinds: { zip: 'categorical', score: 'text', flag: 'binary' },
    });
    assert.equal(col(t, 'zip').kind, 'categorical');
    assert.equal(col(t, 'zip').kindOverridden, true);
    assert.deepEqual(cells(t, 'zip'), ['007', '0123', null]);
    assert.equal(col(t, 'score').kind, 'text');
    assert.deepEqual(cells(t, 'score'), ['1.0', '2.50', '3']);
    assert.deepEqual(col(t, 'flag').labels, ['0', '1']);
    assert.deepEqual(cells(t, 'flag'), ['1', '0', '1']);

    const bad = write('override-bad.csv', 'a,b\n1,x\n2,y\nthree,z\n4,w\n');
    await rejects(
      readTable(bad, { kinds: { a: 'numerical' } }),
      /override-bad\.csv/,
      /line 4/,
      /column "a"/,
      /"three" is not a number/,
    );
    const skipped = await readTable(bad, { kinds: { a: 'numerical' }, skipMalformed: true });
    assert.equal(skipped.rowCount, 3);
    assert.equal(skipped.skipped, 1);
    assert.equal(skipped.skippedExamples[0]!.line, 4);
    assert.deepEqual(Array.from(col(skipped, 'a').values!), [1, 2, 4]);
    assert.deepEqual(cells(skipped, 'b'), ['x', 'y', 'w'], 'nothing of the bad row is kept');
    await rejects(readTable(bad, { kinds: { a: 'numbers' as never } }), /numbers/);
  });

  test('a row with the wrong number of fields names the file, the line and the counts', async () => {
    const file = write('fields.csv', 'a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n11,12,13\n');
    const err = await rejects(readTable(file), /fields\.csv/, /line 4|:4/, /4 fields/, /has 3/);
    assert.equal(err.name, 'ValidationError');
  });

  test('an unclosed quote is an error, even when skipping malformed rows', async () => {
    const file = write('unclosed.csv', 'a,b\n1,2\n3,"abc\n4,5\n');
    await rejects(readTable(file), /unclosed\.csv/, /line 3/, /never closed/);
    await rejects(readTable(file, { skipMalformed: true }), /never closed/);
  });

  test('skipMalformed counts bad rows and keeps up to 10 examples', async () => {
    const rows = ['a,b'];
    for (let i = 0; i < 30; i++) rows.push(i % 3 === 0 ? `${i},${i},extra` : `${i},${i}`);
    const t = await readTable(write('skip.csv', rows.join('\n')), { skipMalformed: true });
    assert.equal(t.skipped, 10);
    assert.equal(t.rowCount, 20);
    assert.equal(t.skippedExamples.length, 10);
    assert.deepEqual(
      t.skippedExamples.slice(0, 2).map((e) => e.line),
      [2, 5],
    );
    assert.match(t.skippedExamples[0]!.message, /3 fields/);
    for (const c of t.columns) assert.equal(c.values!.length, 20);
  });

  test('line numbers count the lines inside quoted values', async () => {
    const file = write('lines.csv', 'a,b\n1,"x\ny\nz"\n2,ok\n3\n');
    await rejects(readTable(file), /line 6/, /1 field,/);
  });

  test('; and tab delimiters are detected from the header line, or given', async () => {
    const semi = await readTable(write('semi.csv', 'a;b;c\n1,5;x;2\n3;y;4\n'));
    assert.deepEqual(
      semi.columns.map((c) => c.name),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(cells(semi, 'a'), ['1,5', '3']);
    const tab = await readTable(write('tab.tsv', 'a\tb\n1\tx y\n2\tz\n'));
    assert.deepEqual(cells(tab, 'b'), ['x y', 'z']);
    const tabCsv = await readTable(write('tab.csv', 'a\tb,c\td\n1\t2,3\t4\n'));
    assert.deepEqual(
      tabCsv.columns.map((c) => c.name),
      ['a', 'b,c', 'd'],
    );
    const pipe = await readTable(write('pipe.csv', 'a|b\n1|2\n'), { delimiter: '|' });
    assert.deepEqual(cells(pipe, 'b'), [2]);
  });

  test('CRLF line endings and a BOM', async () => {
    const body = Buffer.from('name,value\r\nx,1\r\n"y\r\nz",2\r\n', 'utf8');
    const t = await readTable(
      write('crlf.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body])),
    );
    assert.deepEqual(
      t.columns.map((c) => c.name),
      ['name', 'value'],
    );
    assert.deepEqual(cells(t, 'name'), ['x', 'y\r\nz']);
    assert.deepEqual(cells(t, 'value'), [1, 2]);
  });

  test('a header alone is 0 rows; an empty file or a data line as header is an error', async () => {
    const t = await readTable(write('header.csv', 'a,b\n'));
    assert.equal(t.rowCount, 0);
    assert.equal(t.columns.length, 2);
    assert.equal(col(t, 'a').codes!.length, 0);
    await rejects(readTable(write('empty.csv', '')), /empty\.csv/, /header/);
    await rejects(readTable(write('noheader.csv', '1,2\n3,4\n')), /noheader\.csv/, /header/);
  });

  test('empty and duplicate header names get names of their own', async () => {
    const t = await readTable(write('names.csv', ',a,a\n1,2,3\n'));
    assert.deepEqual(
      t.columns.map((c) => c.name),
      ['Unnamed: 0', 'a', 'a.1'],
    );
  });

  test('only the requested columns, in that order; an unknown one lists the columns', async () => {
    const file = write('select.csv', 'a,b,c\n1,x,2\n');
    const t = await readTable(file, { columns: ['c', 'a'] });
    assert.deepEqual(
      t.columns.map((c) => c.name),
      ['c', 'a'],
    );
    await rejects(readTable(file, { columns: ['a', 'zz'] }), /select\.csv/, /"zz"/, /a, b, c/);
  });

  test('a file that does not exist', async () => {
    await rejects(readTable(path.join(dir, 'nope.csv')), /nope\.csv does not exist/);
  });

  test('progress is reported, ending at the total', async () => {
    const file = write('progress.csv', 'a\n1\n2\n');
    const calls: [number, number][] = [];
    await readTable(file, { onProgress: (read, total) => calls.push([read, total]) });
    const size = fs.statSync(file).size;
    assert.deepEqual(calls.at(-1), [size, size]);
  });
});

describe('JSONL', () => {
  test('keys in first-seen order; absent keys and null are missing; objects are stringified', async () => {
    const lines = [
      '{"a": 1, "b": "x", "flag": true}',
      '',
      '{"a": 2, "flag": false, "extra": {"k": [1, 2]}}',
      '{"b": "y", "a": null, "flag": true}',
    ];
    const t = await readTable(write('rows.jsonl', lines.join('\n')));
    assert.equal(t.format, 'jsonl');
    assert.equal(t.rowCount, 3);
    assert.deepEqual(
      t.columns.map((c) => c.name),
      ['a', 'b', 'flag', 'extra'],
    );
    assert.deepEqual(cells(t, 'a'), [1, 2, null]);
    assert.deepEqual(cells(t, 'b'), ['x', null, 'y']);
    assert.deepEqual(cells(t, 'extra'), [null, '{"k":[1,2]}', null]);
    assert.equal(col(t, 'flag').kind, 'binary');
    assert.deepEqual(col(t, 'flag').labels, ['false', 'true']);
    assert.equal(col(t, 'extra').missing, 2);
    for (const c of t.columns) assert.equal((c.values ?? c.codes)!.length, 3);
  });

  test('strings stay strings; ISO dates are datetimes', async () => {
    const t = await readTable(
      write(
        'typed.ndjson',
        '{"zip": "007", "at": "2024-05-01T00:00:00Z"}\n{"zip": "12", "at": "2024-05-02"}\n',
      ),
    );
    assert.equal(col(t, 'zip').kind, 'categorical');
    assert.equal(col(t, 'at').kind, 'datetime');
    assert.deepEqual(cells(t, 'at'), [Date.UTC(2024, 4, 1), Date.UTC(2024, 4, 2)]);
  });

  test('a bad line and a line that is not an object name the file and the line', async () => {
    const bad = write('bad.jsonl', '{"a": 1}\n{"a": 2}\n{"a": 3,}\n');
    await rejects(readTable(bad), /bad\.jsonl/, /line 3/, /not valid JSON/);
    const arr = write('array.jsonl', '{"a": 1}\n[1, 2]\n');
    await rejects(readTable(arr), /array\.jsonl/, /line 2/, /an array, not a JSON object/);
    const t = await readTable(bad, { skipMalformed: true });
    assert.equal(t.rowCount, 2);
    assert.equal(t.skipped, 1);
    assert.equal(t.skippedExamples[0]!.line, 3);
  });

  test('requested columns and kinds', async () => {
    const file = write('select.jsonl', '{"a": 1, "b": "x"}\n{"a": "two", "b": "y"}\n');
    const t = await readTable(file, { columns: ['b'] });
    assert.deepEqual(
      t.columns.map((c) => c.name),
      ['b'],
    );
    await rejects(readTable(file, { columns: ['c'] }), /no column "c"/, /a, b/);
    await rejects(readTable(file, { kinds: { a: 'numerical' } }), /line 2/, /column "a"/);
    const mixed = await readTable(file);
    assert.equal(col(mixed, 'a').kind, 'categorical');
    assert.deepEqual(cells(mixed, 'a'), ['1', 'two']);
  });
});

describe('Parquet', () => {
  const basic = path.join(FIXTURES, 'basic.parquet');

  test('types map to kinds; nested columns are left out', async () => {
    const t = await readTable(basic);
    assert.equal(t.format, 'parquet');
    assert.equal(t.rowCount, 30);
    const kinds = Object.fromEntries(t.columns.map((c) => [c.name, c.kind]));
    assert.deepEqual(kinds, {
      i32: 'numerical',
      i64: 'numerical',
      u64: 'numerical',
      f64: 'numerical',
      f32: 'numerical',
      dec: 'numerical',
      flag: 'binary',
      cat: 'categorical',
      txt: 'text',
      day: 'datetime',
      ts_ms: 'datetime',
      ts_us: 'datetime',
      codes: 'categorical',
    });
    // Values run on across the three row groups of 10 rows.
    assert.deepEqual(
      Array.from(col(t, 'i32').values!),
      Array.from({ length: 30 }, (_, i) => i),
    );
    assert.equal(col(t, 'i64').missing, 4);
    assert.equal(cellValue(col(t, 'i64'), 3), null);
    assert.equal(cellValue(col(t, 'i64'), 29), 29_000);
    assert.equal(cellValue(col(t, 'u64'), 0), 2 ** 40);
    assert.equal(cellValue(col(t, 'dec'), 3), 3.75);
    assert.deepEqual(col(t, 'flag').labels, ['false', 'true']);
    assert.deepEqual(cells(t, 'flag').slice(0, 4), ['true', 'false', null, 'true']);
    assert.equal(col(t, 'cat').missing, 1);
    assert.equal(cellValue(col(t, 'day'), 1), Date.UTC(2024, 0, 2));
    assert.equal(cellValue(col(t, 'ts_ms'), 2), Date.UTC(2024, 0, 1, 12, 2));
    assert.equal(cellValue(col(t, 'ts_us'), 0), Date.UTC(2024, 0, 1, 0, 0, 0, 500));
  });

  test('requested columns; nested or unknown ones are errors', async () => {
    const t = await readTable(basic, { columns: ['cat', 'f64'] });
    assert.deepEqual(
      t.columns.map((c) => c.name),
      ['cat', 'f64'],
    );
    await rejects(readTable(basic, { columns: ['lst'] }), /basic\.parquet/, /"lst"/, /LIST/);
    await rejects(readTable(basic, { columns: ['st'] }), /"st"/, /not support/);
    await rejects(readTable(basic, { columns: ['nope'] }), /no column "nope"/, /i32, i64/);
  });

  test('kinds override the file types; values that do not fit are malformed rows', async () => {
    const t = await readTable(basic, {
      columns: ['i32', 'codes'],
      kinds: { i32: 'categorical', codes: 'binary' },
    });
    assert.equal(col(t, 'i32').kind, 'categorical');
    assert.equal(cellValue(col(t, 'i32'), 7), '7');
    assert.deepEqual(col(t, 'codes').labels, ['0', '1']);
    await rejects(
      readTable(basic, { columns: ['cat'], kinds: { cat: 'numerical' } }),
      /row 1/,
      /column "cat"/,
    );
    const skipped = await readTable(basic, {
      columns: ['i32', 'cat'],
      kinds: { cat: 'numerical' },
      skipMalformed: true,
    });
    assert.equal(skipped.rowCount, 1, 'only the row with a missing cat is left');
    assert.equal(skipped.skipped, 29);
    assert.deepEqual(cells(skipped, 'i32'), [4]);
  });

  test('an empty file has its columns and no rows; a non-Parquet file is an error', async () => {
    const t = await readTable(path.join(FIXTURES, 'empty.parquet'));
    assert.equal(t.rowCount, 0);
    assert.deepEqual(
      t.columns.map((c) => [c.name, c.kind]),
      [
        ['x', 'numerical'],
        ['name', 'categorical'],
      ],
    );
    await rejects(readTable(write('fake.parquet', 'not parquet at all')), /fake\.parquet/);
  });
});

describe('cancellation', () => {
  const rows = ['a,b,c'];
  for (let i = 0; i < 200_000; i++) rows.push(`${i},${i * 2},${i % 7}`);
  const big = write('cancel.csv', rows.join('\n'));

  test('aborting after the start stops reading with an AbortError', async () => {
    const controller = new AbortController();
    const err = await rejects(
      readTable(big, { signal: controller.signal, onProgress: () => controller.abort() }),
    );
    assert.equal(err.name, 'AbortError');
  });

  test('an aborted signal rejects every format at once', async () => {
    const signal = AbortSignal.abort();
    for (const file of [big, path.join(FIXTURES, 'basic.parquet'), write('x.jsonl', '{}\n')]) {
      const err = await rejects(readTable(file, { signal }));
      assert.equal(err.name, 'AbortError');
    }
  });

  test('aborting JSONL and Parquet reads while they run', async () => {
    const jsonl = write('cancel.jsonl', '{"a": 1}\n'.repeat(200_000));
    for (const file of [jsonl, path.join(FIXTURES, 'basic.parquet')]) {
      const controller = new AbortController();
      const err = await rejects(
        readTable(file, { signal: controller.signal, onProgress: () => controller.abort() }),
      );
      assert.equal(err.name, 'AbortError');
    }
  });
});

describe('a larger CSV', () => {
  test('200,000 rows of 3 numeric columns are read correctly', async () => {
    const rows = ['x,y,z'];
    let sx = 0;
    let sy = 0;
    let sz = 0;
    for (let i = 0; i < 200_000; i++) {
      const y = (i % 1000) / 4;
      const z = -i;
      rows.push(`${i},${y},${z}`);
      sx += i;
      sy += y;
      sz += z;
    }
    const file = write('large.csv', rows.join('\n') + '\n');
    const start = performance.now();
    const t = await readTable(file);
    const ms = performance.now() - start;
    console.log(`200,000-row CSV (${fs.statSync(file).size} bytes) read in ${ms.toFixed(0)} ms`);
    assert.equal(t.rowCount, 200_000);
    const sum = (c: Column) => c.values!.reduce((a, b) => a + b, 0);
    assert.equal(sum(col(t, 'x')), sx);
    assert.equal(sum(col(t, 'y')), sy);
    assert.equal(sum(col(t, 'z')), sz);
    for (const c of t.columns) {
      assert.equal(c.kind, 'numerical');
      assert.equal(c.values!.length, 200_000);
      assert.equal(c.missing, 0);
    }
  });

  test('tableToRecords refuses tables past maxRows', async () => {
    const t = await readTable(write('few.csv', 'a\n1\n2\n3\n'));
    assert.equal(tableToRecords(t).length, 3);
    assert.throws(() => tableToRecords(t, 2), /few\.csv has 3 rows, more than the 2/);
  });
});
