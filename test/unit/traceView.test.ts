import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TraceSpan } from '../../src/core/tracing/traces.ts';
import { meaningOf } from '../../src/core/tracing/conventions.ts';
import { spanDetailView, traceView } from '../../src/extension/webviews/traceViewModel.ts';
import type { SpanRowView } from '../../src/shared/protocol.ts';
import {
  barGeometry,
  criticalPath,
  formatDurationUs,
  orderSpans,
  packSpans,
  panWindow,
  unpackSpans,
  visibleIndices,
  zoomWindow,
} from '../../src/shared/traceView.ts';

function aRow(
  spanId: string,
  parentSpanId: string | null,
  startUs: number,
  durationUs: number,
): SpanRowView {
  return {
    spanId,
    parentSpanId,
    name: spanId,
    type: 'UNKNOWN',
    startUs,
    durationUs,
    status: 1,
    flags: [],
    verdicts: [],
  };
}

//  root 0-100: a 0-30 (a1 5-10), b 20-90 (b1 25-80), c 40-60; orphan's parent never arrived.
const ROWS = [
  aRow('c', 'root', 40, 20),
  aRow('b1', 'b', 25, 55),
  aRow('root', null, 0, 100),
  aRow('a', 'root', 0, 30),
  aRow('b', 'root', 20, 70),
  aRow('a1', 'a', 5, 5),
  aRow('orphan', 'gone', 50, 1),
];

describe('the trace inspector arithmetic', () => {
  test('rows packed into columns come back as they were, each name and type stored once', () => {
    const rows = [
      ...ROWS,
      { ...aRow('flagged', 'root', 60, 5), name: 'a', flags: ['pii'] },
      {
        ...aRow('judged', 'root', 70, 5),
        status: 2,
        verdicts: [{ name: 'exact', pass: false, reason: 'no' }],
      },
    ];
    const c = packSpans(rows);
    assert.deepEqual(unpackSpans(c), rows);
    assert.deepEqual(c.parent.slice(0, 2), [2, 4], 'parents by index');
    assert.equal(c.parent[6], 'gone', 'a parent not in the trace keeps its id');
    assert.equal(c.parent[2], null);
    assert.equal(c.strings.filter((x) => x === 'UNKNOWN').length, 1);
    assert.equal(c.marks.length, 2);
    assert.deepEqual(unpackSpans(packSpans([])), []);
  });

  test('tree order: depth first, children by start, orphans at the top', () => {
    const o = orderSpans(ROWS);
    assert.deepEqual(
      o.map((x) => `${'  '.repeat(x.depth)}${x.row.spanId}`),
      ['root', '  a', '    a1', '  b', '    b1', '  c', 'orphan'],
    );
    assert.equal(o[2]!.parent, 1);
    assert.equal(o[0]!.childCount, 3);
    // A cycle of parents cannot loop.
    const cyclic = orderSpans([aRow('x', 'y', 0, 1), aRow('y', 'x', 0, 1), aRow('r', null, 0, 2)]);
    assert.deepEqual(
      cyclic.map((x) => x.row.spanId),
      ['r'],
    );
    // 10,000 deep does not overflow the stack.
    const deep = Array.from({ length: 10_000 }, (_, i) =>
      aRow(`s${i}`, i ? `s${i - 1}` : null, i, 1),
    );
    assert.equal(orderSpans(deep).length, 10_000);
  });

  test('the critical path follows the child that ends last', () => {
    assert.deepEqual([...criticalPath(ROWS)], ['root', 'b', 'b1']);
    assert.deepEqual([...criticalPath([])], []);
  });

  test('collapsing hides descendants only', () => {
    const o = orderSpans(ROWS);
    const shown = (ids: string[]) => visibleIndices(o, new Set(ids)).map((i) => o[i]!.row.spanId);
    assert.deepEqual(shown([]), ['root', 'a', 'a1', 'b', 'b1', 'c', 'orphan']);
    assert.deepEqual(shown(['a']), ['root', 'a', 'b', 'b1', 'c', 'orphan']);
    assert.deepEqual(shown(['root']), ['root', 'orphan']);
    assert.deepEqual(
      shown(['a1']),
      ['root', 'a', 'a1', 'b', 'b1', 'c', 'orphan'],
      'a leaf has nothing to hide',
    );
  });

  test('bars, zoom and pan stay inside the trace', () => {
    assert.deepEqual(barGeometry(aRow('x', null, 25, 50), { startUs: 0, endUs: 100 }), {
      left: 25,
      width: 50,
    });
    assert.deepEqual(barGeometry(aRow('x', null, 0, 100), { startUs: 50, endUs: 100 }), {
      left: 0,
      width: 100,
    });
    assert.equal(barGeometry(aRow('x', null, 0, 10), { startUs: 50, endUs: 100 }), null);
    assert.equal(
      barGeometry(aRow('x', null, 60, 0), { startUs: 0, endUs: 100 })!.width,
      0.15,
      'instant spans show',
    );
    const z = zoomWindow({ startUs: 0, endUs: 100 }, 0.5, 50, 100);
    assert.deepEqual(z, { startUs: 25, endUs: 75 });
    assert.deepEqual(
      zoomWindow(z, 4, 50, 100),
      { startUs: 0, endUs: 100 },
      'no wider than the trace',
    );
    assert.deepEqual(panWindow(z, 1, 100), { startUs: 50, endUs: 100 });
    assert.deepEqual(panWindow(z, -5, 100), { startUs: 0, endUs: 50 });
  });

  test('durations read well at every scale', () => {
    assert.equal(formatDurationUs(250), '250 µs');
    assert.equal(formatDurationUs(4_560), '4.56 ms');
    assert.equal(formatDurationUs(123_800), '123.8 ms');
    assert.equal(formatDurationUs(2_500_000), '2.50 s');
    assert.equal(formatDurationUs(125_000_000), '2m05s');
  });
});

