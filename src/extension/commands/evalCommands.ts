// Eval commands: "Run eval on this prompt" (a prompt file, or a version in the
// Prompts view), run a suite, open a run's results, set an endpoint's API key.
// A run shows a cancellable progress notification (cases done, running pass
// rate), is recorded in the store, and opens its results panel.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EVAL_EXPERIMENT, recordEval } from '../../core/evals/report.ts';
import { EvalCancelledError, runEval } from '../../core/evals/runner.ts';
import { resolveEvalPrompt, suitesForPrompt } from '../../core/evals/session.ts';
import type { SuiteRef } from '../../core/evals/session.ts';
import { loadCases, parseSuite } from '../../core/evals/suite.ts';
import { validatePriceOverrides } from '../../core/evals/pricing.ts';
import { isPromptFile, parsePromptFile } from '../../core/registry/promptFile.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import { ApiKeys, isLocalEndpoint, normalizeBaseUrl } from '../evals/apiKeys.ts';
import type { EvalsNode, EvalsTree } from '../views/evalsTree.ts';
import { findSuiteFiles, suiteKey, workspaceRoot } from '../views/evalsTree.ts';
import type { RegistryNode } from '../views/registryTree.ts';
import { EvalPanel } from '../webviews/evalPanel.ts';
import type { EvalPanelDeps } from '../webviews/evalPanel.ts';
import type { CommandContext } from './context.ts';
import { writableStore } from './context.ts';
import { registerCommand, UserError } from './register.ts';

export interface EvalContext extends CommandContext {
  evals: EvalsTree;
  secrets: vscode.SecretStorage;
  extensionUri: vscode.Uri;
}

/** What "Run eval on this prompt" tests: a file (maybe with unsaved edits) or a registered version. */
type PromptTarget =
  | { kind: 'file'; file: string; name: string; text: string }
  | { kind: 'version'; name: string; uri: string };

function promptTargetOf(arg: unknown): PromptTarget {
  const node = arg as RegistryNode | undefined;
  if (node && typeof node === 'object' && 'kind' in node && node.kind === 'promptVersion') {
    const v = node.version;
    return { kind: 'version', name: v.name, uri: `prompts:/${v.name}/${v.version}` };
  }
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!uri || uri.scheme !== 'file' || !isPromptFile(uri.fsPath)) {
    throw new UserError(
      'Open a prompt file (*.prompty, *.prompt.md or *.prompt.txt), or pick a version in the Prompts view, then run the eval.',
    );
  }
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  const text = open ? open.getText() : fs.readFileSync(uri.fsPath, 'utf8');
  const parsed = parsePromptFile(vscode.workspace.asRelativePath(uri), text);
  return { kind: 'file', file: uri.fsPath, name: parsed.name, text };
}

const STARTER_SUITE = (
  prompt: string,
  name: string,
): string => `# An eval suite for ${name}: cases, the endpoint, and what a good answer is.
# Schema and completion come with the MLOps Workbench extension.
prompt: ${prompt}
provider:
  baseUrl: https://api.openai.com/v1
  model: gpt-4o-mini
  # the API key: "MLOps: Set API Key" (kept in VS Code's secret storage), or OPENAI_API_KEY
dataset:
  cases:
    - vars: {}
      expected: ""
criteria:
  - name: not-empty
    type: regex
    pattern: "\\\\S"
  - name: no-pii
    type: pii
`;

