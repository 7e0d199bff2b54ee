// The eval results panel: one eval run's summary, its cases with their verdicts,
// the change against the previous run of the suite, and a side-by-side with any
// other run of the same suite. One panel per run (opening it again reveals it);
// a serializer reopens it after a window reload from the state the page saved.

import * as vscode from 'vscode';
import { z } from 'zod';
import { compareEvals } from '../../core/evals/report.ts';
import type { EvalComparison } from '../../core/evals/report.ts';
import type { EvalResult } from '../../core/evals/runner.ts';
import { listEvalRuns, loadEvalResult } from '../../core/evals/session.ts';
import type { Tracking } from '../../core/tracking/tracking.ts';
import type {
  EvalCaseView,
  EvalRunChoice,
  EvalRunView,
  EvalViewState,
} from '../../shared/protocol.ts';
import {
  EvalFocusCase,
  EvalInit,
  EvalLoadRun,
  EvalRunsChanged,
  evalViewStateSchema,
  OpenRun,
  OpenTrace,
  schemaFor,
} from '../../shared/protocol.ts';
import { TracePanel } from './tracePanel.ts';
import { showRunDocument } from '../runDocument.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { WebviewHost } from './webviewHost.ts';

export const EVAL_VIEW_TYPE = 'mlops.evalResults';

export interface EvalPanelDeps {
  store: WorkspaceStore;
  log: vscode.LogOutputChannel;
  extensionUri: vscode.Uri;
}

/** Older results files lack the cost fields: they read as unknown. */
function caseView(c: EvalResult['cases'][number]): EvalCaseView {
  const x = c as typeof c & {
    costUsd?: number | null;
    judgeCostUsd?: number | null;
    tokensEstimated?: boolean;
  };
  return {
    index: c.index,
    repeat: c.repeat,
    id: c.id,
    vars: c.vars,
    input: c.input.map((m) => ({ role: m.role, content: m.content })),
    output: c.output,
    status: c.status,
    error: c.error,
    verdicts: c.verdicts.map((v) => ({
      name: v.name,
      pass: v.pass,
      score: v.score,
      reason: v.reason,
      ...((v as { errored?: boolean }).errored ? { errored: true } : {}),
    })),
    tokens: c.usage,
    tokensEstimated: x.tokensEstimated ?? false,
    costUsd: x.costUsd ?? null,
    judgeCostUsd: x.judgeCostUsd ?? null,
    latencyMs: c.latencyMs,
    ttftMs: c.ttftMs,
    cached: c.cached,
    traceId: c.traceId ?? null,
  };
}

export function evalRunView(
  runId: string,
  suiteFile: string,
  result: EvalResult,
  comparison: EvalComparison | null,
): EvalRunView {
  const s = result.summary as EvalResult['summary'] & {
    costUsd?: number | null;
    judgeCostUsd?: number | null;
    costEstimated?: boolean;
    priceSource?: string | null;
  };
  const c = comparison as
    (EvalComparison & { costChange?: number | null; latencyP50Change?: number | null }) | null;
  return {
    runId,
    suite: result.suite,
    suiteFile,
    model: result.model,
    baseUrl: result.baseUrl,
    prompt: result.prompt,
    startedAt: result.startedAt,
    criteria: Object.keys(s.perCriterion),
    summary: {
      resultCounts: s.resultCounts,
      perCriterion: s.perCriterion,
      passRate: s.passRate,
      latencyMs: s.latencyMs,
      ttftMs: s.ttftMs,
      tokens: s.tokens,
      costUsd: s.costUsd ?? null,
      judgeCostUsd: s.judgeCostUsd ?? null,
      costEstimated: s.costEstimated ?? false,
      priceSource: s.priceSource ?? null,
      repeat: s.repeat,
      passAtK: s.passAtK,
      passHatK: s.passHatK,
      cachedCalls: s.cachedCalls,
      durationMs: s.durationMs,
    },
    comparison: c
      ? {
          previousRunId: c.previousRunId,
          passRateChange: c.passRateChange,
          flipped: c.flipped,
          outputTokensChange: c.outputTokensChange,
          costChange: c.costChange ?? null,
          latencyP50Change: c.latencyP50Change ?? null,
          costRegression: c.costRegression,
        }
      : null,
    cases: result.cases.map(caseView),
  };
}

export class EvalPanel extends WebviewHost {
  private static readonly open = new Map<string, EvalPanel>();
  private suite = '';
  private otherRuns: EvalRunChoice[] = [];

