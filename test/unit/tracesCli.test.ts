import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { parseAge } from '../../src/cli/commands/tracesCommands.ts';
import type { SpanRecord } from '../../src/core/model/tracing.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { removeDir, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

async function mlops(cwd: string, args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t), env: {}, cwd });
  return { code, out, err };
}

const NOW = Date.now();
function span(o: Partial<SpanRecord> & { agoMs: number }): SpanRecord {
  const { agoMs, ...rest } = o;
  const start = BigInt(NOW - agoMs) * 1_000_000n;
  return {
    traceId: 'ab'.repeat(16),
    spanId: '01'.repeat(8),
    parentSpanId: null,
    name: 'span',
    kind: 1,
    startNs: String(start),
    endNs: String(start + 1_500_000_000n),
    statusCode: 1,
    statusMessage: '',
    traceState: '',
    attributes: {},
    events: [],
    links: [],
    resource: {},
    scope: null,
    dropped: { attributes: 0, events: 0, links: 0 },
    ...rest,
  };
}

/** A workspace whose store holds a recent chat trace and a 40-day-old failing one. */
async function workspace() {
  const ws = tempDir('mlops-traces-cli-');
  dirs.push(ws);
  const t = await Tracking.open({ dir: path.join(ws, '.mlops'), watch: false, codeRoot: ws });
  await t.traces.ingest([
    span({ agoMs: 60_000, name: 'answer', attributes: { 'mlflow.spanType': 'CHAIN' } }),
    span({
      agoMs: 59_000,
      spanId: '02'.repeat(8),
      parentSpanId: '01'.repeat(8),
      name: 'chat',
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 20,
        'gen_ai.usage.output_tokens': 2,
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', content: 'Capital of Peru?' }]),
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', content: 'Lima' }]),
      },
    }),
    span({
      agoMs: 40 * 86_400_000,
      traceId: 'cd'.repeat(16),
      name: 'old',
      statusCode: 2,
      statusMessage: 'boom',
    }),
  ]);
  await t.close();
  fs.writeFileSync(
    path.join(ws, 'qa.eval.yaml'),
    'prompt: qa.prompt.md\ndataset:\n  path: qa.jsonl\nprovider:\n  baseUrl: http://127.0.0.1:9/v1\n  model: m\ncriteria:\n  - name: c\n    type: equals\n',
  );
  fs.writeFileSync(
    path.join(ws, 'qa.jsonl'),
    '{"input": "Capital of France?", "expected": "Paris"}\n',
  );
  return ws;
}

describe('mlops traces', () => {
  test('list, search, show, export as a person and as a script reads them', async () => {
    const ws = await workspace();
    const list = await mlops(ws, ['traces', 'list']);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^TRACE\s+NAME\s+STATE/);
    assert.match(list.out, /abababababab\s+answer\s+OK/);
    assert.match(list.out, /cdcdcdcdcdcd\s+old\s+ERROR/);
    const json = JSON.parse(
      (await mlops(ws, ['traces', 'search', "trace.status = 'ERROR'", '--json'])).out,
    );
    assert.deepEqual(
      json.traces.map((x: { name: string }) => x.name),
      ['old'],
    );
    assert.equal(json.nextPageToken, null);
    const none = await mlops(ws, ['traces', 'search', "span.type = 'TOOL'", '--fail-if-empty']);
    assert.equal(none.code, 1);
    const bad = await mlops(ws, ['traces', 'search', 'trace.colour = 1']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown trace attribute 'colour'/);

    const show = await mlops(ws, ['traces', 'show', 'ababab']);
    assert.equal(show.code, 0, show.err);
    assert.match(show.out, /Name\s+answer/);
    assert.match(show.out, /Tokens\s+20 in \/ 2 out/);
    assert.match(show.out, /^answer {2}\[CHAIN\] 1\.50 s$/m);
    assert.match(show.out, /^ {2}chat {2}\[CHAT_MODEL\] 1\.50 s {2}gpt-4o-mini · 20\/2 tokens$/m);
    const missing = await mlops(ws, ['traces', 'show', 'ffffff']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /Trace 'ffffff' not found/);

    const exported = await mlops(ws, [
      'traces',
      'export',
      '--filter',
      "trace.name = 'answer'",
      '--out',
      'out.json',
    ]);
    assert.equal(exported.code, 0, exported.err);
    const file = JSON.parse(fs.readFileSync(path.join(ws, 'out.json'), 'utf8'));
    assert.equal(file.traces[0].spans.length, 2);
    assert.equal(file.traces[0].spans[1].attributes['gen_ai.request.model'], 'gpt-4o-mini');
  });

  test('to-dataset adds the chat as a case once; prune removes the old trace', async () => {
    const ws = await workspace();
    const first = await mlops(ws, ['traces', 'to-dataset', 'ababab', '--suite', 'qa.eval.yaml']);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /Added case trace-abababab-02020202 to qa\.jsonl/);
    const lines = fs.readFileSync(path.join(ws, 'qa.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 2);
    assert.deepEqual(JSON.parse(lines[1]!), {
      id: 'trace-abababab-02020202',
      vars: {
        input: 'Capital of Peru?',
        messages: [{ role: 'user', content: 'Capital of Peru?' }],
      },
      expected: 'Lima',
    });
    const again = await mlops(ws, ['traces', 'to-dataset', 'ababab', '--suite', 'qa.eval.yaml']);
    assert.equal(again.code, 1);
    assert.match(again.out, /already has a case with these variables; nothing added/);
    assert.equal(fs.readFileSync(path.join(ws, 'qa.jsonl'), 'utf8').trim().split('\n').length, 2);

    const dry = await mlops(ws, ['traces', 'prune', '--older-than', '30d', '--dry-run']);
    assert.equal(dry.out, '1 trace would be deleted.\n');
    const prune = await mlops(ws, ['traces', 'prune', '--older-than', '30d', '--json']);
    assert.deepEqual(JSON.parse(prune.out), { deleted: 1, matched: 1, dryRun: false });
    const left = JSON.parse((await mlops(ws, ['traces', 'list', '--json'])).out);
    assert.deepEqual(
      left.traces.map((x: { name: string }) => x.name),
      ['answer'],
    );
    const noAge = await mlops(ws, ['traces', 'prune']);
    assert.equal(noAge.code, 2);
  });

  test('ages', () => {
    assert.equal(parseAge('30d'), 30 * 86_400_000);
    assert.equal(parseAge('1.5h'), 5_400_000);
    assert.equal(parseAge('250'), 250);
    assert.throws(() => parseAge('soon'), /is not an age/);
  });
});