describe('what the inspector page gets', () => {
  function span(o: Partial<TraceSpan> & { spanId: string }): TraceSpan {
    const base = {
      traceId: 'ab'.repeat(16),
      parentSpanId: null,
      name: o.spanId,
      kind: 1,
      startNs: '1000000000',
      endNs: '1005000000',
      startUs: 1_000_000,
      endUs: 1_005_000,
      statusCode: 1 as const,
      statusMessage: '',
      traceState: '',
      attributes: {},
      events: [],
      links: [],
      resource: {},
      scope: null,
      dropped: { attributes: 0, events: 0, links: 0 },
      type: 'UNKNOWN' as const,
      model: null,
      tokensIn: null,
      tokensOut: null,
      cost: null,
      ttftMs: null,
      flags: [],
      ...o,
    };
    // The stored type column is what the conventions say, as on write.
    const meaning = meaningOf(base);
    return { ...base, type: o.type ?? meaning.type, meaning } as TraceSpan;
  }

  test('eval verdicts sit on the model call they judged; details carry chat and exceptions', () => {
    const chat = span({
      spanId: '02'.repeat(8),
      parentSpanId: '01'.repeat(8),
      name: 'chat',
      attributes: {
        'mlflow.spanType': 'CHAT_MODEL',
        'mlflow.spanInputs': {
          model: 'm',
          messages: [{ role: 'user', content: 'Capital of Peru?' }],
        },
        'mlflow.spanOutputs': { choices: [{ message: { role: 'assistant', content: 'Cusco' } }] },
      },
      events: [
        {
          name: 'exception',
          timeNs: '1002000000',
          attributes: {
            'exception.type': 'Err',
            'exception.message': 'late',
            'exception.stacktrace': 'Err: late\n at x',
          },
        },
      ],
    });
    const grade = span({
      spanId: '03'.repeat(8),
      parentSpanId: '01'.repeat(8),
      name: 'grade exact',
      attributes: {
        'mlflow.spanType': 'EVALUATOR',
        'mlflow.spanOutputs': { pass: false, score: 0, reason: 'expected Lima' },
      },
    });
    const root = span({ spanId: '01'.repeat(8), name: 'case', startUs: 999_000 });
    const view = traceView({
      summary: {
        traceId: 'ab'.repeat(16),
        requestId: `tr-${'ab'.repeat(16)}`,
        experimentId: '0',
        name: 'case',
        startMs: 1,
        durationMs: 6,
        state: 'OK',
        spanCount: 3,
        errorCount: 0,
        inputPreview: '',
        outputPreview: '',
        tokensIn: null,
        tokensOut: null,
        cost: null,
        ttftMs: null,
        sessionId: null,
        userId: null,
        runId: null,
        promptName: 'capitals',
        promptVersion: 2,
        evalRunId: 'r1',
        evalCase: '1/0',
        flagged: 0,
        tags: {},
        metadata: {},
      },
      spans: [root, chat, grade],
      evaluators: [grade],
      assessments: [],
    });
    const rows = unpackSpans(view.spans);
    const chatRow = rows.find((s) => s.name === 'chat')!;
    assert.deepEqual(chatRow.verdicts, [{ name: 'exact', pass: false, reason: 'expected Lima' }]);
    assert.equal(rows.find((s) => s.name === 'case')!.startUs, 0, 'times from the trace start');
    assert.equal(chatRow.startUs, 1000);
    assert.deepEqual(view.prompt, { name: 'capitals', version: 2 });
    const d = spanDetailView(chat);
    assert.deepEqual(d.inputMessages, [{ role: 'user', content: 'Capital of Peru?' }]);
    assert.equal(d.canAddToDataset, true);
    assert.deepEqual(d.exceptions, [
      { type: 'Err', message: 'late', stacktrace: 'Err: late\n at x' },
    ]);
    assert.equal(d.events[0]!.offsetUs, 2000);
    assert.equal(spanDetailView(grade).canAddToDataset, false);
  });
});
