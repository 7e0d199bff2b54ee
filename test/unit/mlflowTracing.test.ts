import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { startMlflowServer } from '../../src/server/mlflowServer.ts';
import { decodeOtlpProtobuf } from '../../src/server/otlp/otlpDecode.ts';
import { request } from '../fixtures/mlflow/rawClient.ts';
import type { RawRequest } from '../fixtures/mlflow/rawClient.ts';
import { removeDir, REPO, tempDir } from './helpers.ts';

// The MLflow 3.6 Python client's tracing, replayed from what it sent MLflow's own server
// (test/fixtures/mlflow/mlflow-python-client-3.6-tracing.jsonl, from shared/PEERS.md):
// nested @mlflow.trace and start_span, span types, an exception, a failing trace, then
// search_traces() and get_trace(). Our answers must be what the client reads from MLflow's.

interface Exchange {
  seq: number;
  method: string;
  path: string;
  query: Record<string, string[]> | null;
  req_content_type: string | null;
  req_headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  req_body: any;
  status: number;
  resp_content_type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  resp_body: any;
}

const FIXTURE = path.join(REPO, 'test/fixtures/mlflow/mlflow-python-client-3.6-tracing.jsonl');
const recorded: Exchange[] = fs
  .readFileSync(FIXTURE, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as Exchange);
const RECORDED_EXPERIMENT = '2';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

