// The run-search filter language: what the parser accepts and rejects (with where), and which
// runs the compiled SQL returns from a small hand-built store.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import {
  compileOrderBy,
  compileRunFilter,
  compileRunQuery,
} from '../../src/core/store/runSearchSql.ts';
import { MIGRATIONS } from '../../src/core/store/schema.ts';
import { FilterError } from '../../src/core/model/errors.ts';
import type { FilterExpr } from '../../src/core/model/filter.ts';
import { parseOrderBy, parseRunFilter } from '../../src/core/tracking/runFilter.ts';

const metric = (key: string) => ({ kind: 'metric', key }) as const;
const param = (key: string) => ({ kind: 'param', key }) as const;
const tag = (key: string) => ({ kind: 'tag', key }) as const;

function parsed(text: string): FilterExpr {
  const expr = parseRunFilter(text);
  assert.ok(expr, `expected "${text}" to parse to a filter`);
  return expr;
}

/** Asserts the error's position, token, reason and the caret line under the filter echo. */
function assertBad(
  text: string,
  expected: { position: number; token: string; reason: RegExp },
  parse: (text: string) => unknown = parseRunFilter,
): FilterError {
  let caught: unknown;
  try {
    parse(text);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof FilterError, `expected a FilterError for ${JSON.stringify(text)}`);
  assert.equal(caught.position, expected.position, `position for ${JSON.stringify(text)}`);
  assert.equal(caught.token, expected.token);
  assert.match(caught.reason, expected.reason);
  const [head, echo, caret] = caught.message.split('\n');
  assert.match(head!, new RegExp(`^Bad (filter|order_by) at column ${expected.position + 1}[ :]`));
  assert.equal(echo, text);
  assert.equal(caret, `${' '.repeat(expected.position)}^`);
  return caught;
}

