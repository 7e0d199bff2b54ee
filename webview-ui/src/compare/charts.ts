// Line charts, one per metric and a line per run, with chart.js: x by step, wall
// time or time since the run started; EMA smoothing with the raw line faint
// underneath; log y; a tooltip with every run's value at the cursor's x; drag to
// zoom, which asks the host for the full detail of the range. Histories arrive
// already decimated to the chart's pixels; live points are appended in place.

import {
  CategoryScale,
  Chart,
  Filler,
  Interaction,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';
import type { ChartDataset, ChartEvent, InteractionItem } from 'chart.js';
import { getRelativePosition } from 'chart.js/helpers';
import zoomPlugin from 'chartjs-plugin-zoom';
import { formatMetricValue } from '../../../src/shared/format.ts';
import { formatDuration } from '../../../src/shared/compareTable.ts';
import type { CompareRun, SeriesBlock, XAxis } from '../../../src/shared/protocol.ts';
import { boundPoints, emaSmooth } from '../../../src/shared/series.ts';
import type { ChartColors } from '../common/theme.ts';
import { withAlpha } from '../common/theme.ts';

Chart.register(
  LineController,
  ScatterController,
  LineElement,
  PointElement,
  LinearScale,
  LogarithmicScale,
  CategoryScale,
  Tooltip,
  Filler,
  zoomPlugin,
);

interface Columns {
  step: Float64Array;
  time: Float64Array;
  value: Float64Array;
  total: number;
}

interface Point {
  x: number;
  y: number | null;
}

type LineDataset = ChartDataset<'line', Point[]> & { runId: string; raw?: boolean };

// "Every run's value at this x": per visible line, its point nearest the cursor in x.
(Interaction.modes as unknown as Record<string, unknown>).eachRunAtX = (
  chart: Chart,
  e: ChartEvent,
): InteractionItem[] => {
  const pos = getRelativePosition(e as unknown as Event, chart as never);
  const items: InteractionItem[] = [];
  chart.data.datasets.forEach((ds, datasetIndex) => {
    if ((ds as LineDataset).raw || !chart.isDatasetVisible(datasetIndex)) return;
    const elements = chart.getDatasetMeta(datasetIndex).data;
    let lo = 0;
    let hi = elements.length - 1;
    if (hi < 0) return;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (elements[mid]!.x < pos.x) lo = mid + 1;
      else hi = mid;
    }
    let best = lo;
    if (lo > 0 && Math.abs(elements[lo - 1]!.x - pos.x) < Math.abs(elements[lo]!.x - pos.x))
      best = lo - 1;
    const el = elements[best]!;
    const y = (ds.data[best] as Point | undefined)?.y;
    if (y === null || y === undefined || Math.abs(el.x - pos.x) > 40) return;
    items.push({ element: el, datasetIndex, index: best });
  });
  return items;
};

export interface ChartSettings {
  axis: XAxis;
  smoothing: number;
  logY: boolean;
  hidden: ReadonlySet<string>;
}

export interface ChartHost {
  /** Full detail of an x range, decimated to `maxPoints`. */
  loadRange(
    metric: string,
    runIds: string[],
    axis: XAxis,
    from: number,
    to: number,
    maxPoints: number,
  ): Promise<SeriesBlock>;
  onError(message: string): void;
}

function formatX(axis: XAxis, v: number): string {
  if (axis === 'step') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1);
  if (axis === 'relative') return formatDuration(v * 1000);
  const d = new Date(v);
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

const AXIS_TITLES: Record<XAxis, string> = {
  step: 'step',
  time: 'wall time',
  relative: 'time since run start',
};

/** One metric's chart card. */
class MetricChart {
  readonly figure: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly status: HTMLElement;
  private chart: Chart<'line', Point[]> | undefined;
  /** Decimated full-range histories, per run. */
  readonly full = new Map<string, Columns>();
  /** When zoomed: the detail of the range, per run. */
  private detail: Map<string, Columns> | undefined;
  private zoomToken = 0;
  private resetting = false;

