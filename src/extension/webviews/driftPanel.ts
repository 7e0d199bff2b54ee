// The drift report panel: one drift check run's report (the dataset verdict, a row per
// column with its test, statistic and verdict, and the reference-vs-current chart of a
// column). One panel per run (opening it again reveals it); a serializer reopens it
// after a window reload from the state the page saved.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import type { DriftReport } from '../../core/drift/check.ts';
import { loadDriftReport } from '../../core/drift/monitoring.ts';
import type {
  DriftChartView,
  DriftColumnView,
  DriftReportView,
  DriftViewState,
} from '../../shared/protocol.ts';
import {
  DriftInit,
  DriftRetrain,
  driftViewStateSchema,
  OpenRun,
  schemaFor,
} from '../../shared/protocol.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import { showRunDocument } from '../runDocument.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { WebviewHost } from './webviewHost.ts';

export const DRIFT_VIEW_TYPE = 'mlops.driftReport';

export interface DriftPanelDeps {
  store: WorkspaceStore;
  log: vscode.LogOutputChannel;
  extensionUri: vscode.Uri;
}

function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function numbers(v: unknown): number[] {
  return Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x : NaN)) : [];
}

function chartView(chart: unknown): DriftChartView | null {
  if (!chart || typeof chart !== 'object') return null;
  const c = chart as Record<string, unknown>;
  if (c.kind === 'histogram') {
    return {
      kind: 'histogram',
      edges: numbers(c.edges),
      reference: numbers(c.reference),
      current: numbers(c.current),
    };
  }
  if (c.kind === 'categories' && Array.isArray(c.labels)) {
    return {
      kind: 'categories',
      labels: c.labels.map(String),
      reference: numbers(c.reference),
      current: numbers(c.current),
    };
  }
  return null;
}

/**
 * The report as the page takes it. The report is read back from a JSON artifact, which
 * an older version (or a hand) may have written: missing fields read as empty rather
 * than break the page, and a NaN that JSON stored as null stays null.
 */
function driftReportView(report: DriftReport): DriftReportView {
  if (!report || typeof report !== 'object' || !Array.isArray(report.columns)) {
    throw new Error('The drift report has no columns; it is not a drift report.');
  }
  const r = report as Partial<DriftReport>;
  const columns: DriftColumnView[] = report.columns.map((c) => ({
    column: String(c.column),
    sourceColumn: String(c.sourceColumn ?? c.column),
    kind: String(c.kind ?? ''),
    test: String(c.test ?? ''),
    chosenBy: c.chosenBy === 'column' || c.chosenBy === 'global' ? c.chosenBy : 'auto',
    reason: String(c.reason ?? ''),
    statistic: numberOrNull(c.statistic),
    pValue: numberOrNull(c.pValue),
    threshold: Number(c.threshold),
    possibleThreshold: Number(c.possibleThreshold ?? c.threshold),
    drift: c.drift === true,
    verdict: c.verdict === 'drift' || c.verdict === 'possible' ? c.verdict : 'none',
    bins: Array.isArray(c.bins) ? numbers(c.bins) : null,
    reference: {
      count: Number(c.reference?.count ?? 0),
      missing: Number(c.reference?.missing ?? 0),
      sampled: c.reference?.sampled === true,
    },
    current: { count: Number(c.current?.count ?? 0), missing: Number(c.current?.missing ?? 0) },
    chart: chartView(c.chart),
    ...(c.error ? { error: String(c.error) } : {}),
  }));
  return {
    reference: {
      source: String(r.reference?.source ?? ''),
      rows: Number(r.reference?.rows ?? 0),
      digest: r.reference?.digest ?? null,
      baseline: r.reference?.baseline ?? null,
    },
    current: {
      source: String(r.current?.source ?? ''),
      rows: Number(r.current?.rows ?? 0),
      digest: r.current?.digest ?? null,
    },
    columns,
    missingColumns: (r.missingColumns ?? []).map(String),
    newColumns: (r.newColumns ?? []).map(String),
    driftedColumns: Number(r.driftedColumns ?? 0),
    checkedColumns: Number(r.checkedColumns ?? 0),
    driftedShare: Number(r.driftedShare ?? 0),
    driftShareThreshold: Number(r.driftShareThreshold ?? 0.5),
    datasetDrift: r.datasetDrift === true,
    datasetVerdict:
      r.datasetVerdict === 'drift' || r.datasetVerdict === 'possible' ? r.datasetVerdict : 'none',
    createdAt: Number(r.createdAt ?? 0),
  };
}

