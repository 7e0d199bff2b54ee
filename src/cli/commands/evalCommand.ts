// `mlops eval <suite>`: runs an eval suite for CI. Exit 0 when every gate holds,
// 1 when a gate fails, 2 on errors; a Markdown summary goes to $GITHUB_STEP_SUMMARY
// when it is set, JUnit XML to --junit.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePromptFile } from '../../core/registry/promptFile.ts';
import { junitXml, markdownSummary, recordEval } from '../../core/evals/report.ts';
import { EvalCancelledError, runEval } from '../../core/evals/runner.ts';
import type { EvalPrompt } from '../../core/evals/runner.ts';
import { loadCases, parseSuite } from '../../core/evals/suite.ts';
import type { Tracking } from '../../core/tracking/tracking.ts';
import type { CommandContext, CommandSpec } from '../context.ts';
import { EXIT_OK } from '../context.ts';

const EXIT_GATE_FAILED = 1;

function resolvePrompt(ctx: CommandContext, t: Tracking, ref: string, baseDir: string): EvalPrompt {
  if (ref.startsWith('prompts:/')) {
    const v = t.registry.resolvePromptUri(ref);
    return {
      label: `prompts:/${v.name}/${v.version}`,
      name: v.name,
      version: v.version,
      template: v.template,
      messages: v.messages,
      modelSettings: v.modelSettings,
    };
  }
  const file = path.resolve(baseDir, ref);
  if (!fs.existsSync(file))
    throw ctx.usage(`the prompt ${ref} does not exist (looked for ${file})`);
  const parsed = parsePromptFile(ref, fs.readFileSync(file, 'utf8'));
  const match = t.registry.matchingPromptVersion(parsed.name, parsed);
  return {
    label: match
      ? `prompts:/${match.name}/${match.version}`
      : path.relative(ctx.io.cwd, file).split(path.sep).join('/'),
    name: parsed.name,
    version: match?.version ?? null,
    template: parsed.template,
    messages: parsed.messages,
    modelSettings: parsed.modelSettings,
  };
}

export const evalCommand: CommandSpec = {
  name: 'eval',
  usage:
    'mlops eval <suite.eval.json|yaml> [--prompt file|prompts:/uri] [--min-pass-rate 0.9] [--junit file] [--no-cache] [--concurrency n] [--json]',
  summary: 'Run an eval suite against its OpenAI-compatible provider; the gates set the exit code.',
  details:
    "  --prompt          test this prompt instead of the suite's (a file or prompts:/name@alias)\n" +
    '  --min-pass-rate   fail (exit 1) below this share of passed cases, 0..1\n' +
    "  --junit           write JUnit XML for the CI's test report\n" +
    '  --no-cache        call the model even for answers cached by an earlier run\n' +
    '  The API key comes from the environment variable the suite names (provider.apiKeyEnv),\n' +
    '  else OPENAI_API_KEY. Results are stored as a run in the "Evals" experiment.',
  options: {
    prompt: { type: 'string' },
    'min-pass-rate': { type: 'string' },
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
      ? resolvePrompt(ctx, t, promptRef, ctx.io.cwd)
      : resolvePrompt(ctx, t, suite.prompt, path.dirname(suiteFile));
    const keyVar = suite.provider.apiKeyEnv ?? 'OPENAI_API_KEY';
    const total = cases.length * (suite.repeat ?? 1);
    let lastShown = 0;
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    let result;
    try {
      result = await runEval({
        suite,
        prompt,
        cases,
        apiKey: ctx.io.env[keyVar],
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
      if (e instanceof EvalCancelledError) {
        ctx.io.err('mlops eval: cancelled; nothing was recorded.\n');
        return 2;
      }
      throw e;
    } finally {
      process.removeListener('SIGINT', onSignal);
    }
    const suiteLabel = path.relative(ctx.io.cwd, suiteFile).split(path.sep).join('/');
    const { runId, comparison } = await recordEval(t, result, suiteLabel);
    const gates: string[] = [];
    let failed = false;
    if (minPassRate !== undefined) {
      const ok = result.summary.passRate >= minPassRate;
      failed ||= !ok;
      gates.push(
        `${ok ? 'PASS' : 'FAIL'}: pass rate ${(result.summary.passRate * 100).toFixed(1)}% ${ok ? '>=' : '<'} ${(minPassRate * 100).toFixed(1)}%`,
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
