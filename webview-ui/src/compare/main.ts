// The Compare Runs page (and, with a focus metric, the single-metric chart): the
// table, a chart per metric, parallel coordinates, a scatter and the ranked
// checkpoints. UI state lives in the page's saved state, so hiding the panel or
// reloading the window brings it back as it was.

import {
  buildCompareTable,
  compareTableToCsv,
  compareTableToMarkdown,
} from '../../../src/shared/compareTable.ts';
import type {
  CompareRun,
  CompareViewState,
  Direction,
  XAxis,
} from '../../../src/shared/protocol.ts';
import {
  CompareInit,
  CompareRunsChanged,
  CopyText,
  OpenRun,
  Painted,
  Ready,
  SaveFile,
  SeriesAppend,
  SeriesData,
  SeriesRange,
  ShowError,
} from '../../../src/shared/protocol.ts';
import { button, checkbox, dropdown, radioGroup, slider } from '../common/controls.ts';
import { HostConnection } from '../common/host.ts';
import { chartColors, onThemeChange } from '../common/theme.ts';
import { ChartGrid } from './charts.ts';
import { rankCheckpoints, renderCheckpoints } from './checkpoints.ts';
import { renderParallel } from './parallel.ts';
import { ScatterPlot, scatterChoices } from './scatter.ts';
import { renderTable } from './table.ts';
import './style.css';

interface UiState {
  onlyDifferences: boolean;
  directions: Record<string, Direction>;
  pinned: string[];
  sortBy?: { rowId: string; descending: boolean };
  axis: XAxis;
  smoothing: number;
  logY: boolean;
  hidden: string[];
  parallelMetric?: string;
  scatterX?: string;
  scatterY?: string;
  checkpointMetric?: string;
}

interface SavedState {
  view?: CompareViewState;
  ui: UiState;
}

const host = new HostConnection();
const saved = host.getState<SavedState>();
const ui: UiState = {
  onlyDifferences: false,
  directions: {},
  pinned: [],
  axis: 'step',
  smoothing: 0,
  logY: false,
  hidden: [],
  ...saved?.ui,
};
let view: CompareViewState | undefined = saved?.view;
let runs: CompareRun[] = [];
let metrics: string[] = [];
let lowerByDefault = new Set<string>();
let focusMetric: string | null = null;
let keyMetric: string | null = null;
let colors = chartColors();
const colorIndex = new Map<string, number>();
let expectedSeries = 0;
let receivedSeries = 0;
let paintReported = false;

function save(): void {
  host.setState<SavedState>({ view, ui });
}

function colorOf(runId: string): string {
  return colors.series(colorIndex.get(runId) ?? 0);
}

function directionOf(metric: string): Direction {
  return ui.directions[metric] ?? (lowerByDefault.has(metric) ? 'min' : 'max');
}

function section(
  id: string,
  title: string,
): { root: HTMLElement; toolbar: HTMLElement; body: HTMLElement } {
  const root = document.createElement('section');
  root.id = id;
  const h = document.createElement('h2');
  h.textContent = title;
  const toolbar = document.createElement('div');
  toolbar.className = 'toolbar';
  toolbar.setAttribute('role', 'toolbar');
  toolbar.setAttribute('aria-label', `${title} options`);
  const body = document.createElement('div');
  body.className = 'section-body';
  root.append(h, toolbar, body);
  return { root, toolbar, body };
}

// ------------------------------------------------------------------ layout

const app = document.getElementById('app')!;
const header = document.createElement('header');
const title = document.createElement('h1');
const subtitle = document.createElement('p');
subtitle.className = 'subtitle';
header.append(title, subtitle);

const tableSection = section('table-section', 'Runs');
const tableBody = document.createElement('div');
tableBody.className = 'table-wrap';
tableBody.tabIndex = 0;
tableBody.setAttribute('aria-label', 'Comparison table; scroll sideways for more runs');
tableSection.body.append(tableBody);
tableSection.toolbar.append(
  checkbox(
    'Only differences',
    ui.onlyDifferences,
    (v) => {
      ui.onlyDifferences = v;
      save();
      drawTable();
    },
    'only-differences',
  ),
  button('Export CSV', () => exportTable('csv'), { secondary: true, id: 'export-csv' }),
  button('Copy as Markdown', () => exportTable('markdown'), {
    secondary: true,
    id: 'copy-markdown',
  }),
);