describe('parseRunFilter', () => {
  test('an empty or blank filter means no filter', () => {
    assert.equal(parseRunFilter(''), undefined);
    assert.equal(parseRunFilter('  \n\t '), undefined);
  });

  test('reads every comparison operator, with <> as !=', () => {
    const ops = { '=': '=', '!=': '!=', '<>': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
    for (const [written, op] of Object.entries(ops)) {
      assert.deepEqual(parsed(`metrics.acc ${written} 0.5`), {
        type: 'compare',
        field: metric('acc'),
        op,
        value: 0.5,
      });
    }
    // Operators need no spaces around them.
    assert.deepEqual(parsed('metrics.acc>=-1'), {
      type: 'compare',
      field: metric('acc'),
      op: '>=',
      value: -1,
    });
  });

  test('reads LIKE, ILIKE, IN, NOT IN, IS NULL and IS NOT NULL in any case', () => {
    assert.deepEqual(parsed("params.opt LIKE 'adam%'"), {
      type: 'like',
      field: param('opt'),
      caseInsensitive: false,
      pattern: 'adam%',
    });
    assert.deepEqual(parsed("params.opt ilike 'ADAM%'"), {
      type: 'like',
      field: param('opt'),
      caseInsensitive: true,
      pattern: 'ADAM%',
    });
    assert.deepEqual(parsed("tags.team in ('nlp', 'vision,cv')"), {
      type: 'in',
      field: tag('team'),
      negated: false,
      values: ['nlp', 'vision,cv'],
    });
    assert.deepEqual(parsed("tags.team Not In ('nlp')"), {
      type: 'in',
      field: tag('team'),
      negated: true,
      values: ['nlp'],
    });
    assert.deepEqual(parsed('metrics.acc is null'), {
      type: 'isNull',
      field: metric('acc'),
      negated: false,
    });
    assert.deepEqual(parsed('params.lr IS NOT NULL'), {
      type: 'isNull',
      field: param('lr'),
      negated: true,
    });
  });

  test('NOT binds tighter than AND, which binds tighter than OR', () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((k) => ({
      type: 'compare' as const,
      field: metric(k),
      op: '>' as const,
      value: 1,
    }));
    assert.deepEqual(parsed('metrics.a > 1 OR metrics.b > 1 AND metrics.c > 1'), {
      type: 'or',
      operands: [a, { type: 'and', operands: [b, c] }],
    });
    assert.deepEqual(parsed('metrics.a > 1 and metrics.b > 1 or metrics.c > 1 and metrics.d > 1'), {
      type: 'or',
      operands: [
        { type: 'and', operands: [a, b] },
        { type: 'and', operands: [c, d] },
      ],
    });
    assert.deepEqual(parsed('NOT metrics.a > 1 AND metrics.b > 1'), {
      type: 'and',
      operands: [{ type: 'not', operand: a }, b],
    });
    assert.deepEqual(parsed('not not metrics.a > 1'), {
      type: 'not',
      operand: { type: 'not', operand: a },
    });
  });

  test('parentheses override precedence and may nest', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((k) => ({
      type: 'compare' as const,
      field: metric(k),
      op: '>' as const,
      value: 1,
    }));
    assert.deepEqual(parsed('(metrics.a > 1 OR metrics.b > 1) AND metrics.c > 1'), {
      type: 'and',
      operands: [{ type: 'or', operands: [a, b] }, c],
    });
    assert.deepEqual(parsed('NOT ((metrics.a > 1 OR (metrics.b > 1)))'), {
      type: 'not',
      operand: { type: 'or', operands: [a, b] },
    });
  });

  test('keys may contain dots, dashes and slashes, or be quoted to hold spaces', () => {
    const key = (text: string) => {
      const expr = parsed(text);
      assert.ok(expr.type === 'isNull');
      return expr.field;
    };
    assert.deepEqual(key('metrics.val.loss IS NULL'), metric('val.loss'));
    assert.deepEqual(key('tags.mlflow.source.name IS NULL'), tag('mlflow.source.name'));
    assert.deepEqual(key('metrics.train/loss-v2_b IS NULL'), metric('train/loss-v2_b'));
    assert.deepEqual(key('metrics."my key" IS NULL'), metric('my key'));
    assert.deepEqual(key('params.`a b` IS NULL'), param('a b'));
    assert.deepEqual(key('tags."say ""hi""" IS NULL'), tag('say "hi"'));
  });

  test('prefix aliases resolve in any case', () => {
    const kinds: Record<string, string> = {
      metrics: 'metric',
      METRIC: 'metric',
      params: 'param',
      Param: 'param',
      parameters: 'param',
      parameter: 'param',
      tags: 'tag',
      TAG: 'tag',
    };
    for (const [prefix, kind] of Object.entries(kinds)) {
      const expr = parsed(`${prefix}.k IS NULL`);
      assert.ok(expr.type === 'isNull');
      assert.deepEqual(expr.field, { kind, key: 'k' }, prefix);
    }
    for (const prefix of ['attributes', 'attribute', 'ATTR', 'run']) {
      assert.deepEqual(parsed(`${prefix}.status = 'FINISHED'`), {
        type: 'compare',
        field: { kind: 'attribute', name: 'status' },
        op: '=',
        value: 'FINISHED',
      });
    }
    for (const prefix of ['datasets', 'Dataset']) {
      assert.deepEqual(parsed(`${prefix}.digest = 'abc'`), {
        type: 'compare',
        field: { kind: 'dataset', name: 'digest' },
        op: '=',
        value: 'abc',
      });
    }
  });

  test('reads every attribute, and experiment ids as numbers whether quoted or not', () => {
    for (const name of ['run_id', 'run_name', 'status', 'user_id', 'artifact_uri']) {
      const expr = parsed(`attributes.${name} != 'x'`);
      assert.ok(expr.type === 'compare' && expr.value === 'x', name);
    }
    for (const name of ['start_time', 'end_time', 'created', 'duration', 'experiment_id']) {
      const expr = parsed(`attributes.${name} >= 10`);
      assert.ok(expr.type === 'compare' && expr.value === 10, name);
    }
    assert.deepEqual(parsed("attributes.experiment_id IN ('1', 2)"), {
      type: 'in',
      field: { kind: 'attribute', name: 'experiment_id' },
      negated: false,
      values: [1, 2],
    });
    assert.deepEqual(parsed('attributes.end_time IS NULL'), {
      type: 'isNull',
      field: { kind: 'attribute', name: 'end_time' },
      negated: false,
    });
  });

  test('numeric comparisons on params and tags take a number', () => {
    assert.deepEqual(parsed('params.epochs > 5'), {
      type: 'compare',
      field: param('epochs'),
      op: '>',
      value: 5,
    });
    assert.deepEqual(parsed("params.lr = '0.01'"), {
      type: 'compare',
      field: param('lr'),
      op: '=',
      value: '0.01',
    });
  });

  test('reads number forms and string escapes', () => {
    const value = (text: string): unknown => {
      const expr = parsed(text);
      assert.ok(expr.type === 'compare');
      return expr.value;
    };
    assert.equal(value('metrics.a > -12'), -12);
    assert.equal(value('metrics.a > 1.5e3'), 1500);
    assert.equal(value('metrics.a > .5'), 0.5);
    assert.equal(value('metrics.a > 2E-2'), 0.02);
    assert.equal(value("tags.n = 'it''s'"), "it's");
    assert.equal(value("tags.n = 'it\\'s'"), "it's");
    assert.equal(value('tags.n = "say \\"hi\\""'), 'say "hi"');
    assert.equal(value('tags.n = "say ""hi"""'), 'say "hi"');
    assert.equal(value("tags.n = 'a\\\\b'"), 'a\\b');
    // A backslash before anything else is kept, so Windows paths read as written.
    assert.equal(value("tags.path = 'C:\\data\\x'"), 'C:\\data\\x');
    assert.equal(value("tags.n = ''"), '');
  });

  test('the message names the column and token, and puts a caret under it', () => {
    const err = assertBad('metrics.acc >> 0.9', {
      position: 12,
      token: '>>',
      reason: /comparison operator/,
    });
    assert.equal(
      err.message,
      "Bad filter at column 13 near '>>': expected a comparison operator " +
        '(=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS)\nmetrics.acc >> 0.9\n            ^',
    );
    assert.equal(err.name, 'FilterError');
    assert.ok(err instanceof Error);
  });

  test('rejects bad filters at the offending token', () => {
    assertBad("metricz.acc > 1 AND params.lr = '1'", {
      position: 0,
      token: 'metricz',
      reason: /unknown prefix 'metricz'.*metrics\.acc, params\.lr/,
    });
    assertBad('metrics.acc >', { position: 13, token: '', reason: /expected a value/ });
    assertBad('metrics.acc > AND metrics.b > 1', {
      position: 14,
      token: 'AND',
      reason: /expected a value/,
    });
    assertBad("tags.team = 'nlp AND metrics.a > 1", {
      position: 12,
      token: "'nlp AND metrics.a > 1",
      reason: /unclosed string/,
    });
    assertBad('metrics."my key > 1', { position: 8, token: '"my key > 1', reason: /unclosed/ });
    assertBad('(metrics.a > 1 OR metrics.b > 2', {
      position: 31,
      token: '',
      reason: /expected '\)' to close the '\(' at column 1/,
    });
    assertBad('metrics.a > 1)', { position: 13, token: ')', reason: /unmatched/ });
    assertBad('metrics.a > 1 garbage', {
      position: 14,
      token: 'garbage',
      reason: /expected AND, OR or the end/,
    });
    assertBad("metrics.acc > 1 'x'", { position: 16, token: "'x'", reason: /expected AND, OR/ });
    assertBad("metrics.acc > '0.9'", {
      position: 14,
      token: "'0.9'",
      reason: /takes a number: write the value without quotes/,
    });
    assertBad("metrics.acc LIKE '9%'", {
      position: 12,
      token: 'LIKE',
      reason: /does not support LIKE; metrics allow =, !=, <, <=, >, >=/,
    });
    assertBad('metrics.acc IN (1, 2)', {
      position: 12,
      token: 'IN',
      reason: /does not support IN/,
    });
    assertBad("attributes.colour = 'red'", {
      position: 11,
      token: 'colour',
      reason: /unknown attribute 'colour'; valid attributes are run_id, run_name, status/,
    });
    assertBad("datasets.size = '1'", {
      position: 9,
      token: 'size',
      reason: /name, digest, context/,
    });
    assertBad("status = 'FINISHED'", {
      position: 0,
      token: 'status',
      reason: /write attributes\.status/,
    });
    assertBad('constructor.x > 1', { position: 0, token: 'constructor', reason: /unknown prefix/ });
    assertBad('acc > 1', { position: 0, token: 'acc', reason: /expected a field such as/ });
    assertBad('AND metrics.a > 1', { position: 0, token: 'AND', reason: /expected a field/ });
    assertBad('metrics.a > 1 AND', { position: 17, token: '', reason: /expected a condition/ });
    assertBad('params.lr = 0.01', {
      position: 12,
      token: '0.01',
      reason: /takes a quoted string, as in '0.01'; use <, <=, >, >= to compare as numbers/,
    });
    assertBad("params.lr > '0.01'", { position: 12, token: "'0.01'", reason: /takes a number/ });
    assertBad("attributes.start_time > '2024-01-01'", {
      position: 24,
      token: "'2024-01-01'",
      reason: /milliseconds since the epoch/,
    });
    assertBad("attributes.status < 'Z'", {
      position: 18,
      token: '<',
      reason: /allows =, !=, LIKE, ILIKE, IN, NOT IN/,
    });
    assertBad('attributes.start_time IS NULL', { position: 22, token: 'IS', reason: /IN, NOT IN/ });
    assertBad('tags.t IN ()', { position: 11, token: ')', reason: /expected a value/ });
    assertBad("tags.t IN 'a'", { position: 10, token: "'a'", reason: /to start the IN list/ });
    assertBad("tags.t IN ('a' 'b')", { position: 15, token: "'b'", reason: /',' or '\)'/ });
    assertBad("tags.t NOT LIKE 'a'", {
      position: 11,
      token: 'LIKE',
      reason: /expected IN after NOT/,
    });
    assertBad('tags.t IS EMPTY', { position: 10, token: 'EMPTY', reason: /NULL or NOT NULL/ });
    assertBad('metrics. > 1', { position: 0, token: 'metrics.', reason: /expected a key/ });
    assertBad('metrics.a > 1 & metrics.b > 1', {
      position: 14,
      token: '&',
      reason: /unexpected character/,
    });
    assertBad('metrics.a > 1e999', { position: 12, token: '1e999', reason: /out of range/ });
    assertBad('metrics.a > NaN', { position: 12, token: 'NaN', reason: /expected a value/ });
  });

  test('reports the first mistake, not a later one', () => {
    // The unclosed string comes after the bad operator and must not mask it.
    assertBad("metrics.a >> 1 AND tags.t = 'x", { position: 10, token: '>>', reason: /operator/ });
  });

  test('echoes a multi-line filter on one line so the caret lines up', () => {
    let caught: unknown;
    try {
      parseRunFilter("metrics.a > 1\nAND\ttags.t ~ 'x'");
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof FilterError);
    assert.equal(caught.position, 25);
    const [, echo, caret] = caught.message.split('\n');
    assert.equal(echo, "metrics.a > 1 AND tags.t ~ 'x'");
    assert.equal(echo![caret!.length - 1], '~');
  });
});