describe('the MLflow Python client 3.6 tracing, replayed', () => {
  test('all 17 exchanges get the statuses and the answers MLflow gave', async () => {
    assert.equal(recorded.length, 17);
    const root = tempDir('mlops-mlflow-tracing-');
    dirs.push(root);
    const t = await Tracking.open({ dir: path.join(root, '.mlops'), watch: false, codeRoot: root });
    const server = await startMlflowServer({ tracking: t, port: 0 });
    try {
      let experiment = RECORDED_EXPERIMENT;
      const subst = (text: string) =>
        text.replaceAll(
          `"experiment_id":"${RECORDED_EXPERIMENT}"`,
          `"experiment_id":"${experiment}"`,
        );
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const answers = new Map<number, any>();
      for (const r of recorded) {
        const headers: Record<string, string> = { ...r.req_headers };
        if (headers['x-mlflow-experiment-id'] === RECORDED_EXPERIMENT) {
          headers['x-mlflow-experiment-id'] = experiment;
        }
        const options: RawRequest = { method: r.method, headers };
        if (r.query) {
          options.query = Object.fromEntries(
            Object.entries(r.query).map(([k, v]) => [
              k,
              v.map((x) => (k === 'experiment_id' && x === RECORDED_EXPERIMENT ? experiment : x)),
            ]),
          );
        }
        if (r.req_body?.base64) options.body = Buffer.from(r.req_body.base64, 'base64');
        else if (r.req_body !== null) options.body = subst(JSON.stringify(r.req_body));
        const answer = await request(server.url, r.path, options);
        assert.equal(
          answer.status,
          r.status,
          `exchange ${r.seq} ${r.method} ${r.path}: ${answer.status} ${answer.text.slice(0, 300)}`,
        );
        answers.set(r.seq, answer);
        if (r.seq === 2) experiment = answer.json.experiment_id;
      }

      // /version: plain text, 3.4 or newer, so the client sends spans over OTLP.
      const version = answers.get(4);
      assert.match(version.headers['content-type'], /^text\//);
      const [major, minor] = version.text.split('.').map(Number);
      assert.ok(major > 3 || (major === 3 && minor >= 4), `version ${version.text}`);

      // Each OTLP export: 200, an empty ExportTraceServiceResponse (every span taken).
      for (const seq of [5, 6, 7, 8, 9, 11, 12]) {
        assert.equal(answers.get(seq).headers['content-type'], 'application/x-protobuf');
        assert.equal(answers.get(seq).body.length, 0);
      }

      // StartTraceV3: the trace_info echoed, with the tags MLflow's server adds.
      for (const seq of [10, 13]) {
        const sent = recorded.find((r) => r.seq === seq)!.req_body.trace.trace_info;
        const got = answers.get(seq).json.trace.trace_info;
        const expected = recorded.find((r) => r.seq === seq)!.resp_body.trace.trace_info;
        assert.equal(got.trace_id, sent.trace_id);
        assert.deepEqual(got.trace_location, {
          type: 'MLFLOW_EXPERIMENT',
          mlflow_experiment: { experiment_id: experiment },
        });
        assert.equal(got.request_time, sent.request_time);
        assert.equal(got.execution_duration, sent.execution_duration);
        assert.equal(got.state, expected.state);
        assert.deepEqual(got.trace_metadata, expected.trace_metadata);
        assert.equal(got.request_preview, expected.request_preview);
        assert.equal(got.response_preview, expected.response_preview);
        assert.equal(got.tags['mlflow.traceName'], expected.tags['mlflow.traceName']);
        assert.equal(got.tags['mlflow.trace.spansLocation'], 'TRACKING_STORE');
        assert.equal(
          got.tags['mlflow.artifactLocation'],
          expected.tags['mlflow.artifactLocation'].replace(
            `:/${RECORDED_EXPERIMENT}/`,
            `:/${experiment}/`,
          ),
        );
      }

      // search_traces(): the same traces, newest first, with the same infos.
      const searched = answers.get(14).json.traces;
      const recordedSearch = recorded.find((r) => r.seq === 14)!.resp_body.traces;
      assert.deepEqual(
        searched.map((x: { trace_id: string; state: string }) => [x.trace_id, x.state]),
        recordedSearch.map((x: { trace_id: string; state: string }) => [x.trace_id, x.state]),
      );
      assert.equal(answers.get(14).json.next_page_token, undefined);

      // batchGet: every span as MLflow's server answers it. Times are compared with the
      // exact nanoseconds the client sent (JSON numbers of the recording lose digits).
      const sentSpans = new Map<string, { startNs: string; endNs: string }>();
      for (const r of recorded.filter((x) => x.path === '/v1/traces')) {
        for (const s of decodeOtlpProtobuf(Buffer.from(r.req_body.base64, 'base64')).spans) {
          sentSpans.set(Buffer.from(s.spanId, 'hex').toString('base64'), s);
        }
      }
      const got = answers.get(15).json.traces;
      const expected = recorded.find((r) => r.seq === 15)!.resp_body.traces;
      assert.equal(got.length, expected.length);
      for (let i = 0; i < expected.length; i++) {
        assert.equal(got[i].trace_info.trace_id, expected[i].trace_info.trace_id);
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const byId = (list: any[]): any[] =>
          [...list].sort((a, b) => a.span_id.localeCompare(b.span_id));
        const ours = byId(got[i].spans);
        const theirs = byId(expected[i].spans);
        assert.equal(ours.length, theirs.length);
        for (let j = 0; j < theirs.length; j++) {
          const [o, e] = [ours[j], theirs[j]];
          assert.equal(o.trace_id, e.trace_id);
          assert.equal(o.span_id, e.span_id);
          assert.equal(o.parent_span_id, e.parent_span_id);
          assert.equal(o.name, e.name);
          assert.deepEqual(o.status, e.status);
          assert.equal(o.start_time_unix_nano, sentSpans.get(e.span_id)!.startNs);
          assert.equal(o.end_time_unix_nano, sentSpans.get(e.span_id)!.endNs);
          assert.deepEqual(o.attributes, e.attributes, `attributes of span ${e.name}`);
          assert.deepEqual(
            (o.events ?? []).map((x: { name: string }) => x.name),
            (e.events ?? []).map((x: { name: string }) => x.name),
          );
        }
      }

      // get_trace(id): GetTraceInfoV3, then batchGet of that one trace.
      const info = answers.get(16).json.trace.trace_info;
      assert.equal(info.trace_id, 'tr-46ecc9009fb8d71350dfe2b288ba3245');
      assert.equal(info.state, 'ERROR');
      assert.equal(answers.get(17).json.traces.length, 1);
      assert.equal(answers.get(17).json.traces[0].spans.length, 2);

      // What the store made of it: span types from mlflow.spanType, the chat of the LLM span,
      // the retriever's document, the exception event.
      const detail = t.traces.get('tr-5a4156633eaf125a3a206de0875aa6c2')!;
      assert.equal(detail.summary.spanCount, 5);
      assert.equal(detail.summary.errorCount, 1);
      assert.equal(detail.summary.state, 'OK');
      assert.equal(detail.summary.name, 'pipeline');
      const types = Object.fromEntries(detail.spans.map((s) => [s.name, s.meaning.type]));
      assert.deepEqual(types, {
        pipeline: 'CHAIN',
        retrieve: 'RETRIEVER',
        llm_call: 'LLM',
        failing_step: 'UNKNOWN',
        add: 'TOOL',
      });
      const llm = detail.spans.find((s) => s.name === 'llm_call')!;
      assert.deepEqual(llm.meaning.inputMessages, [{ role: 'user', content: 'what is mlflow?' }]);
      assert.deepEqual(llm.meaning.outputMessages, [{ role: 'assistant', content: 'hi' }]);
      assert.equal(llm.meaning.model, 'fake-model');
      const retrieve = detail.spans.find((s) => s.name === 'retrieve')!;
      assert.equal(retrieve.meaning.documents[0]!.content, 'doc one');
      const failing = detail.spans.find((s) => s.name === 'failing_step')!;
      assert.equal(failing.events[0]!.name, 'exception');
      assert.equal(failing.statusMessage, 'ValueError: boom 3');
    } finally {
      await server.close();
      await t.close();
    }
  });
});
