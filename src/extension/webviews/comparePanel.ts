// The Compare Runs panel (and its single-metric form): sends run summaries, then
// each metric's histories decimated to the chart's pixels, answers zoom requests
// with the detail of the range, and appends the points of running runs as they
// arrive. Survives hide/show (the page asks again on ready) and window reloads
// (a serializer reopens it from the state the page saved).

import * as vscode from 'vscode';
import { z } from 'zod';
import { compareRunOf, loadCompareRuns, metricKeysOf } from '../../core/tracking/compare.ts';
import type { Tracking } from '../../core/tracking/tracking.ts';
import { keyMetricOf, lowerIsBetter } from '../../shared/format.ts';
import type { CompareRun, CompareViewState, SeriesColumns } from '../../shared/protocol.ts';
import {
  CompareInit,
  CompareRunsChanged,
  compareViewStateSchema,
  schemaFor,
  OpenRun,
  Painted,
  SeriesAppend,
  SeriesData,
  SeriesRange,
} from '../../shared/protocol.ts';
import type { StoreChange } from '../../core/store/mutations.ts';
import { showRunDocument } from '../runDocument.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { WebviewHost } from './webviewHost.ts';

export const COMPARE_VIEW_TYPE = 'mlops.compare';

export interface ComparePanelDeps {
  store: WorkspaceStore;
  log: vscode.LogOutputChannel;
  extensionUri: vscode.Uri;
}

export class ComparePanel extends WebviewHost {
  private static readonly open = new Set<ComparePanel>();
  private runs: CompareRun[] = [];
  private metrics: string[] = [];
  /** Per metric, per run: the last step sent, so live updates send only what is new. */
  private readonly lastStep = new Map<string, Map<string, number>>();
  /** Decimation budget of the last page that said ready: the guess for the next panel. */
  private static lastPixels = 600;
  private pixels = 600;
  /** Bumped on each ready and reload so that a stale send stops. */
  private generation = 0;
  private commandStarted: number | undefined;
  private firstPaintLogged = false;