describe('parseOrderBy', () => {
  test('reads fields, bare attributes and directions', () => {
    assert.deepEqual(
      parseOrderBy([
        'metrics.acc DESC',
        'params.lr',
        'attributes.start_time ASC',
        'start_time',
        'tags.`my team` desc',
        '  ',
        'metrics.val.loss',
      ]),
      [
        { field: metric('acc'), descending: true },
        { field: param('lr'), descending: false },
        { field: { kind: 'attribute', name: 'start_time' }, descending: false },
        { field: { kind: 'attribute', name: 'start_time' }, descending: false },
        { field: tag('my team'), descending: true },
        { field: metric('val.loss'), descending: false },
      ],
    );
    assert.deepEqual(parseOrderBy([]), []);
  });

  test('rejects bad entries at the offending token', () => {
    const bad = (entry: string, expected: { position: number; token: string; reason: RegExp }) =>
      assertBad(entry, expected, (text) => parseOrderBy(['metrics.ok', text]));
    bad('metrics.acc UP', { position: 12, token: 'UP', reason: /expected ASC, DESC/ });
    bad('metrics.acc DESC 2', { position: 17, token: '2', reason: /end of the order_by entry/ });
    bad('acc DESC', { position: 0, token: 'acc', reason: /expected a field/ });
    bad('datasets.name', { position: 0, token: 'datasets.name', reason: /dataset/ });
    bad('attributes.size', { position: 11, token: 'size', reason: /unknown attribute/ });
    const err = bad('metricz.a', { position: 0, token: 'metricz', reason: /unknown prefix/ });
    assert.match(err.message, /^Bad order_by at column 1 near 'metricz'/);
  });
});

