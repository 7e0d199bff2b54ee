import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { startMlflowServer } from '../../src/server/mlflowServer.ts';
import type { MlflowServer } from '../../src/server/mlflowServer.ts';
import { parseTraceData } from '../../src/server/traceArtifacts.ts';
import { request } from '../fixtures/mlflow/rawClient.ts';
import { removeDir, tempDir } from './helpers.ts';

// The oldest way MLflow's clients send spans: start the trace, then PUT the spans as
// traces.json at the artifact location the server named. No recording exists of this flow
// (PEERS.md: the 3.6 client takes OTLP against a 3.4+ server), so the requests and the span
// dicts here follow MLflow's source: TracingClient._upload_trace_data, Span.to_dict of the
// 2.x and 3.x releases, Span.from_dict (which reads all of them).

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const START = '1733320316119000123'; // 19 digits: more than a JSON number keeps in JavaScript
const END = '1733320317373000456';
const ROOT = '1a2b3c4d5e6f7081';
const CHILD = '0102030405060708';
const OTEL_TRACE = '9f'.repeat(16);

/** A 2.x client's traces.json (mlflow 2.x Span.to_dict): 0x ids, JSON-text attributes. */
function v2Doc(requestId: string): string {
  const attrs = (type: string, extra: Record<string, string>) => ({
    'mlflow.traceRequestId': JSON.stringify(requestId),
    'mlflow.spanType': JSON.stringify(type),
    ...extra,
  });
  // Written by hand, as Python's json.dumps writes the big integers: every digit.
  return `{"spans": [
    {"name": "predict", "context": {"span_id": "0x${ROOT}", "trace_id": "0x${OTEL_TRACE}"},
     "parent_id": null, "start_time": ${START}, "end_time": ${END},
     "status_code": "OK", "status_message": "",
     "attributes": ${JSON.stringify(attrs('CHAIN', { 'mlflow.spanInputs': '{"q": "what is mlflow?"}', 'mlflow.spanOutputs': '"a platform"' }))},
     "events": []},
    {"name": "chat", "context": {"span_id": "0x${CHILD}", "trace_id": "0x${OTEL_TRACE}"},
     "parent_id": "0x${ROOT}", "start_time": 1733320316200000000, "end_time": 1733320317000000000,
     "status_code": "ERROR", "status_message": "ValueError: boom",
     "attributes": ${JSON.stringify(
       attrs('CHAT_MODEL', {
         'mlflow.spanInputs': JSON.stringify({
           model: 'gpt-4o-mini',
           messages: [{ role: 'user', content: 'what is mlflow?' }],
         }),
         'mlflow.spanOutputs': JSON.stringify({
           choices: [{ message: { role: 'assistant', content: 'a platform' } }],
           usage: { prompt_tokens: 12, completion_tokens: 3 },
         }),
       }),
     )},
     "events": [{"name": "exception", "timestamp": 1733320316900000000,
                 "attributes": {"exception.type": "ValueError", "exception.message": "boom"}}]}
  ]}`;
}

