// The trace inspector: one trace's span tree and waterfall, a span's details on demand,
// feedback (an MLflow-style assessment), "Add to eval dataset", and the links to the prompt
// version, the eval run and the run behind it. One panel per trace; it follows spans that
// arrive while it is open; a serializer reopens it after a window reload.

import * as path from 'node:path';
import * as os from 'node:os';
import * as vscode from 'vscode';
import { z } from 'zod';
import { addCaseToSuite, caseFromSpan, suiteDatasetLabel } from '../../core/tracing/toDataset.ts';
import type { TraceViewState } from '../../shared/protocol.ts';
import {
  OpenRun,
  Painted,
  schemaFor,
  TraceAddToDataset,
  TraceFeedback,
  TraceInit,
  TraceOpenEval,
  TraceOpenPrompt,
  TraceSpanDetail,
  TraceUpdated,
  traceViewStateSchema,
} from '../../shared/protocol.ts';
import { promptVersionUri } from '../promptDocument.ts';
import { showRunDocument } from '../runDocument.ts';
import { findSuiteFiles } from '../views/evalsTree.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { assessmentView, spanDetailView, traceView } from './traceViewModel.ts';
import { WebviewHost } from './webviewHost.ts';

export const TRACE_VIEW_TYPE = 'mlops.traceInspector';

export interface TracePanelDeps {
  store: WorkspaceStore;
  log: vscode.LogOutputChannel;
  extensionUri: vscode.Uri;
  /** Opens an eval run's results at a case (the evals panel lives with the eval commands). */
  openEvalRun?: (runId: string, focus?: { index: number; repeat: number }) => void;
}

export class TracePanel extends WebviewHost {
  private static readonly open = new Map<string, TracePanel>();
  private updateTimer: NodeJS.Timeout | undefined;

