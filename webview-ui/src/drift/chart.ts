// A column's reference-vs-current chart with chart.js: a histogram's bins as two
// overlaid, semi-transparent bar sets (the shapes show through each other), or a
// categorical column's top categories as grouped horizontal bars. Shares, not counts,
// so datasets of different sizes compare. Colours come from the theme and follow it.

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
} from 'chart.js';
import type { ChartDataset } from 'chart.js';
import { binLabels, formatPercent } from '../../../src/shared/driftView.ts';
import type { DriftColumnView } from '../../../src/shared/protocol.ts';
import type { ChartColors } from '../common/theme.ts';
import { cssVar, withAlpha } from '../common/theme.ts';
import { el } from './dom.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

/** Height per category of a horizontal chart (two bars and a gap). */
const CATEGORY_PX = 28;

interface Series {
  /** Tick and tooltip labels. */
  labels: string[];
  reference: number[];
  current: number[];
  horizontal: boolean;
  /** Overlaid (a histogram) rather than grouped. */
  overlaid: boolean;
}

function seriesOf(c: DriftColumnView): Series | null {
  const chart = c.chart;
  if (!chart) return null;
  if (chart.kind === 'histogram') {
    return {
      labels: binLabels(chart.edges, c.kind),
      reference: chart.reference,
      current: chart.current,
      horizontal: false,
      overlaid: true,
    };
  }
  return {
    labels: chart.labels,
    reference: chart.reference,
    current: chart.current,
    horizontal: true,
    overlaid: false,
  };
}

/** The label where the two shares differ most, for the canvas's description. */
function largestGap(s: Series): { label: string; ref: number; cur: number } | null {
  let best: { label: string; ref: number; cur: number } | null = null;
  for (let i = 0; i < s.labels.length; i++) {
    const ref = s.reference[i] ?? 0;
    const cur = s.current[i] ?? 0;
    if (!best || Math.abs(cur - ref) > Math.abs(best.cur - best.ref)) {
      best = { label: s.labels[i]!, ref, cur };
    }
  }
  return best;
}

export class ColumnChart {
  readonly element: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private chart: Chart<'bar', number[], string> | undefined;

  /** Null when the column has no chart (it was not tested). */
  static create(column: DriftColumnView, colors: ChartColors): ColumnChart | null {
    const s = seriesOf(column);
    return s ? new ColumnChart(column, s, colors) : null;
  }

  private constructor(
    private readonly column: DriftColumnView,
    private readonly series: Series,
    colors: ChartColors,
  ) {
    this.element = el('figure', 'column-chart');
    this.element.dataset.chart = column.chart!.kind;
    const wrap = el('div', 'canvas-wrap');
    if (series.horizontal) {
      wrap.style.height = `${Math.min(640, 70 + series.labels.length * CATEGORY_PX)}px`;
    }
    this.canvas = el('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', this.description());
    wrap.append(this.canvas);
    const caption = el(
      'figcaption',
      'chart-caption',
      series.overlaid
        ? 'Share of values per bin, equal-width bins over both datasets’ range.'
        : 'Share of values per category (the most frequent, the rest summed).',
    );
    this.element.append(wrap, caption, this.dataTable());
    this.build(colors);
  }

  private description(): string {
    const s = this.series;
    const what = s.overlaid ? 'bin' : 'category';
    const gap = largestGap(s);
    const most = gap
      ? ` Largest difference at ${what} ${gap.label}: reference ${formatPercent(gap.ref)}, current ${formatPercent(gap.cur)}.`
      : '';
    return `Bar chart of ${this.column.column}: share of reference and current values per ${what}.${most} The table after the chart has every value.`;
  }

  /** The chart's numbers for screen readers (visually hidden). */
  private dataTable(): HTMLElement {
    const t = el('table', 'visually-hidden');
    t.append(el('caption', undefined, `Shares of ${this.column.column}`));
    const head = el('thead');
    const hr = el('tr');
    for (const h of [this.series.overlaid ? 'Bin' : 'Category', 'Reference', 'Current']) {
      const th = el('th', undefined, h);
      th.scope = 'col';
      hr.append(th);
    }
    head.append(hr);
    const body = el('tbody');
    this.series.labels.forEach((label, i) => {
      const tr = el('tr');
      const th = el('th', undefined, label);
      th.scope = 'row';
      tr.append(
        th,
        el('td', undefined, formatPercent(this.series.reference[i] ?? 0)),
        el('td', undefined, formatPercent(this.series.current[i] ?? 0)),
      );
      body.append(tr);
    });
    t.append(head, body);
    return t;
  }

