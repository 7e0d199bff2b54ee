import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { FilterError } from '../../src/core/model/errors.ts';
import type { Attributes, SpanRecord } from '../../src/core/model/tracing.ts';
import { meaningOf, preview } from '../../src/core/tracing/conventions.ts';
import { parseTraceFilter, parseTraceOrderBy } from '../../src/core/tracing/traceFilter.ts';
import { normalizeTraceId } from '../../src/core/tracing/traces.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { removeDir, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

let counter = 0;
const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');

/** A span record with defaults; times in ms from a fixed epoch. */
function aSpan(o: Partial<SpanRecord> & { startMs?: number; endMs?: number } = {}): SpanRecord {
  const start = BigInt(o.startMs ?? 1_700_000_000_000) * 1_000_000n;
  const end = BigInt(o.endMs ?? (o.startMs ?? 1_700_000_000_000) + 10) * 1_000_000n;
  const { startMs: _s, endMs: _e, ...rest } = o;
  return {
    traceId: hex(1, 32),
    spanId: hex(++counter, 16),
    parentSpanId: null,
    name: 'span',
    kind: 1,
    startNs: String(start),
    endNs: String(end),
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

const meaning = (attributes: Attributes, extra: Partial<SpanRecord> = {}) =>
  meaningOf(aSpan({ attributes, ...extra }));

describe('what a span means, per attribute convention', () => {
  test('MLflow: spanType (plain or JSON text), inputs/outputs, token usage, chat from OpenAI shapes', () => {
    const m = meaning({
      'mlflow.spanType': '"CHAT_MODEL"',
      'mlflow.spanInputs': JSON.stringify({
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        ],
      }),
      'mlflow.spanOutputs': {
        choices: [
          {
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } },
              ],
            },
          },
        ],
      },
      'mlflow.chat.tokenUsage': { input_tokens: 12, output_tokens: 3, total_tokens: 15 },
    });
    assert.equal(m.type, 'CHAT_MODEL');
    assert.equal(m.convention, 'mlflow');
    assert.equal(m.model, 'gpt-4o');
    assert.deepEqual([m.inputTokens, m.outputTokens], [12, 3]);
    assert.deepEqual(m.inputMessages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    assert.deepEqual(m.outputMessages, [
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }] },
    ]);
    // Autologged OpenAI responses carry their usage in the outputs.
    const auto = meaning({
      'mlflow.spanType': 'LLM',
      'mlflow.spanOutputs': {
        model: 'gpt-4o-mini',
        usage: { prompt_tokens: 7, completion_tokens: 2 },
      },
    });
    assert.deepEqual([auto.model, auto.inputTokens, auto.outputTokens], ['gpt-4o-mini', 7, 2]);
    // Retriever outputs as MLflow Documents.
    const r = meaning({
      'mlflow.spanType': 'RETRIEVER',
      'mlflow.spanOutputs': [
        { page_content: 'a', metadata: { id: 'x', source: 's' } },
        { page_content: 'b' },
      ],
    });
    assert.deepEqual(
      r.documents.map((d) => [d.id, d.content]),
      [
        ['x', 'a'],
        [undefined, 'b'],
      ],
    );
  });

  test('OpenInference: span kind, input/output values, flattened messages with tool calls, tokens, documents', () => {
    const m = meaning({
      'openinference.span.kind': 'LLM',
      'llm.model_name': 'claude-3-5-sonnet',
      'llm.token_count.prompt': 100,
      'llm.token_count.completion': 20,
      'llm.input_messages.0.message.role': 'system',
      'llm.input_messages.0.message.content': 'You are helpful.',
      'llm.input_messages.1.message.role': 'user',
      'llm.input_messages.1.message.contents.0.message_content.text': 'Weather?',
      'llm.output_messages.0.message.role': 'assistant',
      'llm.output_messages.0.message.tool_calls.0.tool_call.id': 't1',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'weather',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"city":"Oslo"}',
      'input.value': '{"q": "Weather?"}',
      'input.mime_type': 'application/json',
      'output.value': 'It is cold.',
      'session.id': 'abc',
      'user.id': 'u9',
    });
    assert.equal(m.type, 'LLM');
    assert.equal(m.convention, 'openinference');
    assert.equal(m.model, 'claude-3-5-sonnet');
    assert.deepEqual([m.inputTokens, m.outputTokens], [100, 20]);
    assert.deepEqual(m.inputs, { q: 'Weather?' });
    assert.equal(m.outputs, 'It is cold.');
    assert.deepEqual(m.inputMessages, [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Weather?' },
    ]);
    assert.deepEqual(m.outputMessages, [
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 't1', name: 'weather', arguments: '{"city":"Oslo"}' }],
      },
    ]);
    assert.deepEqual([m.sessionId, m.userId], ['abc', 'u9']);
    const r = meaning({
      'openinference.span.kind': 'RETRIEVER',
      'retrieval.documents.1.document.content': 'second',
      'retrieval.documents.1.document.score': 0.5,
      'retrieval.documents.0.document.content': 'first',
      'retrieval.documents.0.document.score': 0.9,
      'retrieval.documents.0.document.metadata': '{"source": "wiki"}',
    });
    assert.equal(r.type, 'RETRIEVER');
    assert.deepEqual(
      r.documents.map((d) => [d.content, d.score, d.metadata]),
      [
        ['first', 0.9, { source: 'wiki' }],
        ['second', 0.5, undefined],
      ],
    );
    assert.equal(
      meaning({ 'openinference.span.kind': 'TOOL', 'tool.name': 'search' }).toolName,
      'search',
    );
    assert.equal(meaning({ 'openinference.span.kind': 'EMBEDDING' }).type, 'EMBEDDING');
    assert.equal(meaning({ 'openinference.span.kind': 'RERANKER' }).type, 'RERANKER');
  });

  test('OpenTelemetry GenAI: operation, models, usage, messages in the current and the older form', () => {
    const current = meaning({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 50,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.conversation.id': 'conv-1',
      'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'Be terse.' }]),
      'gen_ai.input.messages': [
        { role: 'user', parts: [{ type: 'text', content: 'Add 2 and 3' }] },
        {
          role: 'assistant',
          parts: [{ type: 'tool_call', id: 'x', name: 'add', arguments: { a: 2, b: 3 } }],
        },
        { role: 'tool', parts: [{ type: 'tool_call_response', id: 'x', response: 5 }] },
      ],
      'gen_ai.output.messages': JSON.stringify([
        { role: 'assistant', parts: [{ type: 'text', content: '5' }], finish_reason: 'stop' },
      ]),
    });
    assert.equal(current.type, 'CHAT_MODEL');
    assert.equal(current.convention, 'gen_ai');
    assert.equal(current.model, 'gpt-4o-2024-08-06');
    assert.deepEqual([current.inputTokens, current.outputTokens], [50, 5]);
    assert.equal(current.sessionId, 'conv-1');
    assert.deepEqual(current.inputMessages, [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'Add 2 and 3' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'x', name: 'add', arguments: '{"a":2,"b":3}' }],
      },
      { role: 'tool', content: '5', toolCallId: 'x' },
    ]);
    assert.deepEqual(current.outputMessages, [{ role: 'assistant', content: '5' }]);

    const older = meaning({
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-3.5-turbo',
      'gen_ai.usage.prompt_tokens': 9,
      'gen_ai.usage.completion_tokens': 4,
      'gen_ai.prompt.0.role': 'user',
      'gen_ai.prompt.0.content': 'Hello',
      'gen_ai.completion.0.role': 'assistant',
      'gen_ai.completion.0.content': '',
      'gen_ai.completion.0.tool_calls.0.name': 'greet',
      'gen_ai.completion.0.tool_calls.0.arguments': '{}',
    });
    assert.equal(older.type, 'LLM');
    assert.deepEqual([older.inputTokens, older.outputTokens], [9, 4]);
    assert.deepEqual(older.inputMessages, [{ role: 'user', content: 'Hello' }]);
    assert.deepEqual(older.outputMessages, [
      { role: 'assistant', content: '', toolCalls: [{ name: 'greet', arguments: '{}' }] },
    ]);
    assert.equal(
      meaning({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'add' }).toolName,
      'add',
    );
    assert.equal(meaning({ 'gen_ai.operation.name': 'embeddings' }).type, 'EMBEDDING');
    assert.equal(meaning({ 'gen_ai.operation.name': 'invoke_agent' }).type, 'AGENT');
  });

  test('precedence, unknown spans, time to first token', () => {
    assert.equal(
      meaning({ 'mlflow.spanType': 'TOOL', 'openinference.span.kind': 'LLM' }).type,
      'TOOL',
    );
    const none = meaning({ 'http.method': 'GET' });
    assert.deepEqual(
      [none.type, none.convention, none.model, none.inputTokens],
      ['UNKNOWN', 'none', null, null],
    );
    assert.equal(meaning({ 'mlops.ttft_ms': 42 }).ttftMs, 42);
    assert.equal(meaning({ 'gen_ai.server.time_to_first_token': 0.25 }).ttftMs, 250);
    const start = 1_700_000_000_000n * 1_000_000n;
    const streamed = meaning(
      { 'mlflow.spanType': 'LLM' },
      {
        startNs: String(start),
        events: [
          { name: 'mlflow.chunk.item.1', timeNs: String(start + 90_000_000n), attributes: {} },
          { name: 'mlflow.chunk.item.0', timeNs: String(start + 80_500_000n), attributes: {} },
        ],
      },
    );
    assert.equal(streamed.ttftMs, 80.5);
    assert.equal(meaning({}).ttftMs, null);
  });

  test('previews are one short line', () => {
    assert.equal(
      preview({
        messages: [
          { role: 'user', content: 'first' },
          { role: 'user', content: 'last\nline' },
        ],
      }),
      'last line',
    );
    assert.equal(preview('x'.repeat(400)).length, 300);
    assert.equal(preview(undefined), '');
    assert.equal(preview({ a: 1 }), '{"a":1}');
  });
});

