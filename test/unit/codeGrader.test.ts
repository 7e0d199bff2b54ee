// Code criteria: user functions in JavaScript and TypeScript files, run in worker threads
// with a time and a memory limit; what they may return, what happens when they throw,
// hang or crash, the checks made before any case runs, and the trust gate.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import {
  MAX_CODE_WORKERS,
  assertCodeGradersAllowed,
  createCodeGrader,
  verdictOf,
} from '../../src/core/evals/codeGrader.ts';
import type {
  CodeCriterion,
  CodeGradeInput,
  CodeGrader,
  CodeGraderOptions,
} from '../../src/core/evals/codeGrader.ts';
import type { Criterion } from '../../src/core/evals/suite.ts';
import { ValidationError } from '../../src/core/model/errors.ts';
import { REPO, removeDir, tempDir, waitExit } from './helpers.ts';

let dir = '';
let suiteFile = '';
const open: CodeGrader[] = [];

before(() => {
  dir = tempDir('mlops-code-grader-');
  suiteFile = path.join(dir, 'suite.eval.json');
});
after(async () => {
  await Promise.all(open.map((g) => g.close()));
  removeDir(dir);
});

/** Writes a fixture file next to the suite file; returns its name relative to the suite. */
function write(name: string, source: string): string {
  fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  fs.writeFileSync(path.join(dir, name), source);
  return name;
}

const criterion = (file: string, extra: Partial<CodeCriterion> = {}): CodeCriterion => ({
  name: 'check',
  type: 'code',
  file,
  ...extra,
});

async function grader(
  file: string,
  extra: Partial<CodeCriterion> = {},
  options: CodeGraderOptions = {},
): Promise<CodeGrader> {
  const g = await createCodeGrader(criterion(file, extra), suiteFile, options);
  open.push(g);
  return g;
}

const input = (
  output: string,
  vars: Record<string, unknown> = {},
  c: Partial<CodeGradeInput['case']> = {},
): CodeGradeInput => ({ output, case: { vars, ...c }, vars });