  constructor(
    readonly metric: string,
    private readonly grid: ChartGrid,
  ) {
    this.figure = document.createElement('figure');
    this.figure.className = 'chart-card';
    this.figure.dataset.metric = metric;
    const caption = document.createElement('figcaption');
    const title = document.createElement('span');
    title.className = 'chart-title';
    title.textContent = metric;
    this.status = document.createElement('span');
    this.status.className = 'chart-status';
    const reset = document.createElement('button');
    reset.className = 'link reset-zoom';
    reset.textContent = 'Reset zoom';
    reset.hidden = true;
    reset.addEventListener('click', () => this.resetZoom());
    caption.append(title, this.status, reset);
    const wrap = document.createElement('div');
    wrap.className = 'canvas-wrap';
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute(
      'aria-label',
      `Line chart of ${metric}. Keys: + and - zoom, left and right arrows pan, 0 resets.`,
    );
    // Zoom without a mouse: the keys a chart reader expects.
    this.canvas.tabIndex = 0;
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    wrap.append(this.canvas);
    this.figure.append(caption, wrap);
  }

  private get resetButton(): HTMLButtonElement {
    return this.figure.querySelector('.reset-zoom') as HTMLButtonElement;
  }

  setData(series: SeriesBlock['series']): void {
    this.full.clear();
    this.detail = undefined;
    for (const s of series) {
      // The host may have read before it knew this page's width: keep to its pixels.
      const b = boundPoints(s.step, s.value, [s.time], this.grid.pixels);
      this.full.set(s.runId, { step: b.x, time: b.extra[0]!, value: b.y, total: s.total });
    }
    this.render();
  }

  append(series: SeriesBlock['series'], maxPoints: number): void {
    for (const s of series) {
      const old = this.full.get(s.runId);
      const cat = (a: Float64Array | undefined, b: Float64Array): Float64Array => {
        if (!a || a.length === 0) return b;
        const out = new Float64Array(a.length + b.length);
        out.set(a);
        out.set(b, a.length);
        return out;
      };
      const step = cat(old?.step, s.step);
      const bounded = boundPoints(
        step,
        cat(old?.value, s.value),
        [cat(old?.time, s.time)],
        maxPoints,
      );
      this.full.set(s.runId, {
        step: bounded.x,
        value: bounded.y,
        time: bounded.extra[0]!,
        total: (old?.total ?? 0) + s.total,
      });
    }
    // While zoomed the detail stays as it is; the new points show after a reset.
    if (!this.detail) this.update();
  }

  private datasets(): LineDataset[] {
    const { axis, smoothing, hidden } = this.grid.settings;
    const colors = this.grid.colors;
    const out: LineDataset[] = [];
    const source = this.detail ?? this.full;
    for (const run of this.grid.runs) {
      const cols = source.get(run.runId);
      if (!cols) continue;
      const xs = axis === 'step' ? cols.step : cols.time;
      const offset = axis === 'relative' ? run.startTime : 0;
      const scale = axis === 'relative' ? 1 / 1000 : 1;
      const toPoints = (ys: ArrayLike<number>): Point[] => {
        const pts: Point[] = new Array(xs.length);
        for (let i = 0; i < xs.length; i++) {
          const y = ys[i]!;
          pts[i] = { x: (xs[i]! - offset) * scale, y: Number.isFinite(y) ? y : null };
        }
        return pts;
      };
      const color = this.grid.colorOf(run.runId);
      const isHidden = hidden.has(run.runId);
      const label = run.runName || run.runId.slice(0, 8);
      if (smoothing > 0) {
        out.push({
          runId: run.runId,
          raw: true,
          label: `${label} (raw)`,
          data: toPoints(cols.value),
          borderColor: withAlpha(color, 0.25),
          borderWidth: 1,
          pointRadius: 0,
          hidden: isHidden,
          parsing: false,
          normalized: true,
        } as LineDataset);
      }
      out.push({
        runId: run.runId,
        label,
        data: toPoints(smoothing > 0 ? emaSmooth(cols.value, smoothing) : cols.value),
        borderColor: color,
        backgroundColor: color,
        borderWidth: 1.5,
        pointRadius: cols.value.length === 1 ? 3 : 0,
        pointHoverRadius: 4,
        hidden: isHidden,
        parsing: false,
        normalized: true,
      } as LineDataset);
    }
    void colors;
    return out;
  }

