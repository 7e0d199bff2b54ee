// Eval runner overhead: 200 cases x 3 criteria against the local OpenAI-compatible
// server answering after 100 ms, 8 requests at a time. The floor is the server's
// own time, 200 x 0.1 s / 8 = 2.5 s; the goal is within 1.15x of it. In the same
// run, the same cases against the same server through promptfoo (installed on
// first use under the VS Code host's Node 24, which it needs).
//   npm run bench:eval              (both)
//   npm run bench:eval -- ours      (without promptfoo)

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runEval } from '../src/core/evals/runner.ts';
import type { EvalSuite } from '../src/core/evals/suite.ts';
import { startFakeOpenAI } from '../test/fixtures/openaiServer.ts';
// @ts-expect-error: a JavaScript module of the e2e host, without types
import { ensureHost } from '../test/e2e/host/install.mjs';

const PROMPTFOO_VERSION = '0.123.1';

const CASES = 200;
const LATENCY_MS = 100;
const CONCURRENCY = 8;

async function main(): Promise<void> {
  const server = await startFakeOpenAI({
    latencyMs: LATENCY_MS,
    defaultReply: (prompt) => `The answer to ${prompt} is 42. Contact: nobody.`,
  });
  try {
    const suite = {
      name: 'bench',
      prompt: 'inline',
      dataset: { cases: [] },
      provider: { baseUrl: server.url, model: 'fake-small' },
      criteria: [
        { name: 'has-42', type: 'contains', value: '42' },
        { name: 'shape', type: 'regex', pattern: '^The answer to .+ is \\d+\\.' },
        { name: 'no-pii', type: 'pii' },
      ],
      concurrency: CONCURRENCY,
      cache: false,
    } as unknown as EvalSuite;
    const cases = Array.from({ length: CASES }, (_, i) => ({ vars: { q: `question ${i}` } }));
    const prompt = {
      label: 'inline',
      name: null,
      version: null,
      template: 'Answer {{ q }}.',
      messages: null,
      modelSettings: {},
    };
    // One warm-up case: connection set-up and module loading are not the runner's cost.
    await runEval({ suite, prompt, cases: cases.slice(0, CONCURRENCY) });
    const rounds: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const result = await runEval({ suite, prompt, cases });
      const ms = performance.now() - t0;
      if (result.summary.resultCounts.passed !== CASES) {
        throw new Error(
          `expected every case to pass: ${JSON.stringify(result.summary.resultCounts)}`,
        );
      }
      rounds.push(ms);
    }
    const floor = (CASES * LATENCY_MS) / CONCURRENCY;
    const best = Math.min(...rounds);
    const median = [...rounds].sort((a, b) => a - b)[1]!;
    console.log(
      `eval: ${CASES} cases x 3 criteria, ${LATENCY_MS} ms per call, concurrency ${CONCURRENCY}: ` +
        `${rounds.map((r) => Math.round(r)).join(' / ')} ms (median ${Math.round(median)}); floor ${floor} ms; ` +
        `median ${(median / floor).toFixed(3)}x, best ${(best / floor).toFixed(3)}x the floor (goal <= 1.15x)`,
    );
    if (process.argv[2] !== 'ours') {
      const pf = await promptfoo(server.url, CASES, CONCURRENCY);
      console.log(
        `promptfoo ${PROMPTFOO_VERSION}, same cases and server, -j ${CONCURRENCY}, --no-cache: ` +
          `eval ${pf.evalMs} ms (its results.stats.durationMs), whole command ${pf.commandMs} ms; ` +
          `${(pf.evalMs / floor).toFixed(3)}x the floor; ours (median) / promptfoo eval = ${(median / pf.evalMs).toFixed(3)}; ` +
          `${pf.passed}/${CASES} passed`,
      );
    }
  } finally {
    await server.close();
  }
}

/** Installs promptfoo once into a cache folder, then runs the same eval through it. */
async function promptfoo(
  baseUrl: string,
  cases: number,
  concurrency: number,
): Promise<{ evalMs: number; commandMs: number; passed: number }> {
  const host = (await ensureHost()) as { nodeBin: string };
  const nodeBinDir = path.dirname(host.nodeBin);
  const home = path.join(
    os.homedir(),
    '.cache',
    'mlops-workbench-bench',
    `promptfoo-${PROMPTFOO_VERSION}`,
  );
  const entry = path.join(home, 'node_modules', 'promptfoo', 'dist', 'src', 'main.js');
  const env = {
    ...process.env,
    PATH: `${nodeBinDir}${path.delimiter}${process.env.PATH}`,
    PROMPTFOO_DISABLE_TELEMETRY: '1',
    PROMPTFOO_DISABLE_UPDATE: '1',
    PROMPTFOO_DISABLE_SHARING: '1',
    PROMPTFOO_DISABLE_REMOTE_GENERATION: '1',
    PROMPTFOO_SELF_HOSTED: '1',
    // Its one telemetry connection per run goes to a dead local port.
    HTTPS_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1,localhost',
  };
  if (!fs.existsSync(entry)) {
    console.log(`installing promptfoo ${PROMPTFOO_VERSION} into ${home} (about 90 s, once)...`);
    fs.mkdirSync(home, { recursive: true });
    const r = spawnSync(
      'npm',
      [
        'install',
        '--prefix',
        home,
        `promptfoo@${PROMPTFOO_VERSION}`,
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
      ],
      { env: { ...env, HTTPS_PROXY: '' }, stdio: 'inherit' },
    );
    if (r.status !== 0 || !fs.existsSync(entry))
      throw new Error(`promptfoo did not install (npm exit ${r.status})`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-promptfoo-'));
  try {
    const tests = Array.from({ length: cases }, (_, i) => ({
      vars: { q: `question ${i}` },
      assert: [
        { type: 'contains', value: '42' },
        { type: 'regex', value: '^The answer to .+ is \\d+\\.' },
        { type: 'not-contains', value: '@' },
      ],
    }));
    const config = {
      prompts: ['Answer {{q}}.'],
      providers: [
        { id: 'openai:chat:fake-small', config: { apiBaseUrl: baseUrl, apiKey: 'none' } },
      ],
      tests,
    };
    fs.writeFileSync(path.join(dir, 'promptfooconfig.json'), JSON.stringify(config));
    const out = path.join(dir, 'results.json');
    const t0 = performance.now();
    // Not spawnSync: the fake server answering promptfoo runs in this process's event loop.
    const r = await run(
      host.nodeBin,
      [
        entry,
        'eval',
        '-c',
        'promptfooconfig.json',
        '-j',
        String(concurrency),
        '--no-cache',
        '-o',
        out,
        '--no-progress-bar',
      ],
      { cwd: dir, env: { ...env, PROMPTFOO_CONFIG_DIR: path.join(dir, '.promptfoo') } },
    );
    const commandMs = Math.round(performance.now() - t0);
    if (!fs.existsSync(out)) {
      throw new Error(`promptfoo wrote no results (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    const results = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      results: { stats: { durationMs?: number; successes: number } };
    };
    return {
      evalMs: Math.round(results.results.stats.durationMs ?? commandMs),
      commandMs,
      passed: results.results.stats.successes,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