describe('the trace filter', () => {
  test("MLflow's fields, with OR, IN, NOT and parentheses", () => {
    assert.deepEqual(parseTraceFilter("trace.status = 'ERROR'"), {
      type: 'compare',
      field: { kind: 'trace', name: 'status' },
      op: '=',
      value: 'ERROR',
    });
    const e = parseTraceFilter(
      "(trace.execution_time_ms > 2000 OR span.type = 'TOOL') AND tags.env IN ('prod', 'dev') AND NOT metadata.`mlflow.user` = 'bot'",
    );
    assert.equal(e?.type, 'and');
    assert.equal(parseTraceFilter('   '), undefined);
    assert.deepEqual(parseTraceFilter('attributes.timestamp > 5'), {
      type: 'compare',
      field: { kind: 'trace', name: 'timestamp_ms' },
      op: '>',
      value: 5,
    });
    assert.deepEqual(parseTraceOrderBy(['timestamp_ms DESC', 'trace.cost']), [
      { field: { kind: 'trace', name: 'timestamp_ms' }, descending: true },
      { field: { kind: 'trace', name: 'cost' }, descending: false },
    ]);
  });

  test('mistakes point at the token and say what would work', () => {
    const bad = (text: string, re: RegExp) => {
      assert.throws(
        () => parseTraceFilter(text),
        (e: unknown) => e instanceof FilterError && re.test(e.message),
      );
    };
    bad("trace.colour = 'x'", /unknown trace attribute 'colour'; valid ones are trace_id/);
    bad(
      "span.color = 'x'",
      /unknown span field 'color'; valid fields are name, type, model, status/,
    );
    bad("trace.execution_time_ms > '2s'", /takes a number \(milliseconds\)/);
    bad('trace.status = 3', /takes a quoted string/);
    bad("status = 'OK'", /a field needs a prefix: write trace\.status/);
    bad("foo.bar = 'x'", /unknown prefix 'foo'/);
    assert.throws(() => parseTraceOrderBy(['span.name']), /cannot be ordered by a span field/);
  });

  test('trace ids: tr- form or 32 hex digits', () => {
    assert.equal(
      normalizeTraceId('tr-5A4156633eaf125a3a206de0875aa6c2'),
      '5a4156633eaf125a3a206de0875aa6c2',
    );
    assert.equal(
      normalizeTraceId('5a4156633eaf125a3a206de0875aa6c2'),
      '5a4156633eaf125a3a206de0875aa6c2',
    );
    assert.equal(normalizeTraceId('tr-123'), undefined);
  });
});