  /** Builds the chart the first time, then swaps its data in place (no new chart). */
  render(): void {
    if (!this.chart) this.create();
    else this.update();
  }

  private create(): void {
    const { axis, logY } = this.grid.settings;
    const colors = this.grid.colors;
    this.chart = new Chart<'line', Point[]>(this.canvas, {
      type: 'line',
      data: { datasets: this.datasets() },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        spanGaps: false,
        interaction: { mode: 'eachRunAtX' as 'index', intersect: false },
        scales: {
          x: {
            type: 'linear',
            title: { display: true, text: AXIS_TITLES[axis], color: colors.muted },
            ticks: {
              color: colors.muted,
              maxRotation: 0,
              callback: (v) => formatX(this.grid.settings.axis, Number(v)),
            },
            grid: { color: colors.grid },
          },
          y: {
            type: logY ? 'logarithmic' : 'linear',
            ticks: { color: colors.muted, callback: (v) => formatMetricValue(Number(v)) },
            grid: { color: colors.grid },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            filter: (item) => !(item.dataset as LineDataset).raw,
            itemSort: (a, b) => (b.parsed.y ?? 0) - (a.parsed.y ?? 0),
            callbacks: {
              title: (items) => {
                const first = items[0];
                return first
                  ? `${AXIS_TITLES[this.grid.settings.axis]} ${formatX(this.grid.settings.axis, first.parsed.x ?? 0)}`
                  : '';
              },
              label: (item) => ` ${item.dataset.label}: ${formatMetricValue(item.parsed.y ?? NaN)}`,
            },
          },
          zoom: {
            zoom: {
              drag: { enabled: true, backgroundColor: withAlpha(colors.series(0), 0.15) },
              wheel: { enabled: true, modifierKey: 'ctrl' },
              mode: 'x',
              // The plugin also calls this on a reset, when there is no range to load.
              onZoomComplete: ({ chart }) => {
                if (!this.resetting && chart.isZoomedOrPanned())
                  void this.zoomed(chart.scales.x!.min, chart.scales.x!.max);
              },
            },
          },
        },
      },
    });
    this.updateStatus();
  }

  update(): void {
    const chart = this.chart;
    if (!chart) return;
    const { axis, logY } = this.grid.settings;
    const colors = this.grid.colors;
    chart.data.datasets = this.datasets();
    const x = chart.options.scales!.x!;
    const y = chart.options.scales!.y!;
    (x as { title: { text: string; color: string } }).title.text = AXIS_TITLES[axis];
    (x as { title: { color: string } }).title.color = colors.muted;
    x.ticks!.color = colors.muted;
    x.grid!.color = colors.grid;
    y.type = logY ? 'logarithmic' : 'linear';
    y.ticks!.color = colors.muted;
    y.grid!.color = colors.grid;
    chart.update('none');
    this.updateStatus();
  }

  private updateStatus(): void {
    const lines = this.chart?.data.datasets.filter((d) => !(d as LineDataset).raw).length ?? 0;
    let drawn = 0;
    let stored = 0;
    for (const run of this.grid.runs) {
      const c = (this.detail ?? this.full).get(run.runId);
      if (!c) continue;
      drawn += c.value.length;
      stored += c.total;
    }
    this.figure.dataset.datasets = String(lines);
    this.figure.dataset.points = String(drawn);
    this.figure.dataset.axis = this.grid.settings.axis;
    this.figure.dataset.gridColor = this.grid.colors.grid;
    this.status.textContent =
      stored > drawn
        ? ` · ${lines} runs · ${drawn.toLocaleString('en-US')} of ${stored.toLocaleString('en-US')} points${this.detail ? ' in range' : ''}`
        : ` · ${lines} runs · ${drawn.toLocaleString('en-US')} points`;
    this.resetButton.hidden = !this.detail && !this.chart?.isZoomedOrPanned();
  }

  get pointCount(): number {
    let n = 0;
    for (const c of (this.detail ?? this.full).values()) n += c.value.length;
    return n;
  }

  private async zoomed(min: number, max: number): Promise<void> {
    const token = ++this.zoomToken;
    const { axis, hidden } = this.grid.settings;
    const runIds = this.grid.runs
      .filter((r) => this.full.has(r.runId) && !hidden.has(r.runId))
      .map((r) => r.runId);
    if (runIds.length === 0) return;
    // Relative time is charted in seconds; the host takes milliseconds.
    const scale = axis === 'relative' ? 1000 : 1;
    try {
      const block = await this.grid.host.loadRange(
        this.metric,
        runIds,
        axis,
        min * scale,
        max * scale,
        this.grid.pixels,
      );
      if (token !== this.zoomToken || !this.chart) return;
      this.detail = new Map(block.series.map((s) => [s.runId, s]));
      this.update();
    } catch (e) {
      this.grid.host.onError(
        `Could not load the detail of ${this.metric}: ${(e as Error).message}`,
      );
    }
  }

  private onKey(e: KeyboardEvent): void {
    const chart = this.chart;
    if (!chart) return;
    const x = chart.scales.x!;
    const width = x.max - x.min;
    if (e.key === '+' || e.key === '=') chart.zoom({ x: 1.5 }, 'none');
    else if (e.key === '-') chart.zoom({ x: 1 / 1.5 }, 'none');
    else if (e.key === 'ArrowLeft') chart.pan({ x: x.width / 4 }, undefined, 'none');
    else if (e.key === 'ArrowRight') chart.pan({ x: -x.width / 4 }, undefined, 'none');
    else if (e.key === '0') {
      this.resetZoom();
      e.preventDefault();
      return;
    } else return;
    e.preventDefault();
    if (width > 0 && chart.isZoomedOrPanned()) {
      void this.zoomed(chart.scales.x!.min, chart.scales.x!.max);
    } else if (!chart.isZoomedOrPanned()) this.resetZoom();
  }

  resetZoom(): void {
    this.zoomToken++;
    this.detail = undefined;
    this.resetting = true;
    try {
      this.chart?.resetZoom('none');
    } finally {
      this.resetting = false;
    }
    this.update();
  }

  /** A new chart.js chart: after an x-axis switch the zoom plugin's saved limits are stale. */
  rebuild(): void {
    this.zoomToken++;
    this.detail = undefined;
    this.destroy();
    if (this.full.size > 0) this.create();
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = undefined;
  }
}