const chartsSection = section('charts-section', 'Metrics');
const legend = document.createElement('div');
legend.className = 'legend';
legend.setAttribute('role', 'group');
legend.setAttribute('aria-label', 'Runs shown in the charts');
const chartGridEl = document.createElement('div');
chartGridEl.className = 'chart-grid';
chartsSection.body.append(legend, chartGridEl);
const hint = document.createElement('span');
hint.className = 'hint';
hint.textContent = 'Drag across a chart to zoom into its full detail; Ctrl+wheel zooms too.';
chartsSection.toolbar.append(
  radioGroup(
    'X axis',
    [
      { value: 'step', label: 'Step' },
      { value: 'time', label: 'Wall time' },
      { value: 'relative', label: 'Relative time' },
    ],
    ui.axis,
    (v) => {
      ui.axis = v as XAxis;
      save();
      grid.settings = chartSettings();
      grid.rebuildAll();
    },
    'x-axis',
  ),
  slider(
    'Smoothing',
    0,
    0.99,
    0.01,
    ui.smoothing,
    (v) => {
      ui.smoothing = v;
      save();
      grid.settings = chartSettings();
      grid.updateAll();
    },
    'smoothing',
  ),
  checkbox(
    'Log scale',
    ui.logY,
    (v) => {
      ui.logY = v;
      save();
      grid.settings = chartSettings();
      grid.updateAll();
    },
    'log-y',
  ),
  button('Reset zoom', () => grid.resetZoom(), { secondary: true, id: 'reset-zoom' }),
  hint,
);

const sweepSection = section('sweep-section', 'Sweep');
const parallelEl = document.createElement('div');
parallelEl.className = 'parallel-wrap';
const scatterWrap = document.createElement('div');
scatterWrap.className = 'scatter-wrap';
const scatterCanvas = document.createElement('canvas');
scatterCanvas.setAttribute('role', 'img');
const scatterNote = document.createElement('p');
scatterNote.className = 'hint';
scatterWrap.append(scatterCanvas);
sweepSection.body.append(parallelEl, scatterWrap, scatterNote);
const scatter = new ScatterPlot(scatterCanvas, scatterNote);
const parallelPick = dropdown(
  [],
  '',
  (v) => {
    ui.parallelMetric = v;
    save();
    drawSweep();
  },
  { label: 'Metric for parallel coordinates', id: 'parallel-metric' },
);
const scatterX = dropdown(
  [],
  '',
  (v) => {
    ui.scatterX = v;
    save();
    drawSweep();
  },
  { label: 'Scatter x', id: 'scatter-x' },
);
const scatterY = dropdown(
  [],
  '',
  (v) => {
    ui.scatterY = v;
    save();
    drawSweep();
  },
  { label: 'Scatter y', id: 'scatter-y' },
);
const label = (text: string): HTMLElement => {
  const s = document.createElement('span');
  s.className = 'label';
  s.textContent = text;
  return s;
};
sweepSection.toolbar.append(
  label('Parallel coordinates by'),
  parallelPick,
  label('Scatter'),
  scatterY,
  label('against'),
  scatterX,
);

const checkpointsSection = section('checkpoints-section', 'Checkpoints');
const checkpointPick = dropdown(
  [],
  '',
  (v) => {
    ui.checkpointMetric = v;
    save();
    drawCheckpoints();
  },
  { label: 'Rank checkpoints by', id: 'checkpoint-metric' },
);
checkpointsSection.toolbar.append(label('Ranked by'), checkpointPick);

const missingNote = document.createElement('p');
missingNote.className = 'hint';
app.append(
  header,
  missingNote,
  tableSection.root,
  chartsSection.root,
  sweepSection.root,
  checkpointsSection.root,
);

function chartSettings(): ChartGrid['settings'] {
  return { axis: ui.axis, smoothing: ui.smoothing, logY: ui.logY, hidden: new Set(ui.hidden) };
}

function chartPixels(): number {
  // The plot area of one card: the grid's column width less the axes.
  const width = chartGridEl.clientWidth || document.body.clientWidth || 800;
  const columns = focusMetric ? 1 : Math.max(1, Math.floor(width / 420));
  return Math.max(100, Math.min(4000, Math.round(width / columns - 70)));
}