/** Asserts that creating the grader fails with a ValidationError matching every pattern. */
async function refuses(
  file: string,
  extra: Partial<CodeCriterion>,
  ...patterns: RegExp[]
): Promise<void> {
  await assert.rejects(createCodeGrader(criterion(file, extra), suiteFile), (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected a ValidationError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe('what a grader function may return', { timeout: 10_000 }, () => {
  test('a boolean from the default export of a .js file', async () => {
    const g = await grader(
      write('bool.js', `export default ({ output }) => output.includes('Paris');\n`),
    );
    assert.deepEqual(await g.grade(input('It is Paris.')), {
      pass: true,
      score: 1,
      reason: 'the code grader returned true',
    });
    assert.deepEqual(await g.grade(input('It is Lyon.')), {
      pass: false,
      score: 0,
      reason: 'the code grader returned false',
    });
  });

  test('an object from a named export, with the case and vars it was given', async () => {
    const file = write(
      'named.mjs',
      [
        'export const other = 1;',
        'export function check({ output, case: c, vars }) {',
        '  const pass = output === c.expected && vars.lang === "fr" && c.id === "c1";',
        '  return { pass, score: pass ? 0.75 : 0.25, reason: "compared with " + c.expected };',
        '}',
      ].join('\n'),
    );
    const g = await grader(file, { function: 'check' });
    assert.deepEqual(
      await g.grade(input('Paris', { lang: 'fr' }, { id: 'c1', expected: 'Paris' })),
      {
        pass: true,
        score: 0.75,
        reason: 'compared with Paris',
      },
    );
    assert.deepEqual(
      await g.grade(input('Lyon', { lang: 'fr' }, { id: 'c1', expected: 'Paris' })),
      {
        pass: false,
        score: 0.25,
        reason: 'compared with Paris',
      },
    );
  });

  test('an async function is awaited', async () => {
    const file = write(
      'async.mjs',
      [
        'export default async function ({ output }) {',
        '  await new Promise((r) => setTimeout(r, 30));',
        '  return { pass: output.length > 3 };',
        '}',
      ].join('\n'),
    );
    const g = await grader(file);
    assert.deepEqual(await g.grade(input('long enough')), {
      pass: true,
      score: 1,
      reason: 'the code grader returned pass: true',
    });
    assert.equal((await g.grade(input('no'))).pass, false);
  });

  test('a number is a score that passes at 0.5, clamped to 0..1', async () => {
    const g = await grader(write('score.mjs', 'export default ({ vars }) => vars.s;\n'));
    assert.deepEqual(await g.grade(input('x', { s: 0.7 })), {
      pass: true,
      score: 0.7,
      reason: 'score 0.7 >= 0.5',
    });
    assert.deepEqual(await g.grade(input('x', { s: 0.3 })), {
      pass: false,
      score: 0.3,
      reason: 'score 0.3 < 0.5',
    });
    assert.equal((await g.grade(input('x', { s: 0.5 }))).pass, true);
    assert.deepEqual(await g.grade(input('x', { s: 7 })), {
      pass: true,
      score: 1,
      reason: 'score 7 >= 0.5',
    });
    assert.equal((await g.grade(input('x', { s: -2 }))).score, 0);
  });

  test('a score given with pass is clamped, and pass is kept as returned', async () => {
    assert.deepEqual(verdictOf({ pass: false, score: 1.5, reason: 'r' }), {
      pass: false,
      score: 1,
      reason: 'r',
    });
    assert.deepEqual(verdictOf({ pass: true, score: 0.2 }), {
      pass: true,
      score: 0.2,
      reason: 'the code grader returned pass: true, score: 0.2',
    });
  });

  test('a wrong shape fails with what was returned and what is expected', async () => {
    const file = write(
      'shapes.mjs',
      [
        'export default ({ output }) => {',
        '  if (output === "string") return "yes";',
        '  if (output === "nothing") return;',
        '  if (output === "no-pass") return { score: 0.8 };',
        '  if (output === "bad-score") return { pass: true, score: "high" };',
        '  if (output === "nan") return NaN;',
        '  if (output === "function") return { pass: true, check() {} };',
        '  return [true];',
        '};',
      ].join('\n'),
    );
    const g = await grader(file);
    const expected = /expected true or false, a number from 0 to 1, or \{ pass: boolean/;
    const cases: [string, RegExp][] = [
      ['string', /^the code grader returned "yes"; /],
      ['nothing', /^the code grader returned undefined \(does the function return its verdict\?\)/],
      ['no-pass', /^the code grader returned \{"score":0\.8\}: "pass" must be true or false; /],
      ['bad-score', /returned \{"pass":true,"score":"high"\}: "score" must be a number/],
      ['nan', /^the code grader returned NaN; /],
      [
        'function',
        /returned \{ pass: true, check: \[Function: check\] \}, which cannot be passed back/,
      ],
      ['array', /^the code grader returned \[true\]; /],
    ];
    for (const [output, pattern] of cases) {
      const r = await g.grade(input(output));
      assert.equal(r.pass, false, output);
      assert.equal(r.score, 0, output);
      assert.match(r.reason, pattern);
      assert.match(r.reason, expected);
    }
  });
});

describe('file kinds', { timeout: 10_000 }, () => {
  test('a TypeScript file with types, a node module and a JavaScript helper next to it', async () => {
    write('lib/helper.cjs', 'exports.words = (s) => s.split(/\\s+/).filter(Boolean).length;\n');
    const file = write(
      'lib/check.ts',
      [
        "import * as path from 'node:path';",
        "import type { Stats } from 'node:fs';",
        "import { words } from './helper.cjs';",
        'interface Input { output: string; vars: Record<string, unknown> }',
        'enum Limit { Words = 3 }',
        'type Verdict = { pass: boolean; score: number; reason: string };',
        'const unused: Stats | undefined = undefined;',
        'export default function check({ output, vars }: Input): Verdict {',
        '  const n: number = words(output);',
        '  const max = (vars.max as number | undefined) ?? Limit.Words;',
        '  return { pass: n <= max, score: n <= max ? 1 : 0, reason: `${n} words in ${path.basename(__filename)}` };',
        '}',
        'void unused;',
      ].join('\n'),
    );
    const g = await grader(file);
    assert.deepEqual(await g.grade(input('one two')), {
      pass: true,
      score: 1,
      reason: '2 words in check.ts',
    });
    assert.deepEqual(await g.grade(input('one two three four', { max: 3 })), {
      pass: false,
      score: 0,
      reason: '4 words in check.ts',
    });
  });

  test('.mts and .cts files are TypeScript too', async () => {
    const m = await grader(
      write(
        'm.mts',
        'export const grade = (i: { output: string }): number => i.output.length / 10;\n',
      ),
      { function: 'grade' },
    );
    assert.deepEqual(await m.grade(input('12345678')), {
      pass: true,
      score: 0.8,
      reason: 'score 0.8 >= 0.5',
    });
    const c = await grader(
      write('c.cts', 'export = (i: { output: string }): boolean => i.output === "ok";\n'),
    );
    assert.equal((await c.grade(input('ok'))).pass, true);
    assert.equal((await c.grade(input('ko'))).pass, false);
  });

  test('a TypeScript grader that imports another TypeScript file is refused, saying so', async () => {
    write('ts-import/util.ts', 'export const yes = (): boolean => true;\n');
    const file = write(
      'ts-import/check.ts',
      "import { yes } from './util';\nexport default (): boolean => yes();\n",
    );
    await refuses(
      file,
      {},
      /criterion "check": ts-import\/check\.ts could not be loaded: it imports \.\/util\.ts, a TypeScript file/,
      /not other TypeScript files/,
    );
  });

  test('a .cjs file: module.exports as the default, and a named export', async () => {
    const d = await grader(
      write('plain.cjs', "module.exports = function ({ output }) { return output === 'yes'; };\n"),
    );
    assert.equal((await d.grade(input('yes'))).pass, true);
    assert.equal((await d.grade(input('no'))).pass, false);
    const n = await grader(
      write('named.cjs', 'exports.other = 1;\nexports.grade = ({ output }) => output.length;\n'),
      { function: 'grade' },
    );
    assert.equal((await n.grade(input(''))).score, 0);
    assert.equal((await n.grade(input('abc'))).score, 1);
  });

  test('a CommonJS .js file imported through import()', async () => {
    const g = await grader(
      write('cjs-style.js', "exports.grade = ({ output }) => output === 'ok';\n"),
      { function: 'grade' },
    );
    assert.equal((await g.grade(input('ok'))).pass, true);
  });
});

describe('functions that misbehave', { timeout: 10_000 }, () => {
  test('a throw fails the case with the message and the place', async () => {
    const file = write(
      'throws.mjs',
      "export default ({ output }) => {\n  if (output === 'bad') throw new Error('bad output');\n  return true;\n};\n",
    );
    const g = await grader(file);
    const r = await g.grade(input('bad'));
    assert.equal(r.pass, false);
    assert.equal(r.score, 0);
    assert.match(r.reason, /^the code grader threw: bad output \(at throws\.mjs:2:\d+\)$/);
    // The worker survives a throw.
    assert.equal((await g.grade(input('good'))).pass, true);
  });

  test('a thrown non-Error value is shown', async () => {
    const g = await grader(write('throws-string.mjs', "export default () => { throw 'nope'; };\n"));
    assert.equal((await g.grade(input('x'))).reason, 'the code grader threw: nope');
  });

  test('an endless loop times out, and the next call works on a fresh worker', async () => {
    const file = write(
      'loop.mjs',
      "export default ({ output }) => { if (output === 'loop') while (true) {} return true; };\n",
    );
    // One worker: the next call works only if the looping one was replaced.
    const g = await grader(file, { timeoutMs: 300 }, { concurrency: 1 });
    const started = Date.now();
    assert.deepEqual(await g.grade(input('loop')), {
      pass: false,
      score: 0,
      reason: 'the code grader did not answer within 300 ms',
    });
    assert.ok(Date.now() - started < 3000, 'the timeout fired late');
    assert.deepEqual(await g.grade(input('ok')), {
      pass: true,
      score: 1,
      reason: 'the code grader returned true',
    });
  });

  test('a timeout fails only its own call, not the others in flight', async () => {
    const file = write(
      'loop-some.mjs',
      [
        'export default async ({ output }) => {',
        "  if (output === 'loop') while (true) {}",
        '  await new Promise((r) => setTimeout(r, 100));',
        '  return true;',
        '};',
      ].join('\n'),
    );
    const g = await grader(file, { timeoutMs: 500 }, { concurrency: 4 });
    const outputs = ['loop', 'ok', 'ok', 'ok', 'ok', 'ok', 'loop', 'ok'];
    const results = await Promise.all(outputs.map((o) => g.grade(input(o))));
    results.forEach((r, i) => {
      if (outputs[i] === 'loop') assert.match(r.reason, /did not answer within 500 ms/);
      else assert.deepEqual(r, { pass: true, score: 1, reason: 'the code grader returned true' });
    });
  });

  test('a memory bomb fails the call, not the host, and the next call works', async () => {
    const file = write(
      'memory.mjs',
      [
        'export default ({ output }) => {',
        "  if (output !== 'bomb') return true;",
        '  const hoard = [];',
        "  for (;;) hoard.push({ a: 'x'.repeat(64) + hoard.length, b: [hoard.length] });",
        '};',
      ].join('\n'),
    );
    const g = await grader(file, { timeoutMs: 20_000 }, { memoryLimitMb: 32 });
    const r = await g.grade(input('bomb'));
    assert.equal(r.pass, false);
    assert.match(
      r.reason,
      /^the code grader ran out of memory \(its limit is 32 MB\); it was restarted/,
    );
    assert.equal((await g.grade(input('fine'))).pass, true);
  });

  test('an error thrown outside the call, or process.exit, fails the call with the cause', async () => {
    const file = write(
      'crash.mjs',
      [
        'export default ({ output }) => {',
        "  if (output === 'exit') process.exit(3);",
        "  if (output === 'late') return new Promise(() => setTimeout(() => { throw new Error('late boom'); }, 10));",
        '  return true;',
        '};',
      ].join('\n'),
    );
    const g = await grader(file);
    assert.match(
      (await g.grade(input('late'))).reason,
      /^the code grader's worker crashed: late boom; it was restarted for the next case$/,
    );
    assert.match((await g.grade(input('exit'))).reason, /worker exited with code 3/);
    assert.equal((await g.grade(input('ok'))).pass, true);
  });
});

describe('concurrency', { timeout: 10_000 }, () => {
  test('20 concurrent grades each get their own verdict, off the calling thread', async () => {
    const file = write(
      'concurrent.mjs',
      [
        "import { threadId } from 'node:worker_threads';",
        'export default async ({ output, vars }) => {',
        '  await new Promise((r) => setTimeout(r, vars.delay));',
        '  const n = Number(output);',
        '  return { pass: n % 2 === 0, score: n / 100, reason: `${n}@${threadId}` };',
        '};',
      ].join('\n'),
    );
    const g = await grader(file, {}, { concurrency: 64 });
    const ns = Array.from({ length: 20 }, (_, i) => i);
    const results = await Promise.all(
      ns.map((n) => g.grade(input(String(n), { delay: (n * 7) % 40 }))),
    );
    const threads = new Set<string>();
    results.forEach((r, n) => {
      const [seen, thread] = r.reason.split('@');
      assert.equal(seen, String(n));
      assert.equal(r.pass, n % 2 === 0);
      assert.equal(r.score, n / 100);
      threads.add(thread!);
    });
    assert.ok(!threads.has(String(threadId)), 'a grade ran in the calling thread');
    assert.ok(threads.size > 1, 'the grades ran one after another on one worker');
    assert.ok(threads.size <= MAX_CODE_WORKERS, `${threads.size} workers for one grader`);
  });

  test('close() fails the grades still waiting, and later grades are refused', async () => {
    const file = write(
      'slow.mjs',
      'export default () => new Promise((r) => setTimeout(() => r(true), 2000));\n',
    );
    const g = await createCodeGrader(criterion(file), suiteFile, { concurrency: 1 });
    const pending = [g.grade(input('a')), g.grade(input('b'))];
    await new Promise((r) => setTimeout(r, 50));
    await g.close();
    const [inFlight, queued] = await Promise.all(pending);
    assert.deepEqual(inFlight, {
      pass: false,
      score: 0,
      reason: 'the code grader was closed while it graded this case',
    });
    assert.equal(queued!.reason, 'the code grader was closed before it graded this case');
    await assert.rejects(g.grade(input('c')), /is closed/);
  });
});

describe('checks before any case runs', { timeout: 10_000 }, () => {
  test('a missing file', async () => {
    await refuses(
      'graders/missing.js',
      {},
      /criterion "check": the grader file graders\/missing\.js does not exist/,
      new RegExp(`looked for ${escape(path.join(dir, 'graders', 'missing.js'))}`),
    );
  });

  test('a file that is not JavaScript or TypeScript', async () => {
    await refuses(
      write('grader.py', 'def grade(): pass\n'),
      {},
      /grader\.py is not a JavaScript or TypeScript file/,
    );
  });

  test('a syntax error, with the file and line', async () => {
    const broken = 'export default function () {\n  return (\n}\n';
    await refuses(
      write('bad.mjs', broken),
      {},
      /^criterion "check": bad\.mjs:3:\d+ has a syntax error: /,
    );
    await refuses(
      write('bad.cjs', 'module.exports = function () {\n  return (\n};\n'),
      {},
      /^criterion "check": bad\.cjs:3 has a syntax error: /,
    );
    await refuses(
      write('bad.ts', 'export default (x: number =>\n  x;\n'),
      {},
      /^criterion "check": bad\.ts:1:\d+ has a syntax error: /,
    );
  });

  test('a file that throws while loading', async () => {
    await refuses(
      write(
        'load-throws.mjs',
        "const x = 1;\nthrow new Error('no config');\nexport default () => x;\n",
      ),
      {},
      /load-throws\.mjs could not be loaded: Error: no config \(at load-throws\.mjs:2:\d+\)/,
    );
  });

  test('a missing export, naming the exports there are', async () => {
    const file = write('exports.mjs', 'export const a = () => true;\nexport const b = 2;\n');
    await refuses(
      file,
      { function: 'nope' },
      /exports\.mjs has no export named "nope" \(it exports a, b\)/,
    );
    await refuses(file, {}, /exports\.mjs has no default export \(it exports a, b\)/);
    await refuses(
      file,
      { function: 'b' },
      /the export "b" of exports\.mjs is a number, not a function/,
    );
  });

  test('a file that never finishes loading', async () => {
    const file = write('load-loop.mjs', 'while (true) {}\nexport default () => true;\n');
    const started = Date.now();
    await assert.rejects(
      createCodeGrader(criterion(file), suiteFile, { loadTimeoutMs: 300 }),
      /load-loop\.mjs did not finish loading within 300 ms/,
    );
    assert.ok(Date.now() - started < 3000, 'the load timeout fired late');
  });
});

describe('workspace trust', () => {
  const criteria: Criterion[] = [
    { name: 'short', type: 'contains', value: 'x' },
    { name: 'shape', type: 'code', file: 'a.js' },
    { name: 'style', type: 'code', file: 'b.ts' },
  ];

  test('an untrusted workspace refuses code criteria, naming them', () => {
    assert.throws(
      () => assertCodeGradersAllowed(criteria, false),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.match(
          e.message,
          /^code graders run workspace code; they run only in a trusted workspace/,
        );
        assert.match(e.message, /Manage Workspace Trust/);
        assert.match(e.message, /remove the code criteria "shape", "style"/);
        return true;
      },
    );
  });

  test('a trusted workspace, or a suite without code criteria, passes', () => {
    assert.doesNotThrow(() => assertCodeGradersAllowed(criteria, true));
    assert.doesNotThrow(() => assertCodeGradersAllowed(criteria.slice(0, 1), false));
  });
});

describe('the process lifetime', () => {
  // A child process grades with real workers and must then end by itself: idle workers do
  // not hold it, and close() ends a call still running (a busy worker does hold it).
  for (const closes of [true, false]) {
    test(`the process exits after grading ${closes ? 'and close() during a call' : 'without close()'}`, async () => {
      const graderFile = write(
        'exit.mjs',
        "export default ({ output }) => output === 'hang' ? new Promise(() => {}) : output === 'ok';\n",
      );
      const script = write(
        `exit-${closes}.ts`,
        [
          `import { createCodeGrader } from ${JSON.stringify(path.join(REPO, 'src/core/evals/codeGrader.ts'))};`,
          'const grade = (output: string) => ({ output, case: { vars: {} }, vars: {} });',
          'async function main(): Promise<void> {',
          `  const c = { name: 'check', type: 'code' as const, file: ${JSON.stringify(graderFile)}, timeoutMs: 60_000 };`,
          `  const g = await createCodeGrader(c, ${JSON.stringify(suiteFile)}, { concurrency: 4 });`,
          "  const rs = await Promise.all(['ok', 'ok', 'no'].map((o) => g.grade(grade(o))));",
          "  process.stdout.write(rs.map((r) => r.pass).join(','));",
          closes
            ? "  const hung = g.grade(grade('hang'));\n  await new Promise((r) => setTimeout(r, 100));\n  await g.close();\n  process.stdout.write(' ' + (await hung).reason);"
            : '',
          '}',
          'void main();',
        ].join('\n'),
      );
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(dir, script)], {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const { code, signal } = await waitExit(child);
      clearTimeout(deadline);
      assert.equal(signal, null, `the process did not exit by itself (killed): ${out} ${err}`);
      assert.equal(code, 0, err);
      assert.equal(
        out,
        closes
          ? 'true,true,false the code grader was closed while it graded this case'
          : 'true,true,false',
      );
    });
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