  static show(deps: TracePanelDeps, traceId: string, focusSpanId?: string): TracePanel {
    const commandStarted = performance.now();
    const existing = TracePanel.open.get(traceId);
    if (existing) {
      existing.panel.reveal(undefined, false);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      TRACE_VIEW_TYPE,
      'Trace',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableFindWidget: true },
    );
    return new TracePanel(panel, deps, { traceId }, focusSpanId ?? null, commandStarted);
  }

  static register(deps: TracePanelDeps): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(TRACE_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        const parsed = schemaFor(traceViewStateSchema, z).safeParse(
          (state as { view?: unknown } | null)?.view,
        );
        if (!parsed.success) {
          deps.log.warn('[traces] a saved trace inspector had no usable state; closed it');
          panel.dispose();
          return;
        }
        new TracePanel(panel, deps, parsed.data, null, performance.now());
      },
    });
  }

  /** Panels open now (the in-host tests look at them). */
  static get panels(): readonly TracePanel[] {
    return [...TracePanel.open.values()];
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly deps: TracePanelDeps,
    private readonly view: TraceViewState,
    private readonly focusSpanId: string | null,
    commandStarted: number,
  ) {
    super(panel, { extensionUri: deps.extensionUri, bundle: 'traces', log: deps.log });
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'mlops.svg');
    TracePanel.open.set(view.traceId, this);
    this.register({ dispose: () => TracePanel.open.delete(view.traceId) });
    this.register({ dispose: () => clearTimeout(this.updateTimer) });
    void this.sendInit(commandStarted);
    let painted = false;
    this.onNotification(Painted, (p) => {
      const since = painted
        ? 'after show'
        : `${Math.round(performance.now() - commandStarted)} ms after the command`;
      painted = true;
      deps.log.info(
        `[traces] inspector painted ${since}: ${p.points} spans, ${this.bytesSent} bytes sent (${p.what})`,
      );
    });
    this.onReady((_p, first) => {
      if (first) return;
      this.dropQueued();
      void this.sendInit(performance.now());
    });
    this.register(
      deps.store.onDidChange((change) => {
        if (change && !change.traces.has(view.traceId)) return;
        // Spans of a live trace arrive in bursts: one update per burst.
        clearTimeout(this.updateTimer);
        this.updateTimer = setTimeout(() => void this.sendUpdate(), 300);
      }),
    );
    this.onRequest(TraceSpanDetail, async (p) => spanDetailView(await this.span(p.spanId)));
    this.onRequest(TraceFeedback, async (p) => {
      const t = await deps.store.get();
      await t.traces.assess({
        traceId: view.traceId,
        spanId: p.spanId,
        name: 'user_feedback',
        value: p.value,
        rationale: p.comment,
        source: { type: 'HUMAN', id: userName() },
      });
      return t.store.reader.traces.assessments(view.traceId).map(assessmentView);
    });
    this.onNotification(TraceAddToDataset, (p) => this.addToDataset(p.spanId));
    this.onNotification(TraceOpenPrompt, async () => {
      const t = await deps.store.get();
      const s = t.traces.summary(view.traceId);
      if (!s?.promptName) throw new Error('This trace is not linked to a prompt version.');
      const version =
        s.promptVersion ?? t.registry.get('prompt', s.promptName).latestVersion ?? undefined;
      if (version === undefined) throw new Error(`Prompt ${s.promptName} has no versions.`);
      await vscode.window.showTextDocument(promptVersionUri(s.promptName, version), {
        preview: true,
      });
    });
    this.onNotification(TraceOpenEval, async () => {
      const t = await deps.store.get();
      const s = t.traces.summary(view.traceId);
      if (!s?.evalRunId) throw new Error('This trace is not linked to an eval run.');
      const [index, repeat] = (s.evalCase ?? '').split('/').map(Number);
      deps.openEvalRun?.(
        s.evalRunId,
        Number.isInteger(index) ? { index: index!, repeat: repeat ?? 0 } : undefined,
      );
    });
    this.onNotification(OpenRun, async (p) => {
      const t = await deps.store.get();
      const info = t.getRunInfo(p.runId);
      await showRunDocument(info.runId, info.runName);
    });
    this.handleShowError(deps.log, 'traces');
    this.handleCopyAndExport('the trace');
  }

  get traceId(): string {
    return this.view.traceId;
  }

  private async outline() {
    const t = await this.deps.store.get();
    const o = t.traces.outline(this.view.traceId);
    if (!o) throw new Error(`Trace ${this.view.traceId} is not in the store (deleted?).`);
    return o;
  }

  private async span(spanId: string) {
    const t = await this.deps.store.get();
    const s = t.traces.span(this.view.traceId, spanId);
    if (!s) throw new Error(`Span ${spanId} is not in this trace (deleted?).`);
    return s;
  }

  private async sendInit(started: number): Promise<void> {
    try {
      const d = await this.outline();
      this.panel.title = `Trace: ${d.summary.name || d.summary.traceId.slice(0, 8)}`;
      this.notify(TraceInit, {
        view: this.view,
        trace: traceView(d),
        focusSpanId: this.focusSpanId,
      });
      this.deps.log.info(
        `[traces] inspector for ${d.summary.traceId} (${d.spans.length} spans) built in ${Math.round(performance.now() - started)} ms`,
      );
    } catch (e) {
      this.deps.log.error(e as Error);
      void vscode.window.showErrorMessage(`MLOps: ${(e as Error).message}`);
      this.dispose();
    }
  }

  private async sendUpdate(): Promise<void> {
    if (this.isDisposed) return;
    try {
      this.notify(TraceUpdated, { trace: traceView(await this.outline()) });
    } catch (e) {
      this.deps.log.warn(`[traces] ${(e as Error).message}`);
    }
  }

  private async addToDataset(spanId: string): Promise<void> {
    const span = await this.span(spanId);
    const c = caseFromSpan(span);
    const suites = (await findSuiteFiles()).filter((s) => s.suite);
    if (suites.length === 0) {
      throw new Error(
        'No eval suite in this workspace to add the case to: create a *.eval.yaml file first (see "Run Eval on This Prompt").',
      );
    }
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    const picked = await vscode.window.showQuickPick(
      suites.map((s) => ({
        label: s.suite!.name ?? path.basename(s.file),
        description: path.relative(root, s.file),
        detail: `dataset: ${suiteDatasetLabel(s.file)}`,
        file: s.file,
      })),
      {
        title: `Add the ${span.name} call as a case of a suite's dataset`,
        placeHolder: 'An eval suite',
      },
    );
    if (!picked) return;
    const result = addCaseToSuite(picked.file, c);
    const where = path.relative(root, result.file);
    if (!result.added) {
      void vscode.window.showInformationMessage(
        `${where} already has a case with these variables; nothing was added.`,
      );
      return;
    }
    this.deps.log.info(`[traces] added case ${c.id} from span ${spanId} to ${where}`);
    const choice = await vscode.window.showInformationMessage(
      `Added case ${c.id} to ${where}.`,
      'Open',
    );
    if (choice === 'Open') await vscode.window.showTextDocument(vscode.Uri.file(result.file));
  }
}

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}
