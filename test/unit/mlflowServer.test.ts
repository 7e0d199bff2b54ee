import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { RecordingLogger } from '../../src/core/log.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { PortInUseError, startMlflowServer } from '../../src/server/mlflowServer.ts';
import type { MlflowServer } from '../../src/server/mlflowServer.ts';
import { request } from '../fixtures/mlflow/rawClient.ts';
import type { RawRequest } from '../fixtures/mlflow/rawClient.ts';
import { removeDir, REPO, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

const API = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

interface Harness {
  t: Tracking;
  server: MlflowServer;
  storeDir: string;
  call(p: string, options?: RawRequest): ReturnType<typeof request>;
  stop(): Promise<void>;
}

async function start(
  options: { token?: string; logger?: RecordingLogger; port?: number } = {},
): Promise<Harness> {
  const root = tempDir('mlops-mlflow-');
  dirs.push(root);
  const storeDir = path.join(root, '.mlops');
  const t = await Tracking.open({ dir: storeDir, watch: false, user: 'ada', codeRoot: root });
  const server = await startMlflowServer({
    tracking: t,
    registry: t.registry,
    port: options.port ?? 0,
    token: options.token,
    logger: options.logger,
  });
  return {
    t,
    server,
    storeDir,
    call: (p, o) => request(server.url, p, o),
    async stop() {
      await server.close();
      await t.close();
    },
  };
}

async function newRun(h: Harness, experimentName = 'e'): Promise<{ exp: string; run: string }> {
  const exp = await h.t.createExperiment(experimentName);
  const info = await h.t.createRun({ experimentId: exp, captureGit: false });
  return { exp, run: info.runId };
}

// ------------------------------------------------------------------ the Python client's requests

interface Recorded {
  seq: number;
  method: string;
  path: string;
  query: Record<string, string[]> | null;
  json?: unknown;
  content_type: string | null;
  user_agent: string;
  body_text?: string;
  body_len?: number;
  body_sha256?: string;
}

const FIXTURE = path.join(REPO, 'test/fixtures/mlflow/mlflow-python-client-3.6-requests.jsonl');
const recorded: Recorded[] = fs
  .readFileSync(FIXTURE, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as Recorded);
const RECORDED_RUN = '4ba8f3a3d52a4348b5b005b28de55a6e';
const RECORDED_EXPERIMENT = '1';

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The bytes of an uploaded file: its recorded text, or (model.pkl) pickle.dumps(None). */
function uploadBody(r: Recorded): Buffer {
  const body =
    r.body_text !== undefined
      ? Buffer.from(r.body_text, 'utf8')
      : Buffer.from([0x80, 4, 0x4e, 0x2e]);
  assert.equal(sha256(body), r.body_sha256, `the bytes of request ${r.seq} are the recorded ones`);
  return body;
}

describe('the MLflow Python client 3.6, replayed', () => {
  test('all 122 requests get the answers the client expects, and the store holds the run', async () => {
    assert.equal(recorded.length, 122);
    const h = await start();
    const ids = { experiment: RECORDED_EXPERIMENT, run: RECORDED_RUN };
    // A failed request must still close the server and the store, or the test file never ends.
    try {
      // Ids of this store for the recorded ones, in strings, paths and URIs.
      const subst = (text: string): string =>
        text
          .replaceAll(RECORDED_RUN, ids.run)
          .replaceAll(
            `"experiment_id": "${RECORDED_EXPERIMENT}"`,
            `"experiment_id": "${ids.experiment}"`,
          )
          .replaceAll(`/${RECORDED_EXPERIMENT}/${ids.run}/`, `/${ids.experiment}/${ids.run}/`)
          .replaceAll(`:/${RECORDED_EXPERIMENT}/${ids.run}/`, `:/${ids.experiment}/${ids.run}/`);
      const answers = new Map<number, Awaited<ReturnType<typeof request>>>();
      for (const r of recorded) {
        const headers: Record<string, string> = { 'User-Agent': r.user_agent };
        if (r.content_type) headers['Content-Type'] = r.content_type;
        const options: RawRequest = { method: r.method, headers };
        if (r.query) {
          options.query = Object.fromEntries(
            Object.entries(r.query).map(([k, v]) => [
              k,
              v.map((x) =>
                k === 'experiment_id' && x === RECORDED_EXPERIMENT ? ids.experiment : subst(x),
              ),
            ]),
          );
        }
        if (r.json !== undefined) options.body = subst(JSON.stringify(r.json, null, 1));
        if (r.method === 'PUT') options.body = uploadBody(r);
        const answer = await h.call(subst(r.path), options);
        answers.set(r.seq, answer);
        if (r.seq === 1) {
          assert.equal(answer.status, 404, 'get-by-name of a new experiment');
          assert.equal(answer.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
          continue;
        }
        assert.ok(
          answer.status >= 200 && answer.status < 300,
          `request ${r.seq} ${r.method} ${r.path}: ${answer.status} ${answer.text}`,
        );
        if (r.path.endsWith('/experiments/create')) ids.experiment = answer.json.experiment_id;
        if (r.path.endsWith('/runs/create')) ids.run = answer.json.run.info.run_id;
      }

      // What the client reads from the answers.
      const runGet = answers.get(110)!.json.run;
      assert.equal(
        runGet.info.artifact_uri,
        `mlflow-artifacts:/${ids.experiment}/${ids.run}/artifacts`,
      );
      assert.equal(runGet.info.run_uuid, ids.run);
      assert.equal(typeof runGet.info.start_time, 'number');
      assert.deepEqual(
        answers
          .get(118)!
          .json.files.map((f: { path: string }) => f.path)
          .sort(),
        ['MLmodel', 'model.pkl'],
      );
      const created = answers.get(120)!.json.model_version;
      assert.equal(created.status, 'READY');
      assert.equal(created.version, '1');
      assert.equal(answers.get(121)!.json.registered_model.name, 'demo-model');
    } finally {
      await h.stop();
    }

    // Everything acknowledged is on disk: a fresh process sees it.
    const t = await Tracking.open({ dir: h.storeDir, watch: false });
    try {
      const exp = t.getExperimentByName('demo-experiment')!;
      assert.equal(exp.experimentId, ids.experiment);
      const run = t.getRun(ids.run);
      assert.equal(run.info.runName, 'train-run-1');
      assert.equal(run.info.experimentId, ids.experiment);
      assert.equal(run.info.status, 'FINISHED');
      assert.equal(run.info.endTime, 1795829885034);
      assert.equal(run.info.startTime, 1795829884553);
      assert.equal(run.info.userId, 'root');
      assert.deepEqual(run.params, { learning_rate: '0.01', epochs: '50', optimizer: 'adam' });
      for (const [k, v] of Object.entries({
        team: 'ml-platform',
        stage: 'dev',
        framework: 'none',
        'mlflow.runName': 'train-run-1',
        'mlflow.source.name': 'train.py',
        'mlflow.user': 'root',
      })) {
        assert.equal(run.tags[k], v, `tag ${k}`);
      }

      // Every metric point the client sent, by key, in step order.
      const sent = new Map<string, [number, number, number][]>();
      const add = (m: { key: string; value: number; timestamp: number; step: number }): void => {
        sent.set(m.key, [...(sent.get(m.key) ?? []), [m.step, m.timestamp, m.value]]);
      };
      for (const r of recorded) {
        const body = r.json as Record<string, unknown> | undefined;
        if (r.path.endsWith('/runs/log-metric')) add(body as never);
        if (r.path.endsWith('/runs/log-batch'))
          for (const m of (body!.metrics ?? []) as never[]) add(m);
      }
      assert.deepEqual([...sent.keys()].sort(), ['accuracy', 'loss', 'val_loss']);
      for (const [key, points] of sent) {
        assert.equal(points.length, 50, key);
        const stored = t.metricHistory(ids.run, key).map((p) => [p.step, p.timestamp, p.value]);
        const byStep = (a: number[], b: number[]): number => a[0]! - b[0]!;
        assert.deepEqual([...stored].sort(byStep), [...points].sort(byStep), key);
      }

      // The uploaded files, byte for byte.
      for (const r of recorded.filter((x) => x.method === 'PUT')) {
        const rel = r.path.split(`/${RECORDED_RUN}/artifacts/`)[1]!;
        const file = t.artifactPath(ids.run, rel);
        assert.equal(sha256(fs.readFileSync(file)), r.body_sha256, rel);
      }
      assert.deepEqual(
        t.listArtifacts(ids.run).map((a) => a.path),
        ['model', 'summary.txt'],
      );

      const version = t.registry.modelVersion('demo-model', '@champion');
      assert.equal(version.version, 1);
      assert.equal(version.runId, ids.run);
      assert.equal(version.status, 'READY');
      assert.equal(
        version.source,
        `mlflow-artifacts:/${ids.experiment}/${ids.run}/artifacts/model`,
      );
    } finally {
      await t.close();
    }
  });
});

// ------------------------------------------------------------------ transport

describe('transport', () => {
  test('listens on 127.0.0.1 only, and the URL says so', async () => {
    const h = await start();
    try {
      const address = h.server.address();
      assert.equal(address.address, '127.0.0.1');
      assert.equal(address.family, 'IPv4');
      assert.equal(h.server.url, `http://127.0.0.1:${h.server.port}`);
      const health = await h.call('/health');
      assert.deepEqual([health.status, health.text], [200, 'OK']);
      // Not on the IPv6 loopback either.
      await assert.rejects(
        new Promise<void>((resolve, reject) => {
          const s = net.connect({ host: '::1', port: h.server.port }, () => {
            s.destroy();
            resolve();
          });
          s.on('error', reject);
        }),
      );
    } finally {
      await h.stop();
    }
  });

  test('port fallback: a taken port moves the server to the next free one; without it, a clear error', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    const root = tempDir();
    dirs.push(root);
    const t = await Tracking.open({ dir: path.join(root, '.mlops'), watch: false });
    try {
      const server = await startMlflowServer({ tracking: t, registry: t.registry, port: taken });
      assert.ok(server.port > taken && server.port <= taken + 20, `${server.port} after ${taken}`);
      assert.equal((await request(server.url, `${API}/experiments/search`)).status, 200);
      await server.close();
      await assert.rejects(
        startMlflowServer({ tracking: t, registry: t.registry, port: taken, portFallback: false }),
        (e: Error) => e instanceof PortInUseError && e.message.includes(`Port ${taken}`),
      );
    } finally {
      blocker.close();
      await t.close();
    }
  });

  test('a bearer token is required when set: missing or wrong is 401 UNAUTHENTICATED', async () => {
    const h = await start({ token: 's3cret' });
    try {
      const { run, exp } = await newRun(h);
      const missing = await h.call(`${API}/experiments/search`);
      assert.equal(missing.status, 401);
      assert.equal(missing.json.error_code, 'UNAUTHENTICATED');
      assert.match(missing.json.message, /MLFLOW_TRACKING_TOKEN/);
      const wrong = await h.call(`${API}/runs/get`, {
        query: { run_id: run },
        headers: { Authorization: 'Bearer s3cre' },
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.json.error_code, 'UNAUTHENTICATED');
      const upload = await h.call(`${ARTIFACTS}/${exp}/${run}/artifacts/a.txt`, {
        method: 'PUT',
        body: 'x',
      });
      assert.equal(upload.status, 401);
      assert.deepEqual(h.t.listArtifacts(run), []);
      const ok = await h.call(`${API}/runs/get`, {
        query: { run_id: run },
        headers: { Authorization: 'Bearer s3cret' },
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.json.run.info.run_id, run);
    } finally {
      await h.stop();
    }
  });

  test('requests a web page could send are refused: foreign Host (DNS rebinding), foreign Origin', async () => {
    const h = await start();
    try {
      const rebound = await h.call(`${API}/experiments/search`, {
        headers: { Host: `evil.example:${h.server.port}` },
      });
      assert.equal(rebound.status, 403);
      assert.equal(rebound.json.error_code, 'PERMISSION_DENIED');
      const crossSite = await h.call(`${API}/experiments/create`, {
        body: JSON.stringify({ name: 'planted' }),
        headers: { Origin: 'https://evil.example', 'Content-Type': 'text/plain' },
      });
      assert.equal(crossSite.status, 403);
      assert.equal(h.t.getExperimentByName('planted'), undefined);
      const local = await h.call(`${API}/experiments/search`, {
        headers: { Host: `localhost:${h.server.port}`, Origin: 'http://localhost:3000' },
      });
      assert.equal(local.status, 200);
    } finally {
      await h.stop();
    }
  });
});

// ------------------------------------------------------------------ errors and limits

describe('errors and limits', () => {
  test('unknown endpoint or method: 404 ENDPOINT_NOT_FOUND', async () => {
    const h = await start();
    try {
      for (const [method, p] of [
        ['GET', `${API}/runs/frobnicate`],
        ['GET', '/'],
        ['GET', '/api/2.0/other'],
        ['GET', `${API}/runs/log-metric`],
        ['POST', ARTIFACTS],
      ] as const) {
        const a = await h.call(p, { method, body: method === 'POST' ? '{}' : undefined });
        assert.equal(a.status, 404, `${method} ${p}`);
        assert.equal(a.json.error_code, 'ENDPOINT_NOT_FOUND', `${method} ${p}`);
        assert.equal(typeof a.json.message, 'string');
      }
      const wrongMethod = await h.call(`${API}/runs/log-metric`);
      assert.match(wrongMethod.json.message, /takes POST/);
    } finally {
      await h.stop();
    }
  });

  test('unknown run, experiment, model: 404 RESOURCE_DOES_NOT_EXIST', async () => {
    const h = await start();
    try {
      const calls: [string, RawRequest][] = [
        [`${API}/runs/get`, { query: { run_id: 'nope' } }],
        [`${API}/runs/log-metric`, { json: { run_id: 'nope', key: 'k', value: 1, timestamp: 1 } }],
        [`${API}/runs/log-batch`, { json: { run_id: 'nope', params: [{ key: 'a', value: 'b' }] } }],
        [`${API}/runs/log-parameter`, { json: { run_id: 'nope', key: 'a', value: 'b' } }],
        [`${API}/runs/update`, { json: { run_id: 'nope', status: 'FINISHED' } }],
        [`${API}/metrics/get-history`, { query: { run_id: 'nope', metric_key: 'k' } }],
        [`${API}/experiments/get`, { query: { experiment_id: '42' } }],
        [`${API}/experiments/get-by-name`, { query: { experiment_name: 'nope' } }],
        [`${API}/registered-models/get`, { query: { name: 'nope' } }],
        [`${API}/model-versions/get`, { query: { name: 'nope', version: '1' } }],
      ];
      for (const [p, o] of calls) {
        const a = await h.call(p, o);
        assert.equal(a.status, 404, `${p}: ${a.text}`);
        assert.equal(a.json.error_code, 'RESOURCE_DOES_NOT_EXIST', p);
      }
    } finally {
      await h.stop();
    }
  });

  test('missing or mistyped fields: 400 INVALID_PARAMETER_VALUE naming the field', async () => {
    const h = await start();
    try {
      const { run } = await newRun(h);
      const cases: [string, RawRequest, RegExp][] = [
        [`${API}/runs/get`, {}, /Missing value for required parameter 'run_id'/],
        [`${API}/runs/log-metric`, { json: { run_id: run, value: 1, timestamp: 1 } }, /'key'/],
        [`${API}/runs/log-metric`, { json: { run_id: run, key: 'k', timestamp: 1 } }, /'value'/],
        [`${API}/runs/log-metric`, { json: { run_id: run, key: 'k', value: 1 } }, /'timestamp'/],
        [
          `${API}/runs/log-metric`,
          { json: { run_id: run, key: 'k', value: 'high', timestamp: 1 } },
          /Invalid value "high" for parameter 'value'/,
        ],
        [
          `${API}/runs/log-metric`,
          { json: { run_id: run, key: 'k', value: 1, timestamp: 1.5 } },
          /parameter 'timestamp'/,
        ],
        [
          `${API}/runs/log-batch`,
          { json: { run_id: run, metrics: [{ key: 'k', timestamp: 1 }] } },
          /Missing value for required parameter 'metrics\[0\]\.value'/,
        ],
        [
          `${API}/runs/log-parameter`,
          { json: { run_id: run, key: 'lr', value: 0.1 } },
          /parameter 'value'/,
        ],
        [`${API}/experiments/create`, { json: {} }, /Missing value for required parameter 'name'/],
        [
          `${API}/experiments/search`,
          { query: { max_results: 'lots' } },
          /Invalid value "lots" for parameter 'max_results'/,
        ],
        [`${API}/runs/search`, { json: { max_results: 0 } }, /max_results/],
        [`${API}/runs/search`, { json: { filter: 'metrics.acc >>> 1' } }, /filter/],
        [`${API}/runs/update`, { json: { run_id: run, status: 'DONE' } }, /parameter 'status'/],
        [`${API}/runs/create`, { body: '{"experiment_id": ' }, /not valid JSON/],
        [`${API}/runs/create`, { json: [1, 2] }, /not a JSON object/],
      ];
      for (const [p, o, message] of cases) {
        const a = await h.call(p, o);
        assert.equal(a.status, 400, `${p} ${JSON.stringify(o)}: ${a.text}`);
        assert.equal(a.json.error_code, 'INVALID_PARAMETER_VALUE', p);
        assert.match(a.json.message, message);
      }
    } finally {
      await h.stop();
    }
  });

  test('rules of the core come back as MLflow errors: changed param, duplicate names, deleted runs', async () => {
    const h = await start();
    try {
      const { run, exp } = await newRun(h, 'dup');
      const first = await h.call(`${API}/runs/log-parameter`, {
        json: { run_id: run, key: 'lr', value: '0.1' },
      });
      assert.equal(first.status, 200);
      const changed = await h.call(`${API}/runs/log-parameter`, {
        json: { run_id: run, key: 'lr', value: '0.2' },
      });
      assert.equal(changed.status, 400);
      assert.equal(changed.json.error_code, 'INVALID_PARAMETER_VALUE');
      assert.match(changed.json.message, /immutable/);
      const again = await h.call(`${API}/experiments/create`, { json: { name: 'dup' } });
      assert.equal(again.status, 400);
      assert.equal(again.json.error_code, 'RESOURCE_ALREADY_EXISTS');
      const defaultAgain = await h.call(`${API}/experiments/create`, { json: { name: 'Default' } });
      assert.equal(defaultAgain.json.error_code, 'RESOURCE_ALREADY_EXISTS');
      await h.call(`${API}/runs/delete`, { json: { run_id: run } });
      const onDeleted = await h.call(`${API}/runs/log-metric`, {
        json: { run_id: run, key: 'k', value: 1, timestamp: 1 },
      });
      assert.equal(onDeleted.status, 400);
      assert.match(onDeleted.json.message, /deleted/);
      const badKey = await h.call(`${API}/runs/restore`, { json: { run_id: run } });
      assert.equal(badKey.status, 200);
      const traversalKey = await h.call(`${API}/runs/log-metric`, {
        json: { run_id: run, key: '../x', value: 1, timestamp: 1 },
      });
      assert.equal(traversalKey.status, 400);
      assert.equal(exp, '1');
    } finally {
      await h.stop();
    }
  });

  test("log-batch: MLflow's limits of 1000 metrics, 100 params, 100 tags, 1000 entities", async () => {
    const h = await start();
    try {
      const { run } = await newRun(h);
      const metrics = (n: number) =>
        Array.from({ length: n }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i }));
      const kv = (n: number, prefix: string) =>
        Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: 'v' }));
      const over: [string, unknown][] = [
        ['1000 metrics', { metrics: metrics(1001) }],
        ['100 params', { params: kv(101, 'p') }],
        ['100 tags', { tags: kv(101, 't') }],
        ['1000 metrics, params, and tags', { metrics: metrics(950), params: kv(51, 'p') }],
      ];
      for (const [limit, batch] of over) {
        const a = await h.call(`${API}/runs/log-batch`, {
          json: { run_id: run, ...(batch as object) },
        });
        assert.equal(a.status, 400, limit);
        assert.equal(a.json.error_code, 'INVALID_PARAMETER_VALUE');
        assert.ok(a.json.message.includes(`at most ${limit}`), a.json.message);
      }
      assert.deepEqual(h.t.getRun(run).metrics, {}, 'nothing of a refused batch is written');
      const full = await h.call(`${API}/runs/log-batch`, {
        json: { run_id: run, metrics: metrics(900), params: kv(50, 'p'), tags: kv(50, 't') },
      });
      assert.equal(full.status, 200, full.text);
      assert.equal(h.t.metricHistory(run, 'm').length, 900);
    } finally {
      await h.stop();
    }
  });

  test('a JSON body over 1 MB is refused with 400, and the server keeps serving', async () => {
    const h = await start();
    try {
      const { run } = await newRun(h);
      const big = JSON.stringify({
        run_id: run,
        tags: [{ key: 'big', value: 'x'.repeat(1_100_000) }],
      });
      const a = await h.call(`${API}/runs/log-batch`, { body: big });
      assert.equal(a.status, 400);
      assert.equal(a.json.error_code, 'INVALID_PARAMETER_VALUE');
      assert.match(a.json.message, /at most 1000000 bytes/);
      assert.equal(h.t.getRun(run).tags.big, undefined);
      const after = await h.call(`${API}/runs/get`, { query: { run_id: run } });
      assert.equal(after.status, 200);
    } finally {
      await h.stop();
    }
  });

  test('artifact paths that could leave the run folder: 400 INVALID_PARAMETER_VALUE, nothing written', async () => {
    const h = await start();
    try {
      const { run, exp } = await newRun(h);
      const base = `${ARTIFACTS}/${exp}/${run}/artifacts`;
      for (const p of [
        `${base}/../../../escape.txt`,
        `${base}/%2e%2e/%2e%2e/escape.txt`,
        `${base}/%2E%2E%2Fescape.txt`,
        `${base}/sub/..%2f..%2fescape.txt`,
        `${ARTIFACTS}//etc/passwd`,
        `${ARTIFACTS}/${exp}/${run}/artifacts//abs.txt`,
        `${base}/a%5C..%5Cb.txt`,
        `${base}/nul%00.txt`,
      ]) {
        for (const method of ['PUT', 'GET']) {
          const a = await h.call(p, { method, body: method === 'PUT' ? 'pwned' : undefined });
          assert.equal(a.status, 400, `${method} ${p}: ${a.text}`);
          assert.equal(a.json.error_code, 'INVALID_PARAMETER_VALUE', p);
        }
      }
      for (const p of ['../x', `${exp}/${run}/artifacts/../../..`, '/etc']) {
        const list = await h.call(ARTIFACTS, { query: { path: p } });
        assert.equal(list.status, 400, `list ${p}`);
      }
      const listRun = await h.call(`${API}/artifacts/list`, {
        query: { run_id: run, path: '../..' },
      });
      assert.equal(listRun.status, 400);
      const root = path.dirname(h.storeDir);
      const found: string[] = [];
      const walk = (d: string): void => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) walk(path.join(d, e.name));
          else if (e.name.includes('escape') || e.name.includes('abs') || e.name.includes('pwned'))
            found.push(path.join(d, e.name));
        }
      };
      walk(root);
      assert.deepEqual(found, []);
      assert.deepEqual(h.t.listArtifacts(run), []);
    } finally {
      await h.stop();
    }
  });
});