  /** Opens a panel; `started` is performance.now() when the command ran (for the timing log). */
  static show(deps: ComparePanelDeps, view: CompareViewState, started?: number): ComparePanel {
    const panel = vscode.window.createWebviewPanel(
      COMPARE_VIEW_TYPE,
      view.title ?? 'Compare Runs',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableFindWidget: true },
    );
    return new ComparePanel(panel, deps, view, started);
  }

  static register(deps: ComparePanelDeps): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        const parsed = schemaFor(compareViewStateSchema, z).safeParse(
          (state as { view?: unknown } | null)?.view,
        );
        if (!parsed.success) {
          deps.log.warn('[compare] a saved panel had no usable state; closed it');
          panel.dispose();
          return;
        }
        new ComparePanel(panel, deps, parsed.data);
      },
    });
  }

  /** Panels open now (the in-host tests and the benchmark look at them). */
  static get panels(): readonly ComparePanel[] {
    return [...ComparePanel.open];
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly deps: ComparePanelDeps,
    readonly view: CompareViewState,
    started?: number,
  ) {
    super(panel, { extensionUri: deps.extensionUri, bundle: 'compare', log: deps.log });
    this.commandStarted = started;
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'mlops.svg');
    ComparePanel.open.add(this);
    this.register({ dispose: () => ComparePanel.open.delete(this) });
    // Reading starts now, while the page loads; what is read queues until it is
    // ready. The page's first ready then only flushes the queue.
    this.pixels = ComparePanel.lastPixels;
    void this.sendAll();
    this.onReady(({ chartPixels }, first) => {
      ComparePanel.lastPixels = chartPixels;
      if (first && chartPixels <= this.pixels) return;
      // Shown again (the page lost its state) or wider than guessed: send afresh.
      this.pixels = chartPixels;
      this.dropQueued();
      void this.sendAll();
    });
    this.register(deps.store.onDidChange((change) => void this.storeChanged(change)));
    this.onRequest(SeriesRange, async (p) => {
      const t = await deps.store.get();
      const series: SeriesColumns[] = [];
      for (const runId of p.runIds) {
        if (!this.view.runIds.includes(runId)) continue;
        const cols = t.metricSeries(runId, p.metric, {
          maxPoints: p.maxPoints,
          range: { axis: p.axis, from: p.from, to: p.to },
        });
        series.push({ runId, ...cols });
      }
      return { metric: p.metric, series };
    });
    this.onNotification(Painted, (p) => {
      const since =
        this.commandStarted !== undefined && !this.firstPaintLogged
          ? `${Math.round(performance.now() - this.commandStarted)} ms after the command`
          : 'after show';
      this.firstPaintLogged = true;
      deps.log.info(
        `[compare] ${p.what} painted ${since}: ${this.runs.length} runs, ${p.charts} charts, ${p.points} points, ${this.bytesSent} bytes sent`,
      );
    });
    this.handleShowError(deps.log, 'compare');
    this.onNotification(OpenRun, async (p) => {
      const run = this.runs.find((r) => r.runId === p.runId);
      if (!run) return;
      await showRunDocument(run.runId, run.runName);
    });
    this.handleCopyAndExport('the comparison');
  }

  private title(): string {
    if (this.view.title) return this.view.title;
    if (this.view.metric) {
      return this.runs.length === 1
        ? `${this.view.metric} · ${this.runs[0]!.runName}`
        : `${this.view.metric} · ${this.runs.length} runs`;
    }
    return `Compare ${this.runs.length} runs`;
  }

  private keyMetric(): string | undefined {
    const configured = vscode.workspace.getConfiguration('mlops').get<string>('keyMetric') ?? '';
    return keyMetricOf(metricKeysOf(this.runs), configured.trim());
  }

  private async sendAll(): Promise<void> {
    const generation = ++this.generation;
    const started = performance.now();
    let t: Tracking;
    try {
      t = await this.deps.store.get();
    } catch (e) {
      void vscode.window.showErrorMessage(`MLOps: ${(e as Error).message}`);
      return;
    }
    const { runs, missing } = loadCompareRuns(t, this.view.runIds);
    this.runs = runs;
    const key = this.keyMetric();
    this.metrics = this.view.metric ? [this.view.metric] : metricKeysOf(runs, key);
    this.panel.title = this.title();
    this.lastStep.clear();
    if (missing.length > 0) {
      this.deps.log.warn(`[compare] ${missing.length} runs no longer exist: ${missing.join(', ')}`);
    }
    this.notify(CompareInit, {
      view: this.view,
      title: this.title(),
      runs,
      metrics: this.metrics,
      focusMetric: this.view.metric ?? null,
      lowerIsBetter: metricKeysOf(runs).filter(lowerIsBetter),
      keyMetric: key ?? null,
      missing,
    });
    let points = 0;
    let total = 0;
    for (const metric of this.metrics) {
      // One metric per turn of the event loop: the page draws each chart as it
      // arrives, and the extension host stays responsive for 5 million points.
      await new Promise((resolve) => setImmediate(resolve));
      if (generation !== this.generation || this.isDisposed) return;
      const block = this.readMetric(t, metric);
      for (const s of block) {
        points += s.step.length;
        total += s.total;
      }
      this.notify(SeriesData, { metric, series: block });
    }
    this.deps.log.info(
      `[compare] sent ${runs.length} runs, ${this.metrics.length} metrics: ${points} of ${total} points in ${Math.round(performance.now() - started)} ms, ${this.bytesSent} bytes`,
    );
  }

  private readMetric(
    t: Tracking,
    metric: string,
    afterStep?: Map<string, number>,
  ): SeriesColumns[] {
    const sent = this.lastStep.get(metric) ?? new Map<string, number>();
    this.lastStep.set(metric, sent);
    const out: SeriesColumns[] = [];
    for (const run of this.runs) {
      if (!run.metrics[metric]) continue;
      if (afterStep && !afterStep.has(run.runId)) continue;
      const after = afterStep?.get(run.runId);
      const cols = t.metricSeries(run.runId, metric, {
        maxPoints: this.pixels,
        afterStep: after,
      });
      if (afterStep && cols.total === 0) continue;
      const last = cols.step[cols.step.length - 1];
      if (last !== undefined) sent.set(run.runId, Math.max(last, sent.get(run.runId) ?? -Infinity));
      out.push({ runId: run.runId, ...cols });
    }
    return out;
  }

  private async storeChanged(change: StoreChange | undefined): Promise<void> {
    if (!change) {
      void this.sendAll();
      return;
    }
    const mine = this.view.runIds.filter((id) => change.runs.has(id));
    if (mine.length === 0) return;
    const t = await this.deps.store.get();
    const names = new Map(t.listExperiments('ALL').map((e) => [e.experimentId, e.name]));
    let newRuns = false;
    for (const id of mine) {
      const i = this.runs.findIndex((r) => r.runId === id);
      let run;
      try {
        run = compareRunOf(t, t.getRun(id), names);
      } catch {
        continue; // deleted for good: keep the last summary
      }
      if (i >= 0) this.runs[i] = run;
      else newRuns = true;
    }
    if (newRuns) {
      void this.sendAll();
      return;
    }
    const known = new Set(this.metrics);
    const metrics = this.view.metric ? this.metrics : metricKeysOf(this.runs, this.keyMetric());
    this.metrics = metrics;
    this.notify(CompareRunsChanged, { runs: this.runs, metrics });
    for (const metric of metrics) {
      if (!known.has(metric)) {
        this.notify(SeriesData, { metric, series: this.readMetric(t, metric) });
        continue;
      }
      const sent = this.lastStep.get(metric) ?? new Map<string, number>();
      const after = new Map<string, number>();
      for (const id of mine) {
        if (!change.metrics.has(id)) continue;
        after.set(id, sent.get(id) ?? -Infinity);
      }
      if (after.size === 0) continue;
      const series = this.readMetric(t, metric, after);
      if (series.length > 0) this.notify(SeriesAppend, { metric, series });
    }
  }
}