const grid = new ChartGrid(
  chartGridEl,
  {
    loadRange: (metric, runIds, axis, from, to, maxPoints) =>
      host.request(SeriesRange, { metric, runIds, axis, from, to, maxPoints }),
    onError: (message) => host.notify(ShowError, { message }),
  },
  chartSettings(),
  colors,
  colorOf,
  chartPixels(),
);

// ------------------------------------------------------------------ drawing

function drawTable(): void {
  const table = buildCompareTable(runs, {
    onlyDifferences: ui.onlyDifferences,
    directions: Object.fromEntries(metrics.map((m) => [m, directionOf(m)])),
    pinned: ui.pinned,
    sortBy: ui.sortBy,
  });
  renderTable(tableBody, table, {
    colorOf,
    isPinned: (id) => ui.pinned.includes(id),
    togglePin: (id) => {
      ui.pinned = ui.pinned.includes(id) ? ui.pinned.filter((p) => p !== id) : [...ui.pinned, id];
      save();
      drawTable();
    },
    sortBy: (rowId) => {
      ui.sortBy =
        ui.sortBy?.rowId === rowId
          ? { rowId, descending: !ui.sortBy.descending }
          : { rowId, descending: false };
      save();
      drawTable();
      (
        tableBody.querySelector(
          `tr[data-row-id="${CSS.escape(rowId)}"] .row-label`,
        ) as HTMLElement | null
      )?.focus();
    },
    sortState: () => ui.sortBy,
    toggleDirection: (metric, current) => {
      ui.directions[metric] = current === 'min' ? 'max' : 'min';
      save();
      drawTable();
      drawSweep();
      drawCheckpoints();
    },
    openRun: (runId) => host.notify(OpenRun, { runId }),
  });
}

function exportTable(format: 'csv' | 'markdown'): void {
  const table = buildCompareTable(runs, {
    onlyDifferences: ui.onlyDifferences,
    directions: Object.fromEntries(metrics.map((m) => [m, directionOf(m)])),
    pinned: ui.pinned,
    sortBy: ui.sortBy,
  });
  if (format === 'csv') {
    host.notify(SaveFile, {
      suggestedName: 'run-comparison.csv',
      content: compareTableToCsv(table),
    });
  } else {
    host.notify(CopyText, {
      text: compareTableToMarkdown(table),
      what: 'the comparison as Markdown',
    });
  }
}

function drawLegend(): void {
  const hidden = new Set(ui.hidden);
  legend.replaceChildren(
    ...runs.map((run) => {
      const b = document.createElement('button');
      b.className = 'legend-item';
      b.dataset.runId = run.runId;
      const shown = !hidden.has(run.runId);
      b.setAttribute('aria-pressed', String(shown));
      b.title = shown ? `Hide ${run.runName} in the charts` : `Show ${run.runName} in the charts`;
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.backgroundColor = colorOf(run.runId);
      b.append(swatch, document.createTextNode(run.runName || run.runId.slice(0, 8)));
      b.addEventListener('click', () => {
        ui.hidden = shown ? [...ui.hidden, run.runId] : ui.hidden.filter((h) => h !== run.runId);
        save();
        grid.settings = chartSettings();
        grid.updateAll();
        drawLegend();
        drawSweep();
        (
          legend.querySelector(`[data-run-id="${CSS.escape(run.runId)}"]`) as HTMLElement | null
        )?.focus();
      });
      return b;
    }),
  );
}

function drawSweep(): void {
  if (focusMetric) return;
  const metricChoices = metrics.map((m) => ({ value: m, label: m }));
  const pm =
    ui.parallelMetric && metrics.includes(ui.parallelMetric)
      ? ui.parallelMetric
      : (keyMetric ?? metrics[0] ?? '');
  parallelPick.setChoices(metricChoices, pm);
  const choices = scatterChoices(runs);
  const values = choices.map((c) => c.value);
  const sx =
    ui.scatterX && values.includes(ui.scatterX)
      ? ui.scatterX
      : (values.find(
          (v) => v.startsWith('param:') && new Set(runs.map((r) => r.params[v.slice(6)])).size > 1,
        ) ??
        values.find((v) => v.startsWith('param:')) ??
        values[0] ??
        '');
  const sy =
    ui.scatterY && values.includes(ui.scatterY)
      ? ui.scatterY
      : keyMetric
        ? `metric:${keyMetric}`
        : (values.find((v) => v.startsWith('metric:')) ?? values[0] ?? '');
  scatterX.setChoices(choices, sx);
  scatterY.setChoices(choices, sy);
  const hidden = new Set(ui.hidden);
  if (pm) renderParallel(parallelEl, runs, pm, directionOf(pm), colors, hidden);
  else parallelEl.replaceChildren();
  if (sx && sy) scatter.render(runs, sx, sy, colors, colorOf, hidden);
}

