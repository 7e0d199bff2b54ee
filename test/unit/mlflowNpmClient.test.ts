// A third-party client drives the MLflow-compatible server: the npm package `mlflow`
// (2.0.7, see PEERS.md) through a whole run, against a server on a temp store. Where
// the client is broken, the server answers as a real MLflow 2/3 server would; it
// grows no endpoint to please it. The store is checked afterwards from a fresh process
// view, so what the server acknowledged was durable.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import MLflow from 'mlflow';
import { RunStatus } from 'mlflow/enum';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { startMlflowServer } from '../../src/server/mlflowServer.ts';
import { request } from '../fixtures/mlflow/rawClient.ts';
import type { RawAnswer } from '../fixtures/mlflow/rawClient.ts';
import { removeDir, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

/** The bodies the client posted: it console.logs each one, which is kept off the test output. */
const posted: Record<string, unknown>[] = [];

async function quiet<T>(call: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = (...args: unknown[]) => {
    posted.push(JSON.parse(String(args[0])) as Record<string, unknown>);
  };
  try {
    return await call();
  } finally {
    console.log = log;
  }
}

/** What the client throws for a non-200 answer: `Error: {"status", "statusText", "data"}`. */
async function refusal(
  call: () => Promise<unknown>,
): Promise<{ status: number; data: { error_code: string; message: string } }> {
  try {
    await quiet(call);
  } catch (e) {
    const json = /\{.*\}$/s.exec((e as Error).message);
    assert.ok(json, `the client's error carries the answer: ${(e as Error).message}`);
    return JSON.parse(json[0]) as { status: number; data: { error_code: string; message: string } };
  }
  throw new Error('the call was expected to be refused');
}

const STEPS = 300;
const BATCH_STEPS = 100;
const T0 = 1_700_000_000_000;

describe('the npm client `mlflow` 2.0.7 against the server', () => {
  test('a whole run: experiment, run, params, batched metrics, tags, end, search, history, artifacts; registry by fetch', async () => {
    const root = tempDir('mlops-npm-client-');
    dirs.push(root);
    const storeDir = path.join(root, '.mlops');
    const t = await Tracking.open({ dir: storeDir, watch: false, user: 'server', codeRoot: root });
    const server = await startMlflowServer({ tracking: t, port: 0 });
    const { Experiments, Runs, Metrics, Artifacts } = new MLflow({ endpoint: server.url });
    const api = (p: string, o?: Parameters<typeof request>[2]): Promise<RawAnswer> =>
      request(server.url, `/api/2.0/mlflow/${p}`, o);
    let runId = '';
    let experimentId = '';
    try {
      // ---- what the client gets wrong, answered as MLflow 2/3 answer it
      // experiments/list was removed in MLflow 2.0: real servers have no such route (404).
      const list = await refusal(() => Experiments.list());
      assert.equal(list.status, 404);
      assert.equal(list.data.error_code, 'ENDPOINT_NOT_FOUND');

      ({ experiment_id: experimentId } = await quiet(() =>
        Experiments.create({ name: 'npm-client', artifact_location: '' }),
      ));
      assert.equal(experimentId, '1');
      const { experiment } = await quiet(() => Experiments.get({ experiment_id: experimentId }));
      assert.equal(experiment.name, 'npm-client');
      assert.equal(experiment.lifecycle_stage, 'active');

      // setExperimentTag posts to `.../experimentsset-experiment-tag` (no slash): a path
      // that MLflow does not serve either (404), and nothing is written.
      const tag = await refusal(() =>
        Experiments.setExperimentTag({ experiment_id: experimentId, key: 'team', value: 'nlp' }),
      );
      assert.equal(tag.status, 404);
      assert.equal(tag.data.error_code, 'ENDPOINT_NOT_FOUND');
      assert.match(tag.data.message, /experimentsset-experiment-tag/);
      assert.deepEqual(t.getExperiment(experimentId).tags, {});

      // runs/create drops run_name from the body. As in MLflow, the server then names the
      // run after the `mlflow.runName` tag when there is one, else it makes a name up.
      posted.length = 0;
      const unnamed = await quiet(() =>
        Runs.create({
          experiment_id: experimentId,
          user_id: 'ada',
          start_time: T0,
          run_name: 'lost',
        } as Parameters<typeof Runs.create>[0]),
      );
      assert.equal('run_name' in posted[0]!, false, 'the client did not send run_name');
      assert.notEqual(unnamed.run.info.run_id, '');
      assert.match(t.getRunInfo(unnamed.run.info.run_id).runName, /^[a-z]+-[a-z]+-\d+$/);

      // ---- the run
      const { run } = await quiet(() =>
        Runs.create({
          experiment_id: experimentId,
          user_id: 'ada',
          start_time: T0,
          tags: [
            { key: 'mlflow.runName', value: 'npm-run' },
            { key: 'framework', value: 'none' },
          ],
        }),
      );
      runId = run.info.run_id;
      assert.equal(run.info.experiment_id, experimentId);
      assert.equal(run.info.status, 'RUNNING');
      assert.equal(run.info.user_id, 'ada');
      assert.equal(t.getRunInfo(runId).runName, 'npm-run');

      await quiet(() => Runs.logParameter({ run_id: runId, key: 'lr', value: '0.01' }));
      await quiet(() => Runs.setTag({ run_id: runId, key: 'phase', value: 'train' }));
      await quiet(() => Runs.setTag({ run_id: runId, key: 'scratch', value: 'x' }));
      await quiet(() => Runs.deleteTag({ run_id: runId, key: 'scratch' }));
      await quiet(() =>
        Runs.logMetric({ run_id: runId, key: 'epoch_time', value: 1.5, timestamp: T0, step: 0 }),
      );
      for (let s0 = 0; s0 < STEPS; s0 += BATCH_STEPS) {
        const metrics: { key: string; value: number; timestamp: number; step: number }[] = [];
        for (let step = s0; step < s0 + BATCH_STEPS; step++) {
          const timestamp = T0 + step;
          metrics.push({ key: 'loss', value: 1 / (step + 1), timestamp, step });
          metrics.push({ key: 'acc', value: step / STEPS, timestamp, step });
        }
        await quiet(() =>
          Runs.logBatch({
            run_id: runId,
            metrics,
            params: s0 === 0 ? [{ key: 'batch_size', value: '32' }] : [],
            tags: s0 === 0 ? [{ key: 'data', value: 'v1' }] : [],
          }),
        );
      }
      // A param logged again with another value is refused, as MLflow refuses it.
      const changed = await refusal(() =>
        Runs.logParameter({ run_id: runId, key: 'lr', value: '0.1' }),
      );
      assert.equal(changed.status, 400);
      assert.equal(changed.data.error_code, 'INVALID_PARAMETER_VALUE');

      // The model files go up as the Python client sends them (this client has no upload).
      const artifactBase = `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts`;
      for (const [file, body] of [
        ['model/MLmodel', 'flavors: {}\n'],
        ['model/weights.bin', 'abcdef'],
        ['notes.txt', 'hello'],
      ] as const) {
        const put = await request(server.url, `${artifactBase}/${file}`, { method: 'PUT', body });
        assert.equal(put.status, 200, put.text);
      }

      const { run_info: ended } = await quiet(() =>
        Runs.update({ run_id: runId, status: RunStatus.FINISHED, end_time: T0 + 60_000 }),
      );
      assert.equal(ended.status, 'FINISHED');
      assert.equal(ended.end_time, T0 + 60_000);

      // ---- reading it back through the client
      const { run: got } = await quiet(() => Runs.get({ run_id: runId }));
      const byKey = (xs: { key: string; value: unknown }[]): Record<string, unknown> =>
        Object.fromEntries(xs.map((x) => [x.key, x.value]));
      assert.deepEqual(byKey(got.data.params), { batch_size: '32', lr: '0.01' });
      assert.deepEqual(byKey(got.data.metrics), {
        acc: (STEPS - 1) / STEPS,
        epoch_time: 1.5,
        loss: 1 / STEPS,
      });
      const tags = byKey(got.data.tags);
      assert.equal(tags.phase, 'train');
      assert.equal(tags.data, 'v1');
      assert.equal(tags.scratch, undefined);

      const found = await quiet(() =>
        Runs.search({
          experiment_ids: [experimentId],
          filter: "params.lr = '0.01' and metrics.loss < 0.01 and attributes.status = 'FINISHED'",
          order_by: ['metrics.acc DESC'],
        }),
      );
      assert.deepEqual(
        found.runs.map((r) => r.info.run_id),
        [runId],
      );
      const all = await quiet(() =>
        Runs.search({ experiment_ids: [experimentId], order_by: ['attributes.run_name ASC'] }),
      );
      assert.equal(all.runs.length, 2);

      const { metrics: history } = await quiet(() =>
        Metrics.getHistory({ run_id: runId, metric_key: 'loss' }),
      );
      assert.equal(history.length, STEPS);
      assert.deepEqual(
        history.map((p) => p.step),
        Array.from({ length: STEPS }, (_, i) => i),
      );
      assert.deepEqual(history[9], { key: 'loss', value: 0.1, timestamp: T0 + 9, step: 9 });

      const top = await quiet(() => Artifacts.list({ run_id: runId, path: '' }));
      assert.equal(top.root_uri, `mlflow-artifacts:/${experimentId}/${runId}/artifacts`);
      // The client types `files` as one FileInfo (with `id_dir`); MLflow sends a list.
      const files = top.files as unknown as { path: string; is_dir: boolean; file_size?: number }[];
      assert.deepEqual(
        files.map((f) => [f.path, f.is_dir]),
        [
          ['model', true],
          ['notes.txt', false],
        ],
      );
      const model = await quiet(() => Artifacts.list({ run_id: runId, path: 'model' }));
      assert.deepEqual(
        (model.files as unknown as { path: string; file_size?: number }[]).map((f) => [
          f.path,
          f.file_size,
        ]),
        [
          ['model/MLmodel', 12],
          ['model/weights.bin', 6],
        ],
      );

      // ---- the model registry: this client has none, so the registration and the
      // alias are plain fetch calls in MLflow's documented shapes (REST API reference).
      const post = async (p: string, json: unknown): Promise<RawAnswer['json']> => {
        const res = await fetch(`${server.url}/api/2.0/mlflow/${p}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(json),
        });
        assert.equal(res.status, 200, `${p}: ${res.status}`);
        return res.json();
      };
      const created = await post('registered-models/create', { name: 'npm-model' });
      assert.equal(created.registered_model.name, 'npm-model');
      const { model_version } = await post('model-versions/create', {
        name: 'npm-model',
        source: `runs:/${runId}/model`,
        run_id: runId,
      });
      assert.equal(model_version.version, '1');
      assert.equal(model_version.status, 'READY');
      assert.deepEqual(
        await post('registered-models/alias', {
          name: 'npm-model',
          alias: 'champion',
          version: '1',
        }),
        {},
      );
      const byAlias = await api('registered-models/alias', {
        query: { name: 'npm-model', alias: 'champion' },
      });
      assert.equal(byAlias.json.model_version.run_id, runId);
      // The batches went out as MLflow's LogBatch, with the deprecated run_uuid beside run_id.
      const batches = posted.filter((b) => Array.isArray(b.metrics));
      assert.equal(batches.length, STEPS / BATCH_STEPS);
      assert.ok(batches.every((b) => b.run_id === runId && b.run_uuid === runId));
    } finally {
      await server.close();
      await t.close();
    }

    // ---- the store, opened afresh, holds all of it
    const check = await Tracking.open({ dir: storeDir, watch: false });
    try {
      const exp = check.getExperiment(experimentId);
      assert.equal(exp.name, 'npm-client');
      assert.deepEqual(exp.tags, {});
      const run = check.getRun(runId);
      assert.equal(run.info.runName, 'npm-run');
      assert.equal(run.info.status, 'FINISHED');
      assert.equal(run.info.startTime, T0);
      assert.equal(run.info.endTime, T0 + 60_000);
      assert.equal(run.info.userId, 'ada');
      assert.deepEqual(run.params, { batch_size: '32', lr: '0.01' });
      assert.equal(run.tags.phase, 'train');
      assert.equal(run.tags.data, 'v1');
      assert.equal(run.tags.framework, 'none');
      assert.equal(run.tags.scratch, undefined);
      assert.deepEqual(Object.keys(run.metrics).sort(), ['acc', 'epoch_time', 'loss']);
      assert.equal(run.metrics.loss!.step, STEPS - 1);
      assert.equal(run.metrics.loss!.value, 1 / STEPS);
      for (const key of ['loss', 'acc']) {
        const points = check.metricHistory(runId, key);
        assert.equal(
          points.length,
          STEPS,
          `${key}: every point of the ${STEPS / BATCH_STEPS} batches`,
        );
        assert.deepEqual(
          points.map((p) => p.timestamp),
          Array.from({ length: STEPS }, (_, i) => T0 + i),
        );
      }
      assert.deepEqual(
        check.listArtifacts(runId, 'model').map((f) => f.path),
        ['model/MLmodel', 'model/weights.bin'],
      );
      const version = check.registry.resolveModelUri('models:/npm-model@champion');
      assert.equal(version.version, 1);
      assert.equal(version.runId, runId);
      assert.equal(version.source, `runs:/${runId}/model`);
      assert.equal(check.searchRuns({ experimentIds: [experimentId] }).items.length, 2);
    } finally {
      await check.close();
    }
  });
});
