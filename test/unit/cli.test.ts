import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { COMMANDS, main } from '../../src/cli/main.ts';
import { resolveStoreDir } from '../../src/cli/context.ts';
import { startFakeOpenAI } from '../fixtures/openaiServer.ts';
import { REPO, removeDir, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

interface Result {
  code: number;
  out: string;
  err: string;
}

async function mlops(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t), env, cwd });
  return { code, out, err };
}

function workspace(): string {
  const d = tempDir('mlops-cli-');
  dirs.push(d);
  return d;
}

describe('mlops CLI', () => {
  test('a shell-script workflow: start, log everything, end, list, show, search, export', async () => {
    const ws = workspace();
    const start = await mlops(ws, [
      'run',
      'start',
      '-e',
      'mnist',
      '--name',
      'baseline',
      '--tag',
      'team=nlp',
      '--no-git',
    ]);
    assert.equal(start.code, 0, start.err);
    const runId = start.out.trim();
    assert.match(runId, /^[0-9a-f]{32}$/);
    const env = { MLOPS_RUN_ID: runId };
    for (const args of [
      ['log', 'param', 'lr', '0.01'],
      ['log', 'metric', 'loss', '0.5', '--step', '1'],
      ['log', 'metric', 'loss', '0.25', '--step', '2'],
      ['log', 'metric', 'weird', 'nan'],
      ['log', 'tag', 'stage', 'dev'],
    ]) {
      const r = await mlops(ws, args, env);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    }
    fs.writeFileSync(path.join(ws, 'data.csv'), 'x,y\n1,2\n3,4\n');
    const ds = await mlops(ws, ['log', 'dataset', 'data.csv', '--context', 'train', '--json'], env);
    assert.equal(ds.code, 0, ds.err);
    assert.equal(JSON.parse(ds.out).rowCount, 2);
    fs.writeFileSync(path.join(ws, 'model.bin'), 'm');
    const art = await mlops(ws, ['log', 'artifact', 'model.bin', '--path', 'model'], env);
    assert.equal(art.out, 'model/model.bin\n');
    assert.equal((await mlops(ws, ['run', 'end'], env)).code, 0);

    const list = await mlops(ws, ['runs', 'list', '--json']);
    const runs = JSON.parse(list.out).runs;
    assert.equal(runs.length, 1);
    assert.equal(runs[0].info.status, 'FINISHED');
    assert.equal(runs[0].params.lr, '0.01');
    assert.equal(runs[0].metrics.loss.value, 0.25);
    assert.equal(runs[0].metrics.weird.value, 'NaN', 'NaN is printed as a string in JSON');
    assert.equal(runs[0].tags.team, 'nlp');

    const human = await mlops(ws, ['runs', 'list']);
    assert.match(human.out, /RUN ID\s+NAME\s+STATUS/);
    assert.match(human.out, /baseline\s+FINISHED/);

    const show = await mlops(ws, ['runs', 'show', runId.slice(0, 8)]);
    assert.match(show.out, /Experiment mnist \(1\)/);
    assert.match(show.out, /loss\s+0\.25\s+0\.25\s+0\.5\s+2\s+2/);
    assert.match(show.out, /data\.csv/);
    assert.match(show.out, /model\//);

    const hit = await mlops(ws, [
      'runs',
      'search',
      "metrics.loss < 0.3 and params.lr = '0.01'",
      '--json',
    ]);
    assert.equal(JSON.parse(hit.out).runs.length, 1);
    const miss = await mlops(ws, ['runs', 'search', 'metrics.loss > 1', '--fail-if-empty']);
    assert.equal(miss.code, 1, 'an empty search with --fail-if-empty is a failed check');

    const csv = await mlops(ws, ['export', runId, '--format', 'csv']);
    assert.deepEqual(csv.out.trim().split('\n').slice(0, 3), [
      'run_id,key,step,timestamp,value',
      `${runId},loss,1,${csv.out.split('\n')[1]!.split(',')[3]},0.5`,
      `${runId},loss,2,${csv.out.split('\n')[2]!.split(',')[3]},0.25`,
    ]);
    const json = JSON.parse((await mlops(ws, ['export', runId])).out);
    assert.deepEqual(
      json.metricHistory.loss.map((p: { value: number }) => p.value),
      [0.5, 0.25],
    );

    const exps = JSON.parse((await mlops(ws, ['experiments', 'list', '--json'])).out);
    assert.deepEqual(
      exps.map((e: { name: string; runCount: number }) => [e.name, e.runCount]),
      [
        ['Default', 0],
        ['mnist', 1],
      ],
    );
  });

  test('errors: one line on stderr that says what to do, exit 2', async () => {
    const ws = workspace();
    const noRun = await mlops(ws, ['log', 'param', 'a', 'b']);
    assert.equal(noRun.code, 2);
    assert.match(noRun.err, /^mlops log param: which run\? Pass --run <id>, or set MLOPS_RUN_ID/);
    assert.equal(noRun.err.trim().split('\n').length, 1);

    const badFlag = await mlops(ws, ['runs', 'list', '--bogus']);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.err, /Unknown option '--bogus'.*mlops runs list --help/);

    const unknown = await mlops(ws, ['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command 'frobnicate'/);

    const start = await mlops(ws, ['run', 'start', '--no-git']);
    const env = { MLOPS_RUN_ID: start.out.trim() };
    await mlops(ws, ['log', 'param', 'lr', '1'], env);
    const changed = await mlops(ws, ['log', 'param', 'lr', '2'], env);
    assert.equal(changed.code, 2);
    assert.match(changed.err, /Param 'lr' .* '1'; it cannot be changed to '2'/);

    const badValue = await mlops(ws, ['log', 'metric', 'loss', 'abc'], env);
    assert.match(badValue.err, /<value> must be a number, nan, inf or -inf \(got 'abc'\)/);

    const badFilter = await mlops(ws, ['runs', 'search', 'metrics.acc >> 1']);
    assert.equal(badFilter.code, 2);
    assert.match(badFilter.err, /column/);
  });

  test('--help works on every command and lists its usage', async () => {
    const ws = workspace();
    for (const c of COMMANDS) {
      const r = await mlops(ws, [...c.name.split(' '), '--help']);
      assert.equal(r.code, 0, c.name);
      assert.ok(r.out.includes(`Usage: ${c.usage}`), c.name);
      assert.match(r.out, /--store <dir>/);
    }
    const top = await mlops(ws, ['--help']);
    for (const c of COMMANDS) assert.ok(top.out.includes(c.name), c.name);
  });

  test('store location: --store, then MLOPS_STORE, then the nearest .mlops upwards', () => {
    const ws = workspace();
    const nested = path.join(ws, 'a', 'b');
    fs.mkdirSync(nested, { recursive: true });
    assert.equal(resolveStoreDir(undefined, {}, nested), path.join(nested, '.mlops'));
    fs.mkdirSync(path.join(ws, '.mlops'));
    assert.equal(resolveStoreDir(undefined, {}, nested), path.join(ws, '.mlops'));
    assert.equal(resolveStoreDir(undefined, { MLOPS_STORE: '/x/y' }, nested), '/x/y');
    assert.equal(resolveStoreDir('rel', { MLOPS_STORE: '/x/y' }, nested), path.join(nested, 'rel'));
  });

  test('store check and repair: a damaged store is reported (exit 1), repaired from its backups', async () => {
    const ws = workspace();
    const start = await mlops(ws, ['run', 'start', '--no-git']);
    const env = { MLOPS_RUN_ID: start.out.trim() };
    await mlops(ws, ['log', 'metric', 'm', '1'], env);
    await mlops(ws, ['store', 'compact']);
    await mlops(ws, ['log', 'metric', 'm', '2', '--step', '1'], env);
    await mlops(ws, ['store', 'compact']);
    await mlops(ws, ['log', 'metric', 'm', '3', '--step', '2'], env);
    const db = path.join(ws, '.mlops', 'store.db');
    fs.writeFileSync(db, 'garbage'.repeat(100));
    const check = await mlops(ws, ['store', 'check']);
    assert.equal(check.code, 1);
    assert.match(check.out, /problem: .*store\.db is not an MLOps Workbench store/);
    const list = await mlops(ws, ['runs', 'list']);
    assert.equal(list.code, 2);
    assert.match(list.err, /store\.db is not an MLOps Workbench store.*mlops store repair/);
    const repair = await mlops(ws, ['store', 'repair', '--json']);
    assert.equal(repair.code, 0, repair.out + repair.err);
    const report = JSON.parse(repair.out);
    assert.equal(report.base, 'store.db.prev');
    assert.equal(
      fs.readFileSync(path.join(report.backupDir, 'store.db'), 'utf8'),
      'garbage'.repeat(100),
      'the damaged file was kept',
    );
    const after = JSON.parse((await mlops(ws, ['runs', 'show', env.MLOPS_RUN_ID, '--json'])).out);
    assert.equal(after.metrics.m.count, 3, 'every point is back');
    assert.equal((await mlops(ws, ['store', 'check'])).code, 0);
  });

  test('the bundled binary runs (dist/cli.js)', () => {
    const ws = workspace();
    const bin = path.join(REPO, 'dist', 'cli.js');
    assert.ok(fs.existsSync(bin), 'npm test builds dist/ first');
    const r = spawnSync(process.execPath, [bin, 'run', 'start', '--no-git', '--json'], {
      cwd: ws,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).status, 'RUNNING');
    const bad = spawnSync(process.execPath, [bin, 'runs', 'show', 'nope'], {
      cwd: ws,
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /No run with id nope/);
  });
});

describe('mlops models', () => {
  test('register from a run, alias with a reason, show by URI and history, clear errors', async () => {
    const ws = workspace();
    const runId = (await mlops(ws, ['run', 'start', '--name', 'train', '--no-git'])).out.trim();
    const r1 = await mlops(ws, [
      'models',
      'register',
      'clf',
      `runs:/${runId}/model`,
      '--run',
      runId.slice(0, 8),
    ]);
    assert.equal(r1.code, 0, r1.err);
    assert.equal(r1.out, 'clf version 1\n');
    assert.equal(
      (await mlops(ws, ['models', 'register', 'clf', 's3://bucket/m'])).out,
      'clf version 2\n',
    );
    assert.equal((await mlops(ws, ['models', 'alias', 'clf', 'champion', '1'])).code, 0);
    const moved = await mlops(ws, [
      'models',
      'alias',
      'clf',
      '@champion',
      '2',
      '--reason',
      'f1 +2%',
    ]);
    assert.match(moved.err, /@champion now points at clf version 2 \(was 1\)/);

    const shown = JSON.parse(
      (await mlops(ws, ['models', 'show', 'clf', '--history', '--json'])).out,
    );
    assert.deepEqual(shown.aliases, { champion: 2 });
    assert.deepEqual(
      shown.versions.map((v: { version: number; runId: string | null }) => [v.version, v.runId]),
      [
        [2, null],
        [1, runId],
      ],
    );
    assert.deepEqual(
      shown.aliasHistory.map((h: { from: number | null; to: number; reason: string | null }) => [
        h.from,
        h.to,
        h.reason,
      ]),
      [
        [null, 1, null],
        [1, 2, 'f1 +2%'],
      ],
    );
    const byUri = JSON.parse(
      (await mlops(ws, ['models', 'show', 'models:/clf@champion', '--json'])).out,
    );
    assert.equal(byUri.source, 's3://bucket/m');

    const unknown = await mlops(ws, ['models', 'show', 'models:/clf@staging']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.err, /Model clf has no alias @staging \(it has @champion\)/);
    const bad = await mlops(ws, ['models', 'alias', 'clf', 'champion', 'two']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /<version> must be a number/);
    const listed = await mlops(ws, ['models', 'list']);
    assert.match(listed.out, /clf\s+2\s+2\s+@champion=v2/);
  });
});

describe('mlops prompts', () => {
  test('register a file, re-register unchanged (no-op), edit, diff, alias, render', async () => {
    const ws = workspace();
    fs.mkdirSync(path.join(ws, 'prompts'));
    const file = path.join(ws, 'prompts', 'summarize.prompt.md');
    fs.writeFileSync(
      file,
      '---\nmodel: gpt-4o-mini\ntemperature: 0.2\n---\nSummarize {{ text }} in {{ n }} words.\n',
    );
    const first = await mlops(ws, [
      'prompts',
      'register',
      'prompts/summarize.prompt.md',
      '-m',
      'first',
    ]);
    assert.equal(first.code, 0, first.err);
    assert.equal(first.out, 'Registered summarize version 1.\n');
    const again = await mlops(ws, ['prompts', 'register', 'prompts/summarize.prompt.md']);
    assert.equal(again.out, 'summarize version 1 already has this text; nothing was registered.\n');
    fs.writeFileSync(
      file,
      '---\nmodel: gpt-4o-mini\ntemperature: 0.5\n---\nSummarize {{ text }} in {{ n }} bullets for {{ audience }}.\n',
    );
    const second = JSON.parse(
      (await mlops(ws, ['prompts', 'register', 'prompts/summarize.prompt.md', '--json'])).out,
    );
    assert.equal(second.version, 2);
    assert.equal(second.created, true);
    assert.equal(second.sourceFile, 'prompts/summarize.prompt.md');
    assert.match(second.sourceDigest, /^[0-9a-f]{64}$/);

    assert.equal((await mlops(ws, ['prompts', 'alias', 'summarize', 'champion', '1'])).code, 0);
    const diff = await mlops(ws, [
      'prompts',
      'diff',
      'prompts:/summarize@champion',
      'prompts:/summarize/2',
    ]);
    assert.equal(diff.code, 0, diff.err);
    assert.match(diff.out, /variables \+\{\{audience\}\}/);
    assert.match(diff.out, /temperature 0\.2 -> 0\.5/);
    assert.match(diff.out, /^-Summarize \{\{ text \}\} in \{\{ n \}\} words\.$/m);
    assert.match(
      diff.out,
      /^\+Summarize \{\{ text \}\} in \{\{ n \}\} bullets for \{\{ audience \}\}\.$/m,
    );
    // A file against a version: the file now equals v2.
    const same = await mlops(ws, [
      'prompts',
      'diff',
      'prompts/summarize.prompt.md',
      'prompts:/summarize/2',
    ]);
    assert.match(same.out, /are the same/);

    const rendered = await mlops(ws, [
      'prompts',
      'render',
      'prompts:/summarize@champion',
      '--var',
      'text=the report',
      '--var',
      'n=3',
    ]);
    assert.equal(rendered.out, 'Summarize the report in 3 words.\n');
    const missing = await mlops(ws, [
      'prompts',
      'render',
      'prompts:/summarize/2',
      '--var',
      'text=x',
    ]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /"n"/);
    assert.match(missing.err, /"audience"/);
    const unknown = await mlops(ws, [
      'prompts',
      'render',
      'prompts:/summarize/1',
      '--var',
      'text=x',
      '--var',
      'n=1',
      '--var',
      'tone=dry',
    ]);
    assert.match(unknown.err, /Unknown variable "tone"/);
    const notPrompt = await mlops(ws, ['prompts', 'register', 'notes.md']);
    assert.equal(notPrompt.code, 2);
    assert.match(notPrompt.err, /not a prompt file/);
  });
});

describe('mlops eval', () => {
  test('runs a suite against a local endpoint: gates, JUnit, step summary, stored run, comparison', async () => {
    const server = await startFakeOpenAI({
      rules: [
        { match: 'Paris', reply: 'The capital is Paris.' },
        { match: 'Rome', reply: 'I do not know.' },
      ],
    });
    try {
      const ws = workspace();
      fs.mkdirSync(path.join(ws, 'evals'));
      fs.writeFileSync(
        path.join(ws, 'evals', 'capital.prompt.md'),
        'Name the capital; the answer is {{ city }}.\n',
      );
      fs.writeFileSync(
        path.join(ws, 'evals', 'cases.jsonl'),
        '{"id": "fr", "city": "Paris", "expected": "Paris"}\n{"id": "it", "city": "Rome", "expected": "Rome"}\n',
      );
      fs.writeFileSync(
        path.join(ws, 'evals', 'capitals.eval.yaml'),
        [
          'name: capitals',
          'prompt: capital.prompt.md',
          'dataset:',
          '  path: cases.jsonl',
          'provider:',
          `  baseUrl: ${server.url}`,
          '  model: fake-small',
          'criteria:',
          '  - name: names-the-city',
          '    type: icontains',
          '    value: [paris, rome]',
          '',
        ].join('\n'),
      );
      const summary = path.join(ws, 'summary.md');
      const env = { GITHUB_STEP_SUMMARY: summary };
      const failing = await mlops(
        ws,
        ['eval', 'evals/capitals.eval.yaml', '--min-pass-rate', '0.9', '--junit', 'junit.xml'],
        env,
      );
      assert.equal(failing.code, 1, failing.err);
      assert.match(failing.out, /FAIL: pass rate 50\.0% < 90\.0%/);
      assert.match(failing.err, /\[eval\] 2\/2 done: 1 passed, 1 failed, 0 errored/);
      const junit = fs.readFileSync(path.join(ws, 'junit.xml'), 'utf8');
      assert.match(junit, /<testsuite name="capitals" tests="2" failures="1" errors="0"/);
      assert.match(
        junit,
        /<testcase classname="capitals" name="it"[^>]*>\s*<failure message="names-the-city: /,
      );
      assert.match(fs.readFileSync(summary, 'utf8'), /### Eval capitals: 50\.0% passed/);

      const passing = await mlops(ws, [
        'eval',
        'evals/capitals.eval.yaml',
        '--min-pass-rate',
        '0.5',
        '--json',
      ]);
      assert.equal(passing.code, 0, passing.err);
      const json = JSON.parse(passing.out);
      assert.deepEqual(json.summary.resultCounts, { total: 2, passed: 1, failed: 1, errored: 0 });
      assert.equal(json.summary.cachedCalls, 2, 'the second run answers from the cache');
      assert.equal(json.comparison.passRateChange, 0);
      assert.deepEqual(json.comparison.flipped, []);
      // Stored as runs of the Evals experiment, with metrics and the full results.
      const runs = JSON.parse(
        (await mlops(ws, ['runs', 'list', '-e', 'Evals', '--json'])).out,
      ).runs;
      assert.equal(runs.length, 2);
      assert.equal(runs[0].metrics.pass_rate.value, 0.5);
      assert.equal(runs[0].params.model, 'fake-small');
      assert.equal(runs[0].info.status, 'FINISHED');

      const bad = await mlops(ws, ['eval', 'evals/capitals.eval.yaml', '--min-pass-rate', '2']);
      assert.equal(bad.code, 2);
      assert.match(bad.err, /--min-pass-rate takes a number from 0 to 1/);

      // --max-cost: fake-small has no shipped price, so the cost is unknown and the gate fails
      // until MLOPS_PRICES gives one; then it holds or not by the figure.
      const unknown = await mlops(ws, [
        'eval',
        'evals/capitals.eval.yaml',
        '--max-cost',
        '1',
        '--no-cache',
      ]);
      assert.equal(unknown.code, 1, unknown.err);
      assert.match(unknown.out, /FAIL: cost unknown \(no price for fake-small; set MLOPS_PRICES\)/);
      const prices = {
        MLOPS_PRICES: JSON.stringify({ 'fake-small': { input: 1000, output: 1000 } }),
      };
      const tooDear = await mlops(
        ws,
        ['eval', 'evals/capitals.eval.yaml', '--max-cost', '0.001', '--no-cache', '--json'],
        prices,
      );
      assert.equal(tooDear.code, 1, tooDear.err);
      const dear = JSON.parse(tooDear.out);
      assert.ok(dear.summary.costUsd > 0.001, String(dear.summary.costUsd));
      assert.match(dear.gates[0], /^FAIL: cost \$[\d.]+ > \$0\.001/);
      const cheap = await mlops(
        ws,
        ['eval', 'evals/capitals.eval.yaml', '--max-cost', '100', '--no-cache'],
        prices,
      );
      assert.equal(cheap.code, 0, cheap.err);
      assert.match(cheap.out, /PASS: cost \$[\d.]+ <= \$100\.00/);
      const badPrices = await mlops(ws, ['eval', 'evals/capitals.eval.yaml'], {
        MLOPS_PRICES: '{"fake-small": {"input": "cheap", "output": 1}}',
      });
      assert.equal(badPrices.code, 2);
      assert.match(badPrices.err, /MLOPS_PRICES\["fake-small"\]\.input/);
    } finally {
      await server.close();
    }
  });
});