  private datasets(colors: ChartColors): ChartDataset<'bar', number[]>[] {
    const s = this.series;
    // Blue and orange: apart for every kind of colour vision, and neither reads as a verdict.
    const ref = cssVar('--vscode-charts-blue', colors.series(0));
    const cur = cssVar('--vscode-charts-orange', colors.series(1));
    // Overlaid bars need to show through each other; grouped bars can be nearly solid.
    const alpha = s.overlaid ? 0.35 : 0.75;
    const common = { borderWidth: 1, borderSkipped: false as const };
    return [
      {
        ...common,
        label: 'Reference',
        data: s.reference,
        backgroundColor: withAlpha(ref, alpha),
        borderColor: ref,
        ...(s.overlaid
          ? { barPercentage: 1, categoryPercentage: 1, grouped: false, order: 2 }
          : {}),
      },
      {
        ...common,
        label: 'Current',
        data: s.current,
        backgroundColor: withAlpha(cur, alpha),
        borderColor: cur,
        ...(s.overlaid
          ? { barPercentage: 1, categoryPercentage: 1, grouped: false, order: 1 }
          : {}),
      },
    ];
  }

  private build(colors: ChartColors): void {
    const s = this.series;
    const valueAxis = s.horizontal ? 'x' : 'y';
    const labelAxis = s.horizontal ? 'y' : 'x';
    const shareTicks = {
      color: colors.muted,
      callback: (v: number | string) => formatPercent(Number(v)),
    };
    this.chart = new Chart<'bar', number[], string>(this.canvas, {
      type: 'bar',
      data: { labels: s.labels, datasets: this.datasets(colors) },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: s.horizontal ? 'y' : 'x',
        interaction: { mode: 'index', intersect: false },
        scales: {
          [valueAxis]: {
            type: 'linear',
            beginAtZero: true,
            ticks: shareTicks,
            grid: { color: colors.grid },
            title: { display: true, text: 'share of values', color: colors.muted },
          },
          [labelAxis]: {
            type: 'category',
            ticks: {
              color: colors.muted,
              autoSkip: true,
              maxRotation: s.horizontal ? 0 : 45,
              // A histogram's tick is its bin's lower edge; the tooltip has the range.
              callback: (_v: number | string, i: number) => {
                const label = s.labels[i] ?? '';
                if (s.overlaid) return label.split('–')[0] ?? label;
                return label.length > 28 ? `${label.slice(0, 27)}…` : label;
              },
            },
            grid: { color: colors.grid, display: !s.horizontal },
          },
        },
        plugins: {
          legend: {
            display: true,
            position: 'top',
            align: 'start',
            labels: {
              color: colors.foreground,
              boxWidth: 12,
              boxHeight: 12,
              // Reference first, whichever is drawn on top.
              sort: (a, b) => (a.datasetIndex ?? 0) - (b.datasetIndex ?? 0),
            },
          },
          tooltip: {
            itemSort: (a, b) => a.datasetIndex - b.datasetIndex,
            callbacks: {
              title: (items) => (items[0] ? (s.labels[items[0].dataIndex] ?? '') : ''),
              label: (item) =>
                ` ${item.dataset.label}: ${formatPercent(Number(s.horizontal ? item.parsed.x : item.parsed.y))}`,
            },
          },
        },
      },
    });
  }

  /** The theme changed: new colours, same chart. */
  applyColors(colors: ChartColors): void {
    const chart = this.chart;
    if (!chart) return;
    const next = this.datasets(colors);
    chart.data.datasets.forEach((d, i) => {
      d.backgroundColor = next[i]!.backgroundColor;
      d.borderColor = next[i]!.borderColor;
    });
    for (const scale of Object.values(chart.options.scales ?? {})) {
      if (!scale) continue;
      if (scale.ticks) scale.ticks.color = colors.muted;
      if (scale.grid) scale.grid.color = colors.grid;
      const title = (scale as { title?: { color?: string } }).title;
      if (title) title.color = colors.muted;
    }
    const legend = chart.options.plugins?.legend?.labels;
    if (legend) legend.color = colors.foreground;
    chart.update('none');
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = undefined;
  }
}