async function chooseSuite(target: PromptTarget): Promise<SuiteRef | undefined> {
  const all = await findSuiteFiles();
  const usable = all.filter((s) => s.suite);
  const testing = suitesForPrompt(usable, {
    file: target.kind === 'file' ? target.file : undefined,
    name: target.name,
  });
  if (testing.length === 1) return testing[0];
  const pickFrom = testing.length > 0 ? testing : usable;
  if (pickFrom.length === 0) {
    const broken = all.find((s) => s.error);
    if (broken) throw new UserError(`The only eval suites here do not parse: ${broken.error}`);
    const choice = await vscode.window.showInformationMessage(
      `No eval suite in this workspace tests ${target.name}. Create one next to the prompt?`,
      'Create Suite',
    );
    if (choice === 'Create Suite') await createStarterSuite(target);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    pickFrom.map((s) => ({
      label: s.suite!.name ?? path.basename(s.file),
      description: suiteKey(s.file),
      detail: `prompt ${s.suite!.prompt} · ${s.suite!.provider.model} · ${s.suite!.criteria.length} criteria`,
      ref: s,
    })),
    {
      title: `Run an eval on ${target.name}`,
      placeHolder:
        testing.length > 0
          ? 'Suites that test this prompt'
          : `No suite names ${target.name}; pick one to run with this prompt instead of its own`,
    },
  );
  return picked?.ref;
}

async function createStarterSuite(target: PromptTarget): Promise<void> {
  const root = workspaceRoot();
  if (!root) throw new UserError('Open a folder first.');
  const dir = target.kind === 'file' ? path.dirname(target.file) : root;
  const ref =
    target.kind === 'file' ? `./${path.basename(target.file)}` : `prompts:/${target.name}@champion`;
  let file = path.join(dir, `${target.name}.eval.yaml`);
  for (let i = 2; fs.existsSync(file); i++) file = path.join(dir, `${target.name}-${i}.eval.yaml`);
  const uri = vscode.Uri.file(file);
  const edit = new vscode.WorkspaceEdit();
  edit.createFile(uri, { ignoreIfExists: false });
  edit.insert(uri, new vscode.Position(0, 0), STARTER_SUITE(ref, target.name));
  // A workspace edit, so "Undo" in the editor takes the new file back.
  await vscode.workspace.applyEdit(edit);
  await vscode.window.showTextDocument(uri);
}