// ---------------------------------------------------------------- SQL over a real store schema

interface RunRow {
  uuid: string;
  exp: number;
  name: string;
  user: string;
  status: string;
  start: number;
  end: number | null;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  /** Latest values; NaN is stored as the store stores it (value NULL, is_nan 1). */
  metrics?: Record<string, number>;
  datasets?: { name: string; digest: string; context: string | null }[];
}

const INJECTION = "' OR 1=1 --";

const RUNS: RunRow[] = [
  {
    uuid: 'r1',
    exp: 1,
    name: 'bert-base',
    user: 'alice',
    status: 'FINISHED',
    start: 1000,
    end: 5000,
    params: { lr: '0.01', optimizer: 'adam', epochs: '10' },
    tags: { team: 'nlp', 'val.split': '0.2' },
    metrics: { acc: 0.91, 'val.loss': 0.3 },
    datasets: [
      { name: 'train', digest: 'abc123', context: 'training' },
      { name: 'eval', digest: 'def456', context: 'evaluation' },
    ],
  },
  {
    uuid: 'r2',
    exp: 1,
    name: 'BERT-large',
    user: 'bob',
    status: 'FINISHED',
    start: 2000,
    end: 2500,
    params: { lr: '0.001', optimizer: 'Adam', epochs: '3' },
    tags: { team: 'NLP' },
    metrics: { acc: 0.95, 'val.loss': 0.2 },
    datasets: [{ name: 'train', digest: 'abc123', context: 'training' }],
  },
  {
    uuid: 'r3',
    exp: 1,
    name: 'gpt-small',
    user: 'alice',
    status: 'FAILED',
    start: 3000,
    end: 3100,
    params: { lr: '1e-3', optimizer: 'sgd', epochs: 'ten' },
    tags: { team: 'nlp-core' },
    metrics: { acc: 0.5 },
  },
  {
    uuid: 'r4',
    exp: 1,
    name: 'gpt-medium',
    user: 'carol',
    status: 'RUNNING',
    start: 4000,
    end: null,
    params: { lr: '0.1', optimizer: 'adamw' },
    tags: { team: 'research' },
    metrics: { acc: 0.7 },
  },
  {
    uuid: 'r5',
    exp: 2,
    name: 'resnet',
    user: 'bob',
    status: 'FINISHED',
    start: 5000,
    end: 9000,
    params: { lr: 'auto', optimizer: 'sgd', epochs: '20' },
    tags: { team: 'vision', priority: '2' },
    metrics: { acc: 0.88, 'my metric': 1.5 },
    datasets: [{ name: 'imagenet', digest: 'fff000', context: null }],
  },
  {
    uuid: 'r6',
    exp: 2,
    name: 'resnet-nan',
    user: 'alice',
    status: 'FINISHED',
    start: 6000,
    end: 6500,
    params: { optimizer: 'adam', 'my key': 'x' },
    tags: { team: 'vision', priority: '10' },
    metrics: { acc: NaN },
  },
  {
    uuid: 'r7',
    exp: 2,
    name: "o'brien",
    user: 'dave',
    status: 'KILLED',
    start: 7000,
    end: 7200,
    params: { lr: '0.05' },
    tags: { note: INJECTION, priority: 'high' },
    metrics: { loss: Infinity },
  },
  {
    uuid: 'r8',
    exp: 2,
    name: 'empty',
    user: 'eve',
    status: 'FINISHED',
    start: 8000,
    end: 8100,
  },
];