let revive: (panel: vscode.WebviewPanel, deps: DriftPanelDeps, view: DriftViewState) => void;

export class DriftPanel extends WebviewHost {
  private static readonly open = new Map<string, DriftPanel>();

  /** Opens (or reveals) the report of a drift check run. */
  static show(deps: DriftPanelDeps, runId: string): DriftPanel {
    const existing = DriftPanel.open.get(runId);
    if (existing) {
      existing.panel.reveal(undefined, false);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      DRIFT_VIEW_TYPE,
      'Drift Report',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableFindWidget: true },
    );
    return new DriftPanel(panel, deps, { runId });
  }

  /** The panel showing this run, if open (for tests and commands). */
  static get(runId: string): DriftPanel | undefined {
    return DriftPanel.open.get(runId);
  }

  static {
    // The serializer builds panels too, without making the constructor public.
    revive = (panel, deps, view) => new DriftPanel(panel, deps, view);
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly deps: DriftPanelDeps,
    private readonly view: DriftViewState,
  ) {
    super(panel, { extensionUri: deps.extensionUri, bundle: 'drift', log: deps.log });
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'mlops.svg');
    DriftPanel.open.set(view.runId, this);
    this.register({
      dispose: () => {
        if (DriftPanel.open.get(view.runId) === this) DriftPanel.open.delete(view.runId);
      },
    });
    void this.sendInit();
    this.onReady((_p, first) => {
      if (first) return;
      // Shown again after the page was discarded: it gets the report again.
      this.dropQueued();
      void this.sendInit();
    });
    this.handleShowError(deps.log, 'drift');
    this.onNotification(OpenRun, async () => {
      // This panel's run, whatever the page names: the page is untrusted.
      const info = (await deps.store.get()).getRunInfo(view.runId);
      await showRunDocument(info.runId, info.runName);
    });
    this.onNotification(DriftRetrain, async () => {
      // The run is this panel's, never one the page names: the page is untrusted. The
      // command (registered through registerCommand) shows its own errors.
      deps.log.info(`[drift] retrain requested from the report of run ${view.runId}`);
      await vscode.commands.executeCommand(COMMAND_IDS.retrain, view.runId);
    });
    this.handleCopyAndExport('the drift report');
  }

  get runId(): string {
    return this.view.runId;
  }

  private async sendInit(): Promise<void> {
    try {
      const t = await this.deps.store.get();
      const report = driftReportView(loadDriftReport(t, this.view.runId));
      let runName = '';
      try {
        runName = t.getRunInfo(this.view.runId).runName;
      } catch {
        runName = ''; // the run was deleted after its report was read: the report still shows
      }
      const ref =
        report.reference.baseline !== null
          ? `baseline ${report.reference.baseline}`
          : path.basename(report.reference.source);
      this.panel.title = `Drift: ${path.basename(report.current.source)} vs ${ref}`;
      this.notify(DriftInit, { view: this.view, runName, report });
    } catch (e) {
      this.deps.log.error(e as Error);
      void vscode.window.showErrorMessage(`MLOps: ${(e as Error).message}`);
      this.dispose();
    }
  }
}

/** Registers the serializer so an open report comes back after a window reload. */
export function registerDriftPanelSerializer(deps: DriftPanelDeps): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(DRIFT_VIEW_TYPE, {
    deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
      const parsed = schemaFor(driftViewStateSchema, z).safeParse(
        (state as { view?: unknown } | null)?.view,
      );
      if (!parsed.success) {
        deps.log.warn('[drift] a saved drift report panel had no usable state; closed it');
        panel.dispose();
        return;
      }
      if (DriftPanel.get(parsed.data.runId)) {
        // Two restored panels of one run: keep the one already open.
        panel.dispose();
        return;
      }
      revive(panel, deps, parsed.data);
    },
  });
}