// ------------------------------------------------------------------ durability and concurrency

describe('durability and concurrency', () => {
  test('parallel log-metric requests are each durable when answered, sharing writes', async () => {
    const logger = new RecordingLogger();
    const h = await start({ logger });
    const { run } = await newRun(h);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        h.call(`${API}/runs/log-metric`, {
          json: {
            run_id: run,
            run_uuid: run,
            key: 'loss',
            value: 1 / (i + 1),
            timestamp: 1000 + i,
            step: i,
          },
        }),
      ),
    );
    assert.ok(answers.every((a) => a.status === 200 && a.text === '{}'));
    // A second process, opened once the answers are in, sees every point.
    const other = await Tracking.open({ dir: h.storeDir, watch: false });
    assert.equal(other.metricHistory(run, 'loss').length, 200);
    await other.close();
    const batched = logger.lines
      .map((l) => /wrote (\d+) metric points/.exec(l.message))
      .filter((m): m is RegExpExecArray => m !== null);
    assert.ok(batched.length > 0, 'concurrent points share a write');
    await h.stop();
  });

  test('int64 as strings, NaN and Infinity as bare words or strings', async () => {
    const h = await start();
    try {
      const { run } = await newRun(h);
      const body = `{"run_id": "${run}", "metrics": [
        {"key": "a", "value": NaN, "timestamp": "1700000000000", "step": "3"},
        {"key": "b", "value": Infinity, "timestamp": 1, "step": 0},
        {"key": "c", "value": -Infinity, "timestamp": 1, "step": 0},
        {"key": "d", "value": "NaN", "timestamp": 1, "step": 0},
        {"key": "e", "value": "-Infinity", "timestamp": 1, "step": 0}],
        "tags": [{"key": "note", "value": "NaN stays text"}]}`;
      const a = await h.call(`${API}/runs/log-batch`, { body });
      assert.equal(a.status, 200, a.text);
      const [p] = h.t.metricHistory(run, 'a');
      assert.deepEqual([p!.step, p!.timestamp, Number.isNaN(p!.value)], [3, 1700000000000, true]);
      assert.equal(h.t.getRun(run).tags.note, 'NaN stays text');
      const got = await h.call(`${API}/runs/get`, { query: { run_id: run } });
      const values = Object.fromEntries(
        got.json.run.data.metrics.map((m: { key: string; value: unknown }) => [m.key, m.value]),
      );
      assert.deepEqual(values, {
        a: 'NaN',
        b: 'Infinity',
        c: '-Infinity',
        d: 'NaN',
        e: '-Infinity',
      });
    } finally {
      await h.stop();
    }
  });
});