describe("traces.json through the artifact proxy, as MLflow's older flows send it", () => {
  let t: Tracking;
  let server: MlflowServer;
  let experiment: string;
  before(async () => {
    const root = tempDir('mlops-trace-artifacts-');
    dirs.push(root);
    t = await Tracking.open({ dir: path.join(root, '.mlops'), watch: false, codeRoot: root });
    experiment = await t.createExperiment('agents');
    server = await startMlflowServer({ tracking: t, port: 0 });
  });
  after(async () => {
    await server?.close();
    await t?.close();
  });

  const api = (p: string, o: Parameters<typeof request>[2] = {}) =>
    request(server.url, `/api/2.0/mlflow/${p}`, o);
  /** The URL an HttpArtifactRepository makes of an mlflow-artifacts: location. */
  const artifactUrl = (location: string, file: string) =>
    `${location.replace(/^mlflow-artifacts:/, '/api/2.0/mlflow-artifacts/artifacts')}/${file}`;
  const tag = (info: { tags: { key: string; value: string }[] }, key: string) =>
    info.tags.find((x) => x.key === key)?.value;

  test('a 2.x client: StartTrace, traces.json, EndTrace; then read back the way it reads', async () => {
    const started = await api('traces', {
      json: {
        experiment_id: experiment,
        timestamp_ms: 1733320316119,
        request_metadata: [{ key: 'mlflow.traceInputs', value: '{"q": "what is mlflow?"}' }],
        tags: [{ key: 'mlflow.traceName', value: 'predict' }],
      },
    });
    assert.equal(started.status, 200, started.text);
    const info = started.json.trace_info;
    const location = tag(info, 'mlflow.artifactLocation')!;
    assert.match(
      location,
      new RegExp(`^mlflow-artifacts:/${experiment}/traces/tr-[0-9a-f]{32}/artifacts$`),
    );
    assert.equal(tag(info, 'mlflow.trace.spansLocation'), undefined, 'no spans yet: upload them');

    const put = await request(server.url, artifactUrl(location, 'traces.json'), {
      method: 'PUT',
      body: v2Doc(info.request_id),
    });
    assert.equal(put.status, 200, put.text);
    const ended = await api(`traces/${info.request_id}`, {
      method: 'PATCH',
      json: { request_id: info.request_id, timestamp_ms: 1733320317373, status: 'OK' },
    });
    assert.equal(ended.status, 200, ended.text);

    const d = t.traces.get(info.request_id)!;
    assert.equal(d.summary.spanCount, 2);
    assert.equal(d.summary.experimentId, experiment);
    assert.equal(d.summary.errorCount, 1);
    assert.deepEqual([d.summary.tokensIn, d.summary.tokensOut], [12, 3]);
    const [root, chat] = d.spans;
    assert.equal(root!.startNs, START, 'every digit of the nanoseconds');
    assert.equal(root!.endNs, END);
    assert.equal(root!.parentSpanId, null);
    assert.equal(chat!.parentSpanId, ROOT);
    assert.equal(chat!.meaning.type, 'CHAT_MODEL');
    assert.deepEqual(chat!.meaning.inputMessages, [{ role: 'user', content: 'what is mlflow?' }]);
    assert.equal(chat!.events[0]!.attributes['exception.message'], 'boom');

    // A 2.x client reads the info, then downloads traces.json.
    const again = await api(`traces/${info.request_id}/info`);
    assert.equal(tag(again.json.trace_info, 'mlflow.trace.spansLocation'), 'TRACKING_STORE');
    const got = await request(server.url, artifactUrl(location, 'traces.json'));
    assert.equal(got.status, 200);
    assert.match(got.headers['content-type'] ?? '', /application\/json/);
    assert.match(got.text, new RegExp(`"start_time":${START}\\b`), 'times as exact integers');
    const spans = got.json.spans as Record<string, unknown>[];
    assert.deepEqual(
      spans.map((s) => [
        s.name,
        (s.context as { span_id: string }).span_id,
        s.parent_id,
        s.status_code,
      ]),
      [
        ['predict', `0x${ROOT}`, null, 'OK'],
        ['chat', `0x${CHILD}`, `0x${ROOT}`, 'ERROR'],
      ],
    );
    const rootAttrs = spans[0]!.attributes as Record<string, string>;
    assert.equal(rootAttrs['mlflow.spanType'], '"CHAIN"', 'attributes stay JSON text');
    assert.equal(JSON.parse(rootAttrs['mlflow.traceRequestId']!), info.request_id);
    // What comes back reads as what went in.
    const reread = parseTraceData(got.text, d.summary.traceId);
    assert.deepEqual(reread.rejected, []);
    assert.deepEqual(
      reread.spans.map((s) => [s.spanId, s.parentSpanId, s.startNs, s.endNs, s.statusCode]),
      d.spans.map((s) => [s.spanId, s.parentSpanId, s.startNs, s.endNs, s.statusCode]),
    );
  });

  test('a 3.x client that does not send OTLP: StartTraceV3, then traces.json in the 3.x forms', async () => {
    const traceId = 'ab'.repeat(16);
    const v3 = (p: string, o: Parameters<typeof request>[2] = {}) =>
      request(server.url, `/api/3.0/mlflow/${p}`, o);
    const started = await v3('traces', {
      json: {
        trace: {
          trace_info: {
            trace_id: `tr-${traceId}`,
            trace_location: {
              type: 'MLFLOW_EXPERIMENT',
              mlflow_experiment: { experiment_id: experiment },
            },
            request_time: '2024-12-04T13:51:56.119Z',
            execution_duration: '1.254s',
            state: 'OK',
            tags: { 'mlflow.traceName': 'pipeline' },
          },
        },
      },
    });
    assert.equal(started.status, 200, started.text);
    const tags = started.json.trace.trace_info.tags as Record<string, string>;
    // MLflowV3SpanExporter uploads traces.json unless the spans are said to be in the store.
    assert.equal(tags['mlflow.trace.spansLocation'], undefined);
    const location = tags['mlflow.artifactLocation']!;
    const req = (s: string) => JSON.stringify(`tr-${traceId}`) + s;
    const doc = {
      spans: [
        {
          // 3.x: base64 ids, proto status names
          trace_id: b64(traceId),
          span_id: b64(ROOT),
          parent_span_id: '',
          name: 'pipeline',
          start_time_unix_nano: 1733320316119000000,
          end_time_unix_nano: 1733320317373000000,
          events: [],
          status: { code: 'STATUS_CODE_OK', message: '' },
          attributes: { 'mlflow.traceRequestId': req(''), 'mlflow.spanType': '"CHAIN"' },
        },
        {
          // later 3.x: hex ids, the OpenTelemetry trace id beside, status names
          trace_id: `tr-${traceId}`,
          span_id: CHILD,
          parent_span_id: ROOT,
          otel_trace_id: traceId,
          name: 'retrieve',
          start_time_unix_nano: 1733320316300000000,
          end_time_unix_nano: 1733320316400000000,
          events: [{ name: 'note', time_unix_nano: 1733320316350000000, attributes: { k: 1 } }],
          status: { code: 'OK', message: '' },
          attributes: {
            'mlflow.traceRequestId': req(''),
            'mlflow.spanType': '"RETRIEVER"',
            'mlflow.spanOutputs': JSON.stringify([
              { page_content: 'MLflow is...', metadata: { doc_uri: 'a.md' } },
            ]),
          },
          'mlflow.span_dict_version': 4,
        },
      ],
    };
    const put = await request(server.url, artifactUrl(location, 'traces.json'), {
      method: 'PUT',
      body: JSON.stringify(doc),
    });
    assert.equal(put.status, 200, put.text);
    const got = await v3('traces/batchGet', { query: { trace_ids: `tr-${traceId}` } });
    assert.equal(got.status, 200);
    const [trace] = got.json.traces;
    assert.equal(trace.trace_info.tags['mlflow.trace.spansLocation'], 'TRACKING_STORE');
    assert.deepEqual(
      trace.spans.map((s: { name: string }) => s.name),
      ['pipeline', 'retrieve'],
    );
    const d = t.traces.get(traceId)!;
    assert.equal(d.spans[1]!.parentSpanId, ROOT);
    assert.equal(d.spans[1]!.meaning.type, 'RETRIEVER');
    assert.equal(d.spans[1]!.meaning.documents[0]!.content, 'MLflow is...');
    assert.equal(d.spans[1]!.events[0]!.timeNs, '1733320316350000000');
    // Sent again (over OTLP as well, say): still two spans.
    await request(server.url, artifactUrl(location, 'traces.json'), {
      method: 'PUT',
      body: JSON.stringify(doc),
    });
    assert.equal(t.traces.summary(traceId)!.spanCount, 2);
  });

  test('bad uploads are refused with what is wrong; good spans beside a bad one are kept', async () => {
    const started = await api('traces', { json: { experiment_id: experiment } });
    const info = started.json.trace_info;
    const location = tag(info, 'mlflow.artifactLocation')!;
    const put = (file: string, body: string, at = location) =>
      request(server.url, artifactUrl(at, file), { method: 'PUT', body });

    const notJson = await put('traces.json', '{"spans": [');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.error_code, 'INVALID_PARAMETER_VALUE');
    assert.match(notJson.json.message, /traces\.json is not JSON/);
    const notTraces = await put('traces.json', '{"rows": []}');
    assert.equal(notTraces.status, 400);
    assert.match(notTraces.json.message, /expected \{"spans": \[\.\.\.\]\}/);

    const mixed = JSON.parse(v2Doc(info.request_id)) as {
      spans: { context: { span_id: string } }[];
    };
    mixed.spans[1]!.context.span_id = '0xnothex';
    const partly = await put('traces.json', JSON.stringify(mixed));
    assert.equal(partly.status, 400);
    assert.match(
      partly.json.message,
      /1 span\(s\) of traces\.json were refused \(the other 1 were stored\)/,
    );
    assert.match(partly.json.message, /span id '0xnothex' is not 8 bytes/);
    assert.equal(t.traces.summary(info.request_id)!.spanCount, 1);

    const other = await put('notes.txt', 'hi');
    assert.equal(other.status, 400);
    assert.match(other.json.message, /a trace's artifacts hold only traces\.json/);
    const unknown = await put(
      'traces.json',
      '{"spans": []}',
      `mlflow-artifacts:/${experiment}/traces/tr-${'cd'.repeat(16)}/artifacts`,
    );
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
    const elsewhere = await put(
      'traces.json',
      '{"spans": []}',
      location.replace(`:/${experiment}/`, ':/999/'),
    );
    assert.equal(elsewhere.status, 404);
    assert.match(elsewhere.json.message, /not in experiment 999/);
    const climbing = await request(server.url, `${artifactUrl(location, '..')}/traces.json`, {
      method: 'PUT',
      body: '{}',
    });
    assert.equal(climbing.status, 400);
    const deleting = await request(server.url, artifactUrl(location, 'traces.json'), {
      method: 'DELETE',
    });
    assert.equal(deleting.status, 400);
    assert.match(deleting.json.message, /takes GET or PUT, not DELETE/);
  });
});