function buildStore(SQL: SqlJsStatic): Database {
  const db = new SQL.Database();
  for (const m of MIGRATIONS) db.exec(m.sql);
  db.exec('PRAGMA case_sensitive_like = ON');
  db.run(
    "INSERT INTO experiments VALUES (1, 'one', '/a/1', 'active', 0, 0), (2, 'two', '/a/2', 'active', 0, 0)",
  );
  RUNS.forEach((run, i) => {
    const rid = i + 1;
    db.run('INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)', [
      rid,
      run.uuid,
      run.exp,
      run.name,
      run.user,
      run.status,
      run.start,
      run.end,
      rid === 3 ? 'deleted' : 'active',
      `/a/${run.exp}/${run.uuid}`,
    ]);
    for (const [key, value] of Object.entries(run.params ?? {})) {
      db.run('INSERT INTO params VALUES (?, ?, ?)', [rid, key, value]);
    }
    for (const [key, value] of Object.entries(run.tags ?? {})) {
      db.run('INSERT INTO tags VALUES (?, ?, ?)', [rid, key, value]);
    }
    for (const [key, value] of Object.entries(run.metrics ?? {})) {
      const nan = Number.isNaN(value);
      const stored = nan ? null : value;
      db.run(
        'INSERT INTO metrics (rid, key, step, seq, timestamp, value, is_nan) VALUES (?, ?, 0, 0, 0, ?, ?)',
        [rid, key, stored, nan ? 1 : 0],
      );
      db.run('INSERT INTO latest_metrics VALUES (?, ?, ?, ?, 0, 0, ?, ?, 1)', [
        rid,
        key,
        stored,
        nan ? 1 : 0,
        stored,
        stored,
      ]);
    }
    for (const d of run.datasets ?? []) {
      db.run(
        "INSERT INTO datasets (rid, name, digest, source, source_type, context, logged_at) VALUES (?, ?, ?, 'src', 'local', ?, 0)",
        [rid, d.name, d.digest, d.context],
      );
    }
  });
  return db;
}