function drawCheckpoints(): void {
  const any = runs.some((r) => r.checkpoints.length > 0);
  checkpointsSection.root.hidden = !any || !!focusMetric;
  if (!any) return;
  const keys = [
    ...new Set(runs.flatMap((r) => r.checkpoints.flatMap((c) => Object.keys(c.metrics)))),
  ].sort();
  const metric =
    ui.checkpointMetric && keys.includes(ui.checkpointMetric)
      ? ui.checkpointMetric
      : keyMetric && keys.includes(keyMetric)
        ? keyMetric
        : (keys[0] ?? '');
  checkpointPick.setChoices(
    keys.map((k) => ({ value: k, label: k })),
    metric,
  );
  renderCheckpoints(
    checkpointsSection.body,
    rankCheckpoints(runs, metric, directionOf(metric)),
    metric,
    colorOf,
  );
}

function setRuns(next: CompareRun[]): void {
  runs = next;
  for (const r of runs) if (!colorIndex.has(r.runId)) colorIndex.set(r.runId, colorIndex.size);
  grid.runs = runs;
  subtitle.textContent = `${runs.length} ${runs.length === 1 ? 'run' : 'runs'} · ${[...new Set(runs.map((r) => r.experimentName))].join(', ')}`;
}

function reportPaintWhenDone(): void {
  if (paintReported || receivedSeries < expectedSeries) return;
  paintReported = true;
  // Two frames: the charts were drawn in the first, the second follows its paint.
  requestAnimationFrame(() =>
    requestAnimationFrame(() =>
      host.notify(Painted, {
        what: focusMetric ? 'metric chart' : 'comparison',
        charts: grid.count,
        points: grid.points,
      }),
    ),
  );
}

// ------------------------------------------------------------------ messages

host.on(CompareInit, (init) => {
  view = init.view;
  save();
  title.textContent = init.title;
  document.title = init.title;
  focusMetric = init.focusMetric;
  keyMetric = init.keyMetric;
  lowerByDefault = new Set(init.lowerIsBetter);
  metrics = init.metrics;
  document.body.classList.toggle('single-metric', !!focusMetric);
  tableSection.root.hidden = !!focusMetric;
  sweepSection.root.hidden = !!focusMetric || init.runs.length < 2;
  missingNote.textContent =
    init.missing.length > 0
      ? `${init.missing.length} of the runs no longer exist: ${init.missing.join(', ')}`
      : '';
  setRuns(init.runs);
  expectedSeries = metrics.length;
  receivedSeries = 0;
  grid.pixels = chartPixels();
  grid.setMetrics(metrics);
  if (!focusMetric) drawTable();
  drawLegend();
  drawSweep();
  drawCheckpoints();
  reportPaintWhenDone();
});

host.on(CompareRunsChanged, (change) => {
  setRuns(change.runs);
  metrics = focusMetric ? metrics : change.metrics;
  grid.setMetrics(metrics);
  if (!focusMetric) drawTable();
  drawLegend();
  drawSweep();
  drawCheckpoints();
});

host.on(SeriesData, (block) => {
  grid.setData(block);
  receivedSeries++;
  reportPaintWhenDone();
});

host.on(SeriesAppend, (block) => grid.append(block));

onThemeChange(() => {
  colors = chartColors();
  grid.colors = colors;
  grid.updateAll();
  drawLegend();
  if (!focusMetric) drawTable();
  drawSweep();
});

window.addEventListener('error', (e) =>
  host.notify(ShowError, { message: `The compare view failed: ${e.message}` }),
);

host.notify(Ready, { chartPixels: chartPixels() });
