import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { SpanRecord } from '../../src/core/model/tracing.ts';
import { guardTraces, recordHourlyFlags } from '../../src/core/tracing/guardrails.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { removeDir, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR);

function chat(traceId: string, atMs: number, answer: string, question = 'Hello'): SpanRecord {
  const start = BigInt(atMs) * 1_000_000n;
  return {
    traceId,
    spanId: traceId.slice(0, 16),
    parentSpanId: null,
    name: 'chat',
    kind: 3,
    startNs: String(start),
    endNs: String(start + 1_000_000n),
    statusCode: 1,
    statusMessage: '',
    traceState: '',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.input.messages': JSON.stringify([{ role: 'user', content: question }]),
      'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', content: answer }]),
    },
    events: [],
    links: [],
    resource: {},
    scope: null,
    dropped: { attributes: 0, events: 0, links: 0 },
  };
}

describe('guardrails on incoming traces', () => {
  test('PII in an answer or a question flags the span; sampling and memory skip the rest', async () => {
    const root = tempDir('mlops-guard-');
    dirs.push(root);
    const t = await Tracking.open({ dir: path.join(root, '.mlops'), watch: false, codeRoot: root });
    try {
      const ids = ['a1', 'b2', 'c3', 'd4'].map((x) => x.repeat(16));
      await t.traces.ingest([
        chat(ids[0]!, T0 + 10, 'Write to ada@example.com'),
        chat(ids[1]!, T0 + 20, 'Paris', 'My card is 4111 1111 1111 1111'),
        chat(ids[2]!, T0 + HOUR + 5, 'Fine.'),
        chat(ids[3]!, T0 + HOUR + 6, 'call +1 202 555 0143'),
      ]);
      const checked = new Set<string>();
      const rolls = [0.1, 0.1, 0.1, 0.9]; // the last trace is outside a 0.5 sample
      const pass = await guardTraces(
        t,
        ids,
        { checks: ['pii'], sampleRate: 0.5 },
        {
          checked,
          random: () => rolls.shift()!,
        },
      );
      assert.deepEqual(pass, { checkedSpans: 3, flaggedSpans: 2 });
      const a = t.traces.get(ids[0]!)!.spans[0]!;
      assert.deepEqual(
        a.flags.map((f) => [f.check, f.reason]),
        [['pii', 'email in the output']],
      );
      assert.match(t.traces.get(ids[1]!)!.spans[0]!.flags[0]!.reason, /card in the input/);
      assert.equal(t.traces.summary(ids[3]!)!.flagged, 0, 'not sampled');
      // A second pass over the same traces checks nothing again.
      assert.deepEqual(
        await guardTraces(
          t,
          ids,
          { checks: ['pii'], sampleRate: 0.5 },
          { checked, random: () => 0 },
        ),
        { checkedSpans: 0, flaggedSpans: 0 },
      );
      assert.deepEqual(
        t.traces
          .search({ filter: 'trace.flagged > 0' })
          .traces.map((x) => x.traceId)
          .sort(),
        [ids[0], ids[1]],
      );

      // Hour T0 had two flagged spans, hour T0+1 none; only complete hours are logged.
      assert.equal(await recordHourlyFlags(t, ['pii'], T0 + 2 * HOUR + 1, 2), 2);
      const exp = t.getExperimentByName('Monitoring')!;
      const run = t.searchRuns({ experimentIds: [exp.experimentId] }).items[0]!;
      assert.equal(run.info.runName, 'trace guardrails');
      const history = t.getMetricHistory(run.info.runId, 'guardrails.pii.flagged').items;
      assert.deepEqual(
        history.map((p) => [p.step - T0 / HOUR, p.value]),
        [
          [0, 2],
          [1, 0],
        ],
      );
      assert.equal(
        await recordHourlyFlags(t, ['pii'], T0 + 2 * HOUR + 10, 2),
        0,
        'nothing new to log',
      );
    } finally {
      await t.close();
    }
  });
});