describe('reading the span dicts', () => {
  const one = (span: Record<string, unknown>) =>
    parseTraceData(JSON.stringify({ spans: [span] }), 'ab'.repeat(16));
  const base = { name: 's', start_time_unix_nano: '1', status: { code: 'STATUS_CODE_UNSET' } };

  test('ids in each form MLflow writes; anything else refused with where it is', () => {
    assert.equal(one({ ...base, span_id: ROOT }).spans[0]!.spanId, ROOT);
    assert.equal(one({ ...base, span_id: b64(ROOT) }).spans[0]!.spanId, ROOT);
    assert.equal(
      one({ name: 's', context: { span_id: '0x1' }, parent_id: null, start_time: 5 }).spans[0]!
        .spanId,
      '0000000000000001',
      '0x ids of 2.x are numbers in hex, leading zeros dropped',
    );
    assert.equal(one({ ...base, span_id: ROOT, parent_span_id: '' }).spans[0]!.parentSpanId, null);
    const shortHex = one({ ...base, span_id: 'abcdef' });
    assert.equal(shortHex.spans.length, 0);
    assert.match(shortHex.rejected[0]!.reason, /^spans\[0\]: span id 'abcdef' is not 8 bytes/);
    const noName = one({ span_id: ROOT, start_time_unix_nano: '1' });
    assert.match(noName.rejected[0]!.reason, /^spans\[0\]\.name: /);
    const noStart = one({ name: 's', span_id: ROOT });
    assert.match(noStart.rejected[0]!.reason, /no start_time_unix_nano/);
  });

  test('status names of each release; an unended span ends where it starts', () => {
    const status = (code: unknown) =>
      one({ ...base, span_id: ROOT, status: { code } }).spans[0]!.statusCode;
    assert.deepEqual(
      ['STATUS_CODE_ERROR', 'ERROR', 'OK', 'STATUS_CODE_OK', 'UNSET', 2].map(status),
      [2, 2, 1, 1, 0, 2],
    );
    const s = one({ ...base, span_id: ROOT, start_time_unix_nano: START }).spans[0]!;
    assert.equal(s.endNs, START);
  });
});