describe('compiled run search over the store schema', () => {
  let db: Database;

  before(async () => {
    db = buildStore(await initSqlJs());
  });

  /** run_uuids in the query's order. */
  function search(
    filter: string,
    orderBy: string[] = [],
    scope?: { where: string; params: (string | number)[] },
  ): string[] {
    const query = compileRunQuery({
      filter: parseRunFilter(filter),
      orderBy: parseOrderBy(orderBy),
      scope,
    });
    const rows = db.exec(query.sql, query.params as SqlValue[])[0];
    // rids are 1-based positions in RUNS (see buildStore).
    return (rows?.values ?? []).map((v) => RUNS[(v[0] as number) - 1]!.uuid);
  }

  /** The set of matching run_uuids, sorted, for filters where order is not the point. */
  const matching = (filter: string): string[] => search(filter).sort();

  test('metrics compare numerically; NaN and missing metrics match nothing', () => {
    assert.deepEqual(matching('metrics.acc > 0.9'), ['r1', 'r2']);
    assert.deepEqual(matching('metrics.acc >= 0.91'), ['r1', 'r2']);
    assert.deepEqual(matching('metrics.acc <= 0.7'), ['r3', 'r4']);
    assert.deepEqual(matching('metrics.acc < 0.7'), ['r3']);
    assert.deepEqual(matching('metrics.acc = 0.5'), ['r3']);
    assert.deepEqual(matching('metrics.acc != 0.91'), ['r2', 'r3', 'r4', 'r5']);
    assert.deepEqual(matching('metrics.acc <> 0.91'), ['r2', 'r3', 'r4', 'r5']);
    assert.deepEqual(matching('metrics.loss > 1e308'), ['r7']);
    assert.deepEqual(matching('metrics.val.loss < 0.25'), ['r2']);
    assert.deepEqual(matching('metrics."my metric" > 1'), ['r5']);
  });

  test('IS NULL on a metric means the run never logged it (a NaN value is logged)', () => {
    assert.deepEqual(matching('metrics.acc IS NULL'), ['r7', 'r8']);
    assert.deepEqual(matching('metrics.acc IS NOT NULL'), ['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  });

  test('NOT is the exact complement of what it wraps', () => {
    assert.deepEqual(matching('NOT metrics.acc > 0.9'), ['r3', 'r4', 'r5', 'r6', 'r7', 'r8']);
    // duration is NULL for the running r4; NOT must still include it.
    assert.deepEqual(matching('attributes.duration > 1000'), ['r1', 'r5']);
    assert.deepEqual(matching('NOT attributes.duration > 1000'), [
      'r2',
      'r3',
      'r4',
      'r6',
      'r7',
      'r8',
    ]);
  });

  test('params and tags compare as strings; != and NOT IN skip runs without the key', () => {
    assert.deepEqual(matching("params.lr = '0.01'"), ['r1']);
    assert.deepEqual(matching("params.optimizer != 'adam'"), ['r2', 'r3', 'r4', 'r5']);
    assert.deepEqual(matching("params.optimizer IN ('sgd', 'adamw')"), ['r3', 'r4', 'r5']);
    assert.deepEqual(matching("params.optimizer NOT IN ('sgd', 'adamw')"), ['r1', 'r2', 'r6']);
    assert.deepEqual(matching('params.lr IS NULL'), ['r6', 'r8']);
    assert.deepEqual(matching("params.`my key` = 'x'"), ['r6']);
    assert.deepEqual(matching("tags.team = 'nlp'"), ['r1']);
    assert.deepEqual(matching("tags.val.split = '0.2'"), ['r1']);
    assert.deepEqual(matching("tags.`val.split` = '0.2'"), ['r1']);
    assert.deepEqual(matching('tags.team IS NOT NULL'), ['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  });

  test('LIKE is case-sensitive and ILIKE is not', () => {
    assert.deepEqual(matching("params.optimizer LIKE 'adam%'"), ['r1', 'r4', 'r6']);
    assert.deepEqual(matching("params.optimizer ILIKE 'adam%'"), ['r1', 'r2', 'r4', 'r6']);
    assert.deepEqual(matching("params.optimizer ILIKE 'ADAM'"), ['r1', 'r2', 'r6']);
    assert.deepEqual(matching("tags.team LIKE 'NLP'"), ['r2']);
    assert.deepEqual(matching("tags.team LIKE 'nlp%'"), ['r1', 'r3']);
    assert.deepEqual(matching("tags.team ILIKE 'nlp%'"), ['r1', 'r2', 'r3']);
    assert.deepEqual(matching("tags.team LIKE 'nl_'"), ['r1']);
    assert.deepEqual(matching("attributes.run_name LIKE 'bert%'"), ['r1']);
    assert.deepEqual(matching("attributes.run_name ILIKE 'bert%'"), ['r1', 'r2']);
  });

  test('numeric comparisons on params and tags match only values that are numbers', () => {
    // '1e-3' counts; 'auto' does not, although CAST would read it as 0.
    assert.deepEqual(matching('params.lr < 0.01'), ['r2', 'r3']);
    assert.deepEqual(matching('params.lr >= 0.05'), ['r4', 'r7']);
    // As text '10' < '5'; as numbers it is not. 'ten' never matches.
    assert.deepEqual(matching('params.epochs > 5'), ['r1', 'r5']);
    assert.deepEqual(matching('params.epochs <= 1000'), ['r1', 'r2', 'r5']);
    assert.deepEqual(matching('tags.priority > 5'), ['r6']);
    assert.deepEqual(matching('tags.priority < 5'), ['r5']);
  });

  test('AND, OR and parentheses combine as written', () => {
    assert.deepEqual(
      matching("params.optimizer = 'sgd' OR tags.team = 'nlp' AND metrics.acc > 0.6"),
      ['r1', 'r3', 'r5'],
    );
    assert.deepEqual(
      matching("(params.optimizer = 'sgd' OR tags.team = 'nlp') AND metrics.acc > 0.6"),
      ['r1', 'r5'],
    );
    assert.deepEqual(
      matching(
        "NOT (tags.team IN ('vision', 'research') OR metrics.acc IS NULL) AND params.lr IS NOT NULL",
      ),
      ['r1', 'r2', 'r3'],
    );
  });

  test('attributes map to run columns', () => {
    assert.deepEqual(matching("attributes.status = 'FINISHED'"), ['r1', 'r2', 'r5', 'r6', 'r8']);
    assert.deepEqual(matching("attributes.status != 'FINISHED'"), ['r3', 'r4', 'r7']);
    assert.deepEqual(matching("run.run_name = 'o''brien'"), ['r7']);
    assert.deepEqual(matching("attributes.run_id IN ('r1', 'r3', 'nope')"), ['r1', 'r3']);
    assert.deepEqual(matching("attributes.user_id NOT IN ('alice', 'bob')"), ['r4', 'r7', 'r8']);
    assert.deepEqual(matching("attributes.artifact_uri LIKE '/a/2/%'"), ['r5', 'r6', 'r7', 'r8']);
    assert.deepEqual(matching('attributes.start_time >= 6000'), ['r6', 'r7', 'r8']);
    assert.deepEqual(matching('attributes.created < 3000'), ['r1', 'r2']);
    assert.deepEqual(matching('attributes.end_time IS NULL'), ['r4']);
    assert.deepEqual(matching('attributes.end_time < 3000'), ['r2']);
    assert.deepEqual(matching('attributes.duration IN (200, 4000)'), ['r1', 'r5', 'r7']);
    assert.deepEqual(matching("attributes.experiment_id = '2'"), ['r5', 'r6', 'r7', 'r8']);
    assert.deepEqual(matching('attributes.experiment_id IN (1)'), ['r1', 'r2', 'r3', 'r4']);
  });

  test('datasets match when any dataset of the run does', () => {
    assert.deepEqual(matching("datasets.name = 'train'"), ['r1', 'r2']);
    assert.deepEqual(matching("datasets.digest = 'fff000'"), ['r5']);
    assert.deepEqual(matching("datasets.context = 'evaluation'"), ['r1']);
    // r1's eval dataset differs from 'training'; r5's dataset has no context at all.
    assert.deepEqual(matching("datasets.context != 'training'"), ['r1']);
    assert.deepEqual(matching("datasets.name ILIKE 'IMAGE%'"), ['r5']);
    assert.deepEqual(matching("datasets.name NOT IN ('train')"), ['r1', 'r5']);
  });

  test('a value that looks like SQL injection is only ever a literal', () => {
    const quoted = `'${INJECTION.replace(/'/g, "''")}'`;
    assert.deepEqual(matching(`params.optimizer = ${quoted}`), []);
    assert.deepEqual(matching(`attributes.run_name = ${quoted}`), []);
    assert.deepEqual(matching(`params.optimizer = "${INJECTION}"`), []);
    // r7 stores that exact text as a tag, and only r7 matches it.
    assert.deepEqual(matching(`tags.note = ${quoted}`), ['r7']);
    const { where, params } = compileRunFilter(parseRunFilter(`tags.note = ${quoted}`));
    assert.ok(!where.includes('1=1'));
    assert.deepEqual(params, ['note', INJECTION]);
  });

  test('no filter and no order returns every run, newest first', () => {
    assert.deepEqual(search(''), ['r8', 'r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1']);
  });

  test('order by a metric puts NaN after values and missing metrics last, either way', () => {
    assert.deepEqual(search('', ['metrics.acc DESC']), [
      'r2',
      'r1',
      'r5',
      'r4',
      'r3',
      'r6',
      'r8',
      'r7',
    ]);
    assert.deepEqual(search('', ['metrics.acc ASC']), [
      'r3',
      'r4',
      'r5',
      'r1',
      'r2',
      'r6',
      'r8',
      'r7',
    ]);
  });

  test('order by a param sorts its text, with runs missing it last', () => {
    const byText = ['r2', 'r1', 'r7', 'r4', 'r3', 'r5'];
    assert.deepEqual(search('', ['params.lr']), [...byText, 'r8', 'r6']);
    assert.deepEqual(search('', ['params.lr DESC']), [...byText.reverse(), 'r8', 'r6']);
  });

  test('several order_by entries apply in turn, then start_time DESC, then run_uuid', () => {
    assert.deepEqual(search('', ['tags.team', 'metrics.acc DESC']), [
      'r2',
      'r1',
      'r3',
      'r4',
      'r5',
      'r6',
      'r8',
      'r7',
    ]);
    assert.deepEqual(search('', ['attributes.status']), [
      'r3',
      'r8',
      'r6',
      'r5',
      'r2',
      'r1',
      'r7',
      'r4',
    ]);
    assert.deepEqual(search('', ['attributes.end_time DESC']), [
      'r5',
      'r8',
      'r7',
      'r6',
      'r1',
      'r3',
      'r2',
      'r4',
    ]);
  });

  test('joins, scope and filter parameters line up in one statement', () => {
    const scope = {
      where: 'r.experiment_id IN (?) AND r.lifecycle_stage = ?',
      params: [1, 'active'],
    };
    // r3 would match but is deleted; runs of experiment 2 are out of scope.
    assert.deepEqual(search('params.lr IS NOT NULL', ['metrics.acc', 'params.lr'], scope), [
      'r4',
      'r1',
      'r2',
    ]);
    const query = compileRunQuery({
      filter: parseRunFilter('metrics.acc > 0.5'),
      orderBy: parseOrderBy(['params.lr DESC']),
      scope,
    });
    assert.deepEqual(query.params, ['lr', 1, 'active', 'acc', 0.5]);
    assert.ok(query.sql.startsWith('SELECT r.rid FROM runs r LEFT JOIN params o0'));
    assert.ok(!/LIMIT/i.test(query.sql));
  });

  test('compileOrderBy and compileRunFilter stand alone', () => {
    assert.deepEqual(compileRunFilter(undefined), { where: '1 = 1', params: [] });
    const order = compileOrderBy(parseOrderBy(['metrics.a', 'tags.b DESC', 'duration']));
    assert.deepEqual(order.params, ['a', 'b']);
    assert.match(order.joins, /latest_metrics o0 .* tags o1 /);
    assert.match(order.orderBy, /r\.start_time DESC, r\.run_uuid ASC$/);
  });
});