/** The grid of metric charts and the settings they share. */
export class ChartGrid {
  runs: CompareRun[] = [];
  colors: ChartColors;
  private readonly charts = new Map<string, MetricChart>();

  constructor(
    private readonly container: HTMLElement,
    readonly host: ChartHost,
    public settings: ChartSettings,
    colors: ChartColors,
    readonly colorOf: (runId: string) => string,
    /** The decimation budget: points per line at most. */
    public pixels: number,
  ) {
    this.colors = colors;
  }

  /** Sets the metrics, in order: existing charts stay, new ones get an empty card. */
  setMetrics(metrics: string[]): void {
    for (const [metric, chart] of this.charts) {
      if (!metrics.includes(metric)) {
        chart.destroy();
        chart.figure.remove();
        this.charts.delete(metric);
      }
    }
    for (const metric of metrics) {
      let chart = this.charts.get(metric);
      if (!chart) {
        chart = new MetricChart(metric, this);
        this.charts.set(metric, chart);
      }
      this.container.append(chart.figure);
    }
  }

  setData(block: SeriesBlock): void {
    const chart = this.charts.get(block.metric);
    if (!chart) return;
    chart.setData(block.series);
  }

  append(block: SeriesBlock): void {
    this.charts.get(block.metric)?.append(block.series, this.pixels);
  }

  /** Redraws every chart from the data it has (settings, theme or runs changed). */
  updateAll(): void {
    for (const chart of this.charts.values()) chart.update();
  }

  resetZoom(): void {
    for (const chart of this.charts.values()) chart.resetZoom();
  }

  /** Rebuilds every chart: for a new x-axis. */
  rebuildAll(): void {
    for (const chart of this.charts.values()) chart.rebuild();
  }

  get count(): number {
    return this.charts.size;
  }

  get points(): number {
    let n = 0;
    for (const c of this.charts.values()) n += c.pointCount;
    return n;
  }

  hasData(metric: string): boolean {
    return (this.charts.get(metric)?.full.size ?? 0) > 0;
  }
}