  /** Opens (or reveals) the panel of a run, optionally at one case. */
  static show(
    deps: EvalPanelDeps,
    runId: string,
    focus?: { index: number; repeat: number },
  ): EvalPanel {
    const existing = EvalPanel.open.get(runId);
    if (existing) {
      existing.panel.reveal(undefined, false);
      if (focus) existing.notify(EvalFocusCase, focus);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      EVAL_VIEW_TYPE,
      'Eval Results',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableFindWidget: true },
    );
    return new EvalPanel(panel, deps, { runId }, focus);
  }

  static register(deps: EvalPanelDeps): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(EVAL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        const parsed = schemaFor(evalViewStateSchema, z).safeParse(
          (state as { view?: unknown } | null)?.view,
        );
        if (!parsed.success) {
          deps.log.warn('[evals] a saved results panel had no usable state; closed it');
          panel.dispose();
          return;
        }
        new EvalPanel(panel, deps, parsed.data);
      },
    });
  }

  /** Panels open now (the in-host tests look at them). */
  static get panels(): readonly EvalPanel[] {
    return [...EvalPanel.open.values()];
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly deps: EvalPanelDeps,
    private view: EvalViewState,
    focus?: { index: number; repeat: number },
  ) {
    super(panel, { extensionUri: deps.extensionUri, bundle: 'evals', log: deps.log });
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'mlops.svg');
    EvalPanel.open.set(view.runId, this);
    this.register({ dispose: () => EvalPanel.open.delete(view.runId) });
    void this.sendInit(focus ?? null);
    this.onReady((_p, first) => {
      if (first) return;
      // Shown again after the page was discarded: it gets the current state.
      this.dropQueued();
      void this.sendInit(null);
    });
    this.onRequest(EvalLoadRun, async (p) => {
      this.view = p.runId
        ? { runId: this.view.runId, compareWith: p.runId }
        : { runId: this.view.runId };
      if (!p.runId) return null;
      const t = await deps.store.get();
      return this.readRun(t, p.runId);
    });
    this.register(
      deps.store.onDidChange((change) => {
        if (!change || change.runs.size > 0) void this.refreshRuns();
      }),
    );
    this.handleShowError(deps.log, 'evals');
    this.onNotification(OpenRun, async (p) => {
      const t = await deps.store.get();
      const info = t.getRunInfo(p.runId);
      await showRunDocument(info.runId, info.runName);
    });
    this.onNotification(OpenTrace, (p) => {
      TracePanel.show(
        { ...deps, openEvalRun: (runId, focus) => EvalPanel.show(deps, runId, focus) },
        p.traceId,
      );
    });
    this.handleCopyAndExport('the eval results');
  }

  get runId(): string {
    return this.view.runId;
  }

  /** A run with its comparison against the run of the same suite just before it. */
  private readRun(t: Tracking, runId: string): EvalRunView {
    const info = t.getRun(runId);
    const suite = info.tags['mlops.eval.suite'] ?? '';
    const result = loadEvalResult(t, runId);
    const runs = listEvalRuns(t, suite);
    const i = runs.findIndex((r) => r.runId === runId);
    const previous = i >= 0 ? runs[i + 1] : undefined;
    let comparison: EvalComparison | null = null;
    if (previous) {
      try {
        comparison = compareEvals(loadEvalResult(t, previous.runId), result, previous.runId);
      } catch {
        comparison = null; // the previous run's results are gone: no comparison
      }
    }
    return evalRunView(runId, suite, result, comparison);
  }

  private choices(t: Tracking): EvalRunChoice[] {
    return listEvalRuns(t, this.suite)
      .filter((r) => r.runId !== this.view.runId)
      .map((r) => ({
        runId: r.runId,
        label: `${r.prompt} · ${r.model} · ${new Date(r.startTime).toLocaleString()}`,
        startedAt: r.startTime,
        passRate: r.passRate,
      }));
  }

  private async sendInit(focus: { index: number; repeat: number } | null): Promise<void> {
    let t: Tracking;
    try {
      t = await this.deps.store.get();
      const run = this.readRun(t, this.view.runId);
      this.suite = run.suiteFile;
      this.panel.title = `Eval: ${run.suite} · ${run.prompt.label}`;
      this.otherRuns = this.choices(t);
      let compareRun: EvalRunView | null = null;
      if (this.view.compareWith) {
        try {
          compareRun = this.readRun(t, this.view.compareWith);
        } catch {
          this.view = { runId: this.view.runId };
        }
      }
      this.notify(EvalInit, {
        view: this.view,
        run,
        otherRuns: this.otherRuns,
        compareRun,
        focus,
      });
    } catch (e) {
      this.deps.log.error(e as Error);
      void vscode.window.showErrorMessage(`MLOps: ${(e as Error).message}`);
      this.dispose();
    }
  }

  private async refreshRuns(): Promise<void> {
    if (!this.suite) return;
    const t = await this.deps.store.get();
    const next = this.choices(t);
    if (JSON.stringify(next) === JSON.stringify(this.otherRuns)) return;
    this.otherRuns = next;
    this.notify(EvalRunsChanged, { otherRuns: next });
  }
}