export function registerEvalCommands(ctx: EvalContext): vscode.Disposable[] {
  const { log } = ctx;
  const keys = new ApiKeys(ctx.secrets);
  const deps: EvalPanelDeps = { store: ctx.store, log, extensionUri: ctx.extensionUri };
  let running = 0;

  const runSuite = async (suiteFile: string, prompt: PromptTarget | undefined): Promise<void> => {
    const t = await writableStore(ctx);
    const suite = parseSuite(
      vscode.workspace.asRelativePath(suiteFile),
      fs.readFileSync(suiteFile, 'utf8'),
    );
    const cases = loadCases(suite, suiteFile);
    const root = workspaceRoot() ?? path.dirname(suiteFile);
    const resolved =
      prompt?.kind === 'version'
        ? resolveEvalPrompt(t, prompt.uri, root, root)
        : prompt?.kind === 'file'
          ? resolveEvalPrompt(t, prompt.file, root, root, prompt.text)
          : resolveEvalPrompt(t, suite.prompt, path.dirname(suiteFile), root);
    const config = vscode.workspace.getConfiguration('mlops.evals');
    const concurrency = config.get<number>('concurrency');
    if (concurrency && !suite.concurrency) suite.concurrency = concurrency;
    const prices = validatePriceOverrides(config.get('prices') ?? {});
    const key = await keys.get(suite.provider.baseUrl, suite.provider.apiKeyEnv);
    if (!key && !isLocalEndpoint(suite.provider.baseUrl)) {
      const choice = await vscode.window.showWarningMessage(
        `No API key for ${suite.provider.baseUrl}: set one (kept in VS Code's secret storage), or set ${suite.provider.apiKeyEnv ?? 'OPENAI_API_KEY'} in the environment.`,
        'Set API Key',
        'Run Without a Key',
      );
      if (choice === 'Set API Key') {
        await vscode.commands.executeCommand(COMMAND_IDS.setApiKey, suite.provider.baseUrl);
        if (!(await keys.get(suite.provider.baseUrl, suite.provider.apiKeyEnv))) return;
        return runSuite(suiteFile, prompt);
      }
      if (choice !== 'Run Without a Key') return;
    }
    const judgeBase = suite.judge?.baseUrl ?? suite.provider.baseUrl;
    const judgeKey = await keys.get(judgeBase, suite.judge?.apiKeyEnv ?? suite.provider.apiKeyEnv);
    const label = suite.name ?? path.basename(suiteFile);
    const total = cases.length * (suite.repeat ?? 1);
    running++;
    void vscode.commands.executeCommand('setContext', 'mlops.evalRunning', true);
    // Each case's trace, kept only when the run is recorded.
    const tracer = t.tracer({ experiment: EVAL_EXPERIMENT, flushMs: null });
    try {
      const outcome = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Eval ${label} · ${resolved.label}`,
          cancellable: true,
        },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          progress.report({ message: `0/${total} cases` });
          try {
            const result = await runEval({
              tracer,
              suite,
              prompt: resolved,
              cases,
              apiKey: key?.key,
              judgeApiKey: judgeKey?.key,
              cacheDir: path.join(ctx.store.dir!, 'cache', 'evals'),
              signal: abort.signal,
              trusted: vscode.workspace.isTrusted,
              suiteFile,
              prices,
              onProgress: (p) => {
                const graded = p.passed + p.failed;
                const rate =
                  graded > 0 ? ` · ${Math.round((p.passed / graded) * 100)}% passing` : '';
                progress.report({
                  increment: 100 / p.total,
                  message: `${p.done}/${p.total} cases${rate}${p.errored ? ` · ${p.errored} errored` : ''}`,
                });
              },
            });
            return result;
          } finally {
            sub.dispose();
          }
        },
      );
      const { runId, comparison } = await recordEval(t, outcome, suiteKey(suiteFile), tracer);
      ctx.evals.refresh();
      EvalPanel.show(deps, runId);
      const s = outcome.summary;
      const change = comparison
        ? ` (${comparison.passRateChange >= 0 ? '+' : ''}${(comparison.passRateChange * 100).toFixed(1)} points, ${comparison.flipped.length} flipped)`
        : '';
      log.info(
        `[evals] ${label} on ${resolved.label}: ${s.resultCounts.passed}/${s.resultCounts.total} passed in ${Math.round(s.durationMs)} ms; run ${runId}`,
      );
      const errored = s.resultCounts.errored;
      const message = `Eval ${label}: ${(s.passRate * 100).toFixed(1)}% passed (${s.resultCounts.passed}/${s.resultCounts.total})${change}${errored ? `; ${errored} errored` : ''}.`;
      if (errored === s.resultCounts.total && total > 0) {
        const first = outcome.cases.find((c) => c.error)?.error ?? '';
        const unauthorized = /HTTP 401|HTTP 403/.test(first);
        void vscode.window
          .showErrorMessage(
            `${message} Every case errored: ${first}`,
            ...(unauthorized ? ['Set API Key'] : []),
          )
          .then((choice) => {
            if (choice === 'Set API Key')
              void vscode.commands.executeCommand(COMMAND_IDS.setApiKey, suite.provider.baseUrl);
          });
      } else {
        void vscode.window.showInformationMessage(message);
      }
    } catch (e) {
      tracer.discard();
      if (e instanceof EvalCancelledError) {
        void vscode.window.showInformationMessage(`Eval ${label} cancelled; nothing was recorded.`);
        return;
      }
      throw e;
    } finally {
      running--;
      void vscode.commands.executeCommand('setContext', 'mlops.evalRunning', running > 0);
    }
  };

  return [
    EvalPanel.register(deps),
    registerCommand(COMMAND_IDS.refreshEvals, log, () => ctx.evals.refresh()),
    registerCommand(COMMAND_IDS.runEvalOnPrompt, log, async (arg?: unknown) => {
      const target = promptTargetOf(arg);
      const ref = await chooseSuite(target);
      if (!ref) return;
      await runSuite(ref.file, target);
    }),
    registerCommand(COMMAND_IDS.runEvalSuite, log, async (arg?: vscode.Uri | EvalsNode) => {
      let file: string | undefined;
      if (arg instanceof vscode.Uri) file = arg.fsPath;
      else if (arg && arg.kind === 'suite') file = arg.file ?? undefined;
      else {
        const doc = vscode.window.activeTextEditor?.document;
        if (doc && /\.eval\.(json|ya?ml)$/i.test(doc.fileName)) file = doc.fileName;
      }
      if (!file) {
        const all = (await findSuiteFiles()).filter((s) => s.suite);
        if (all.length === 0)
          throw new UserError(
            'There is no eval suite (*.eval.json or *.eval.yaml) in this workspace.',
          );
        const picked = await vscode.window.showQuickPick(
          all.map((s) => ({
            label: s.suite!.name ?? path.basename(s.file),
            description: suiteKey(s.file),
            file: s.file,
          })),
          { title: 'Run an eval suite' },
        );
        file = picked?.file;
      }
      if (!file) return;
      // Unsaved edits to the suite would not be what runs: save first.
      const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
      if (open?.isDirty) await open.save();
      await runSuite(file, undefined);
    }),
    registerCommand(COMMAND_IDS.openEvalResults, log, async (arg?: EvalsNode | string) => {
      if (typeof arg === 'string') {
        EvalPanel.show(deps, arg);
      } else if (arg?.kind === 'run') {
        EvalPanel.show(deps, arg.run.runId);
      } else if (arg?.kind === 'case') {
        EvalPanel.show(deps, arg.runId, { index: arg.result.index, repeat: arg.result.repeat });
      } else {
        const node = ctx.evals.view.selection[0];
        if (node?.kind === 'run') EvalPanel.show(deps, node.run.runId);
        else throw new UserError('Select an eval run in the Evals view first.');
      }
    }),
    registerCommand(COMMAND_IDS.setApiKey, log, async (baseUrlArg?: unknown) => {
      let baseUrl = typeof baseUrlArg === 'string' ? baseUrlArg : undefined;
      if (!baseUrl) {
        const suites = (await findSuiteFiles()).flatMap((s) =>
          s.suite
            ? [s.suite.provider.baseUrl, ...(s.suite.judge?.baseUrl ? [s.suite.judge.baseUrl] : [])]
            : [],
        );
        const urls = [...new Set([...suites, 'https://api.openai.com/v1'].map(normalizeBaseUrl))];
        const picked = await vscode.window.showQuickPick(
          [...urls.map((u) => ({ label: u })), { label: 'Another endpoint...', other: true }],
          { title: 'Set the API key of an OpenAI-compatible endpoint' },
        );
        if (!picked) return;
        if ('other' in picked) {
          baseUrl = await vscode.window.showInputBox({
            title: 'Base URL of the endpoint',
            placeHolder: 'https://example.com/v1',
            validateInput: (v) => {
              try {
                const u = new URL(v);
                return /^https?:$/.test(u.protocol) ? undefined : 'An http or https URL';
              } catch {
                return 'An http or https URL, e.g. https://api.openai.com/v1';
              }
            },
          });
        } else baseUrl = picked.label;
      }
      if (!baseUrl) return;
      const key = await vscode.window.showInputBox({
        title: `API key for ${normalizeBaseUrl(baseUrl)}`,
        prompt:
          "Kept in VS Code's secret storage for this endpoint only. Leave empty to remove the stored key.",
        password: true,
        ignoreFocusOut: true,
      });
      if (key === undefined) return;
      if (key.trim() === '') {
        await keys.delete(baseUrl);
        void vscode.window.showInformationMessage(
          `Removed the API key for ${normalizeBaseUrl(baseUrl)}.`,
        );
      } else {
        await keys.set(baseUrl, key.trim());
        void vscode.window.showInformationMessage(
          `Stored the API key for ${normalizeBaseUrl(baseUrl)}.`,
        );
      }
    }),
  ];
}