describe('traces in the store', () => {
  async function open() {
    const root = tempDir('mlops-traces-');
    dirs.push(root);
    const dir = path.join(root, '.mlops');
    return {
      dir,
      t: await Tracking.open({ dir, watch: false, codeRoot: root, clock: () => 1_700_000_100_000 }),
    };
  }

  /** Three traces: a slow erroring tool call, a cheap chat, a retrieval. */
  async function seed(t: Tracking) {
    const ids = ['a1'.repeat(16), 'b2'.repeat(16), 'c3'.repeat(16)];
    const root = (i: number, name: string, extra: Parameters<typeof aSpan>[0] = {}) =>
      aSpan({
        traceId: ids[i]!,
        spanId: hex(0x100 + i, 16),
        name,
        startMs: 1_700_000_000_000 + i * 1000,
        ...extra,
      });
    await t.traces.ingest([
      root(0, 'agent', { endMs: 1_700_000_003_000, attributes: { 'mlflow.spanType': 'AGENT' } }),
      aSpan({
        traceId: ids[0]!,
        parentSpanId: hex(0x100, 16),
        name: 'search',
        statusCode: 2,
        statusMessage: 'boom',
        attributes: { 'mlflow.spanType': 'TOOL' },
      }),
      root(1, 'chat', {
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.usage.input_tokens': 1000,
          'gen_ai.usage.output_tokens': 100,
        },
      }),
      root(2, 'rag', { attributes: { 'openinference.span.kind': 'RETRIEVER', 'session.id': 'S' } }),
    ]);
    await t.traces.setTag(ids[0]!, 'env', 'prod');
    await t.traces.setInfo({ traceId: ids[1]!, metadata: { 'mlflow.user': 'ada' } });
    return ids;
  }

  test('rollups, search with every kind of field, order and paging', async () => {
    const { t } = await open();
    try {
      const [a, b, c] = await seed(t);
      const names = (filter: string, orderBy?: string[]) =>
        t.traces.search({ filter, orderBy }).traces.map((x) => x.name);
      assert.deepEqual(names(''), ['rag', 'chat', 'agent'], 'newest first');
      const agent = t.traces.summary(a!)!;
      assert.equal(agent.durationMs, 3000);
      assert.equal(agent.errorCount, 1);
      assert.equal(agent.state, 'OK', 'a child failed, the root did not');
      const chat = t.traces.summary(b!)!;
      assert.deepEqual([chat.tokensIn, chat.tokensOut], [1000, 100]);
      assert.ok(
        Math.abs(chat.cost! - (1000 * 0.15 + 100 * 0.6) / 1e6) < 1e-12,
        `cost ${chat.cost}`,
      );
      assert.equal(t.traces.summary(c!)!.sessionId, 'S');
      assert.deepEqual(names("span.type = 'TOOL'"), ['agent']);
      assert.deepEqual(names("span.status = 'ERROR'"), ['agent']);
      assert.deepEqual(names('trace.error_count > 0'), ['agent']);
      assert.deepEqual(names('trace.execution_time_ms > 2000'), ['agent']);
      assert.deepEqual(names("tags.env = 'prod'"), ['agent']);
      assert.deepEqual(names("metadata.`mlflow.user` = 'ada'"), ['chat']);
      assert.deepEqual(names('trace.cost > 0'), ['chat']);
      assert.deepEqual(names('trace.cost IS NULL'), ['rag', 'agent']);
      assert.deepEqual(names("trace.session = 'S' OR span.name LIKE 'sea%'"), ['rag', 'agent']);
      assert.deepEqual(names("NOT trace.name IN ('rag', 'chat')"), ['agent']);
      assert.deepEqual(names(`trace.timestamp_ms >= ${1_700_000_001_000}`), ['rag', 'chat']);
      assert.deepEqual(names('', ['trace.execution_time_ms DESC']), ['agent', 'rag', 'chat']);
      assert.deepEqual(names('', ['tags.env DESC']), ['agent', 'rag', 'chat'], 'untagged last');
      const first = t.traces.search({ maxResults: 2 });
      assert.deepEqual(
        first.traces.map((x) => x.name),
        ['rag', 'chat'],
      );
      const second = t.traces.search({ maxResults: 2, pageToken: first.nextPageToken });
      assert.deepEqual(
        second.traces.map((x) => x.name),
        ['agent'],
      );
      assert.equal(second.nextPageToken, undefined);
      assert.throws(() => t.traces.search({ pageToken: 'nope' }), /page token 'nope' is not valid/);
      assert.equal(t.traces.count({ filter: "trace.status = 'OK'" }), 3);
      assert.equal(t.traces.resolveId(a!.slice(0, 8)), a);
      assert.throws(() => t.traces.resolveId('ffffff'), /not found/);
    } finally {
      await t.close();
    }
  });

  test("a trace's outline: every span's stored columns, in full only its evaluators", async () => {
    const { t } = await open();
    try {
      const [a] = await seed(t);
      await t.traces.ingest([
        aSpan({
          traceId: a!,
          parentSpanId: hex(0x100, 16),
          name: 'grade exact',
          attributes: {
            'mlflow.spanType': 'EVALUATOR',
            'mlflow.spanOutputs': { pass: true, reason: 'same' },
          },
        }),
      ]);
      const full = t.traces.get(a!)!;
      const o = t.traces.outline(a!)!;
      assert.equal(o.summary.spanCount, 3);
      assert.deepEqual(
        o.spans,
        full.spans.map((s) => ({
          spanId: s.spanId,
          parentSpanId: s.parentSpanId,
          name: s.name,
          startUs: s.startUs,
          endUs: s.endUs,
          statusCode: s.statusCode,
          type: s.meaning.type,
          model: s.model,
          tokensIn: s.tokensIn,
          tokensOut: s.tokensOut,
          flags: s.flags,
        })),
        'the columns stored on write agree with what the span means when read in full',
      );
      assert.deepEqual(
        o.evaluators.map((s) => [s.name, s.meaning.outputs]),
        [['grade exact', { pass: true, reason: 'same' }]],
      );
      const search = full.spans.find((s) => s.name === 'search')!;
      assert.deepEqual(t.traces.span(a!, search.spanId), search);
      assert.equal(t.traces.span(a!, 'f'.repeat(16)), undefined);
      assert.equal(t.traces.outline('f'.repeat(32)), undefined);
    } finally {
      await t.close();
    }
  });

  test('survives reopening; tags, assessments, flags, deletion and retention', async () => {
    const { dir, t } = await open();
    const [a, b, c] = await seed(t);
    await t.traces.assess({
      traceId: a!,
      spanId: null,
      name: 'user_feedback',
      value: false,
      rationale: 'wrong tool',
      source: { type: 'HUMAN', id: 'ada' },
    });
    await t.traces.flag(b!, hex(0x101, 16), [
      { check: 'pii', action: 'flag', reason: 'an email address', at: 1 },
    ]);
    await t.close();

    const again = await Tracking.open({ dir, watch: false, clock: () => 1_700_000_100_000 });
    try {
      const d = again.traces.get(a!)!;
      assert.equal(d.spans.length, 2);
      assert.deepEqual(d.summary.tags, { env: 'prod' });
      assert.equal(d.assessments[0]!.rationale, 'wrong tool');
      assert.equal(d.assessments[0]!.value, false);
      assert.equal(again.traces.summary(b!)!.flagged, 1);
      assert.equal(again.traces.get(b!)!.spans[0]!.flags[0]!.reason, 'an email address');
      assert.deepEqual(
        again.traces.search({ filter: 'trace.flagged > 0' }).traces.map((x) => x.traceId),
        [b],
      );
      await again.traces.deleteTag(a!, 'env');
      assert.deepEqual(again.traces.summary(a!)!.tags, {});
      assert.equal(await again.traces.delete([c!, hex(0xdead, 32)]), 1);
      assert.equal(again.traces.get(c!), undefined);
      // The clock says 100 s after the first trace: older than 99.5 s is only the first one.
      assert.equal(await again.traces.prune(99_500, { dryRun: true }), 1);
      assert.equal(again.traces.count(), 2, 'a dry run deletes nothing');
      assert.equal(await again.traces.prune(99_500), 1);
      assert.deepEqual(
        again.traces.search().traces.map((x) => x.traceId),
        [b],
      );
      await assert.rejects(again.traces.setTag(a!, 'k', 'v'), /not found/);
    } finally {
      await again.close();
    }
  });

  test('bad spans are refused one by one, the rest kept', async () => {
    const { t } = await open();
    try {
      const result = await t.traces.ingest([
        aSpan({ traceId: '0'.repeat(32) }),
        aSpan({ spanId: 'xyz' }),
        aSpan({ startMs: 2000, endMs: 1000 }),
        aSpan({ name: 'ok' }),
      ]);
      assert.equal(result.accepted, 1);
      assert.deepEqual(
        result.rejected.map((r) => r.reason),
        [
          `trace id '${'0'.repeat(32)}' is not 16 bytes (32 hex digits) other than all zeros`,
          "span id 'xyz' is not 8 bytes (16 hex digits) other than all zeros",
          'the span ends before it starts',
        ],
      );
      await assert.rejects(
        t.traces.ingest([aSpan()], { experimentId: '42' }),
        /Experiment '42' does not exist/,
      );
    } finally {
      await t.close();
    }
  });
});
