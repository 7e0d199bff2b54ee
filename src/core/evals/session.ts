// What the CLI and the extension share around an eval run: resolving the prompt
// under test (a prompt file, or a registry URI), finding the suites that test a
// prompt, and reading back the eval runs the store holds.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { isPromptFile, parsePromptFile } from '../registry/promptFile.ts';
import { ValidationError } from '../model/errors.ts';
import type { Tracking } from '../tracking/tracking.ts';
import { EVAL_EXPERIMENT, SUITE_TAG } from './report.ts';
import type { EvalPrompt, EvalResult } from './runner.ts';
import { parseSuite } from './suite.ts';
import type { EvalSuite } from './suite.ts';

function slash(p: string): string {
  return p.split(path.sep).join('/');
}

/**
 * The prompt a suite (or a --prompt flag) names: `prompts:/name@alias` or
 * `prompts:/name/3` from the registry, else a prompt file relative to `baseDir`.
 * A file that equals a registered version is labelled with that version.
 * `labelRoot` is the folder file labels are relative to (the workspace).
 */
export function resolveEvalPrompt(
  t: Tracking,
  ref: string,
  baseDir: string,
  labelRoot: string,
  /** The file's text when an editor holds unsaved changes. */
  text?: string,
): EvalPrompt {
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
  if (text === undefined && !fs.existsSync(file)) {
    throw new ValidationError(`The prompt ${ref} does not exist (looked for ${file}).`);
  }
  const parsed = parsePromptFile(ref, text ?? fs.readFileSync(file, 'utf8'));
  const match = t.registry.matchingPromptVersion(parsed.name, parsed);
  return {
    label: match
      ? `prompts:/${match.name}/${match.version}`
      : slash(path.relative(labelRoot, file)) || path.basename(file),
    name: parsed.name,
    version: match?.version ?? null,
    template: parsed.template,
    messages: parsed.messages,
    modelSettings: parsed.modelSettings,
  };
}

/** What a suite's `prompt` points at, for matching it against a file or a registered prompt. */
export function suitePromptTarget(
  suite: EvalSuite,
  suiteFile: string,
): { file: string } | { name: string } {
  if (suite.prompt.startsWith('prompts:/')) {
    const rest = suite.prompt.slice('prompts:/'.length);
    return { name: rest.split(/[/@]/)[0]! };
  }
  return { file: path.resolve(path.dirname(suiteFile), suite.prompt) };
}

export interface SuiteRef {
  file: string;
  suite: EvalSuite | null;
  /** Why the suite could not be read, when it could not. */
  error: string | null;
}

/** Reads suite files, keeping the broken ones with their error (a view shows them). */
export function readSuites(files: string[]): SuiteRef[] {
  return files.map((file) => {
    try {
      return { file, suite: parseSuite(file), error: null };
    } catch (e) {
      return { file, suite: null, error: (e as Error).message };
    }
  });
}

/**
 * The suites that test a prompt: those naming the prompt file itself, or the
 * registered prompt it belongs to (by name, for `prompts:/...` suites).
 */
export function suitesForPrompt(
  suites: SuiteRef[],
  prompt: { file?: string; name: string },
): SuiteRef[] {
  return suites.filter((s) => {
    if (!s.suite) return false;
    const target = suitePromptTarget(s.suite, s.file);
    if ('name' in target) return target.name === prompt.name;
    if (prompt.file && path.resolve(prompt.file) === target.file) return true;
    // A suite naming another file of the same registered prompt tests it too.
    if (!isPromptFile(target.file) || !fs.existsSync(target.file)) return false;
    try {
      return (
        parsePromptFile(target.file, fs.readFileSync(target.file, 'utf8')).name === prompt.name
      );
    } catch {
      return false;
    }
  });
}

export interface EvalRunSummary {
  runId: string;
  /** The suite file as recorded (relative to the workspace). */
  suite: string;
  suiteName: string;
  startTime: number;
  status: string;
  model: string;
  prompt: string;
  promptName: string | null;
  promptVersion: number | null;
  passRate: number | null;
  passed: number | null;
  failed: number | null;
  errored: number | null;
  costUsd: number | null;
  latencyP50: number | null;
}

/** The finished eval runs, newest first, optionally of one suite. */
export function listEvalRuns(t: Tracking, suite?: string): EvalRunSummary[] {
  const exp = t.getExperimentByName(EVAL_EXPERIMENT);
  if (!exp) return [];
  const filter = suite
    ? `tags.\`${SUITE_TAG}\` = '${suite.replace(/'/g, "''")}'`
    : `tags.\`${SUITE_TAG}\` != ''`;
  const out: EvalRunSummary[] = [];
  let pageToken: string | undefined;
  do {
    const page = t.searchRuns({
      experimentIds: [exp.experimentId],
      filter,
      orderBy: ['attributes.start_time DESC'],
      maxResults: 1000,
      pageToken,
    });
    for (const r of page.items) {
      const metric = (k: string): number | null => {
        const v = r.metrics[k]?.value;
        return typeof v === 'number' && Number.isFinite(v) ? v : null;
      };
      const tag = (k: string): string | undefined => r.tags[k];
      const param = (k: string): string | undefined => r.params[k];
      const version = tag('mlops.prompt.version');
      out.push({
        runId: r.info.runId,
        suite: tag(SUITE_TAG) ?? '',
        suiteName: r.info.runName.split(' · ')[0] ?? r.info.runName,
        startTime: r.info.startTime,
        status: r.info.status,
        model: tag('mlops.eval.model') ?? param('model') ?? '',
        prompt: param('prompt') ?? '',
        promptName: tag('mlops.prompt.name') ?? null,
        promptVersion: version !== undefined ? Number(version) : null,
        passRate: metric('pass_rate'),
        passed: metric('passed'),
        failed: metric('failed'),
        errored: metric('errored'),
        costUsd: metric('cost_usd'),
        latencyP50: metric('latency_p50_ms'),
      });
    }
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return out;
}

/** The full results of an eval run, from its artifact. */
export function loadEvalResult(t: Tracking, runId: string): EvalResult {
  const file = t.artifactPath(runId, 'eval/results.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ValidationError(
      `Run ${runId} has no eval results (eval/results.json); it is not an eval run, or its artifact was removed.`,
    );
  }
  return JSON.parse(text) as EvalResult;
}
