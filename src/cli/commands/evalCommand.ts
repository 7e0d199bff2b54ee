// `mlops eval <suite>`: runs an eval suite for CI. Exit 0 when every gate holds,
// 1 when a gate fails, 2 on errors; a Markdown summary goes to $GITHUB_STEP_SUMMARY
// when it is set, JUnit XML to --junit.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { judgeConfig } from '../../core/evals/judge.ts';
import { validatePriceOverrides } from '../../core/evals/pricing.ts';
import {
  EVAL_EXPERIMENT,
  formatUsd,
  junitXml,
  markdownSummary,
  recordEval,
  totalCost,
} from '../../core/evals/report.ts';
import { EvalCancelledError, runEval } from '../../core/evals/runner.ts';
import { resolveEvalPrompt } from '../../core/evals/session.ts';
import { loadCases, parseSuite } from '../../core/evals/suite.ts';
import type { CommandSpec } from '../context.ts';
import { EXIT_OK } from '../context.ts';

const EXIT_GATE_FAILED = 1;

export const evalCommand: CommandSpec = {
  name: 'eval',
  usage:
    'mlops eval <suite.eval.json|yaml> [--prompt file|prompts:/uri] [--min-pass-rate 0.9] [--max-cost 1.50] [--junit file] [--no-cache] [--concurrency n] [--json]',
  summary: 'Run an eval suite against its OpenAI-compatible provider; the gates set the exit code.',
  details:
    "  --prompt          test this prompt instead of the suite's (a file or prompts:/name@alias)\n" +
    '  --min-pass-rate   fail (exit 1) below this share of passed cases, 0..1\n' +
    '  --max-cost        fail (exit 1) when the run cost more than this many USD (calls and judge),\n' +
    '                    or when its cost is unknown (no price for the model: see MLOPS_PRICES)\n' +
    "  --junit           write JUnit XML for the CI's test report\n" +
    '  --no-cache        call the model even for answers cached by an earlier run\n' +
    '  The API key comes from the environment variable the suite names (provider.apiKeyEnv),\n' +
    '  else OPENAI_API_KEY; a judge on another endpoint uses judge.apiKeyEnv. Prices over the\n' +
    '  shipped table: MLOPS_PRICES=\'{"model": {"input": 0.5, "output": 1.5}}\' (USD per 1M tokens).\n' +
    '  Results are stored as a run in the "Evals" experiment.',
  options: {
    prompt: { type: 'string' },
    'min-pass-rate': { type: 'string' },
    'max-cost': { type: 'string' },
    junit: { type: 'string' },
    'no-cache': { type: 'boolean' },
    concurrency: { type: 'string' },
  },
  async run(ctx) {
    const suiteRef = ctx.arg(0, 'suite');
    const suiteFile = path.resolve(ctx.io.cwd, suiteRef);
    if (!fs.existsSync(suiteFile)) throw ctx.usage(`${suiteRef} does not exist`);
    const minRaw = ctx.str('min-pass-rate');
    const minPassRate = minRaw === undefined ? undefined : Number(minRaw);
    if (minPassRate !== undefined && !(minPassRate >= 0 && minPassRate <= 1)) {
      throw ctx.usage(`--min-pass-rate takes a number from 0 to 1 (got '${minRaw}')`);
    }
    const maxRaw = ctx.str('max-cost');
    const maxCost = maxRaw === undefined ? undefined : Number(maxRaw);
    if (maxCost !== undefined && !(maxCost >= 0)) {
      throw ctx.usage(`--max-cost takes a number of USD, 0 or more (got '${maxRaw}')`);
    }
    let prices;
    const pricesRaw = ctx.io.env.MLOPS_PRICES;
    if (pricesRaw) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(pricesRaw);
      } catch (e) {
        throw ctx.usage(`MLOPS_PRICES is not JSON: ${(e as Error).message}`);
      }
      prices = validatePriceOverrides(parsed, 'MLOPS_PRICES');
    }
    const concurrency = ctx.int('concurrency');
    if (concurrency !== undefined && (concurrency < 1 || concurrency > 64)) {
      throw ctx.usage('--concurrency takes 1 to 64');
    }
    const suite = parseSuite(suiteRef, fs.readFileSync(suiteFile, 'utf8'));
    if (concurrency !== undefined) suite.concurrency = concurrency;
    if (ctx.bool('no-cache')) suite.cache = false;
    const cases = loadCases(suite, suiteFile);
    const t = await ctx.open();
    const promptRef = ctx.str('prompt');
    const prompt = promptRef
      ? resolveEvalPrompt(t, promptRef, ctx.io.cwd, ctx.io.cwd)
      : resolveEvalPrompt(t, suite.prompt, path.dirname(suiteFile), ctx.io.cwd);
    const keyVar = suite.provider.apiKeyEnv ?? 'OPENAI_API_KEY';
    const judgeKeyVar = judgeConfig(suite).apiKeyEnv ?? keyVar;
    const total = cases.length * (suite.repeat ?? 1);
    let lastShown = 0;
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    // Each case's trace, kept only when the run is recorded.
    const tracer = t.tracer({ experiment: EVAL_EXPERIMENT, flushMs: null });
    let result;
    try {
      result = await runEval({
        tracer,
        suite,
        prompt,
        cases,
        apiKey: ctx.io.env[keyVar],
        judgeApiKey: ctx.io.env[judgeKeyVar],
        // The user ran the command on their own files: code criteria may run.
        trusted: true,
        suiteFile,
        prices,
        cacheDir: path.join(ctx.storeDir(), 'cache', 'evals'),
        signal: abort.signal,
        onProgress: (p) => {
          // A line per tenth, not per case: CI logs stay readable.
          if (p.done === p.total || p.done - lastShown >= Math.max(1, Math.ceil(total / 10))) {
            lastShown = p.done;
            ctx.io.err(
              `[eval] ${p.done}/${p.total} done: ${p.passed} passed, ${p.failed} failed, ${p.errored} errored\n`,
            );
          }
        },
      });
    } catch (e) {
      tracer.discard();
      if (e instanceof EvalCancelledError) {
        ctx.io.err('mlops eval: cancelled; nothing was recorded.\n');
        return 2;
      }
      throw e;
    } finally {
      process.removeListener('SIGINT', onSignal);
    }
    const suiteLabel = path.relative(ctx.io.cwd, suiteFile).split(path.sep).join('/');
    const { runId, comparison } = await recordEval(t, result, suiteLabel, tracer);
    const gates: string[] = [];
    let failed = false;
    if (minPassRate !== undefined) {
      const ok = result.summary.passRate >= minPassRate;
      failed ||= !ok;
      gates.push(
        `${ok ? 'PASS' : 'FAIL'}: pass rate ${(result.summary.passRate * 100).toFixed(1)}% ${ok ? '>=' : '<'} ${(minPassRate * 100).toFixed(1)}%`,
      );
    }
    if (maxCost !== undefined) {
      const cost = totalCost(result);
      const ok = cost !== null && cost <= maxCost;
      failed ||= !ok;
      gates.push(
        cost === null
          ? `FAIL: cost unknown (no price for ${result.model}; set MLOPS_PRICES), the limit is ${formatUsd(maxCost)}`
          : `${ok ? 'PASS' : 'FAIL'}: cost ${formatUsd(cost)} ${ok ? '<=' : '>'} ${formatUsd(maxCost)}`,
      );
    }
    const md = markdownSummary(result, comparison, gates);
    const stepSummary = ctx.io.env.GITHUB_STEP_SUMMARY;
    if (stepSummary) fs.appendFileSync(stepSummary, md);
    const junit = ctx.str('junit');
    if (junit) fs.writeFileSync(path.resolve(ctx.io.cwd, junit), junitXml(result));
    ctx.print(
      { runId, ...result, comparison, gates, passed: !failed },
      () => `${md}\nRecorded as run ${runId}.\n`,
    );
    return failed ? EXIT_GATE_FAILED : EXIT_OK;
  },
};
