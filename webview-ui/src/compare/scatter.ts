// A scatter of any parameter or metric against another, a point per run: for
// sweeps ("does a larger batch help?"). Values that are not numbers are skipped
// and counted.

import { Chart } from 'chart.js';
import { formatMetricValue } from '../../../src/shared/format.ts';
import { decodeNumber } from '../../../src/shared/protocol.ts';
import type { CompareRun } from '../../../src/shared/protocol.ts';
import type { ChartColors } from '../common/theme.ts';
import type { Choice } from '../common/controls.ts';

/** `param:<key>` or `metric:<key>`. */
export function scatterChoices(runs: CompareRun[]): Choice[] {
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  return [
    ...params.map((k) => ({ value: `param:${k}`, label: `param ${k}` })),
    ...metrics.map((k) => ({ value: `metric:${k}`, label: `metric ${k}` })),
  ];
}

export function scatterValue(run: CompareRun, choice: string): number | undefined {
  const [kind, ...rest] = choice.split(':');
  const key = rest.join(':');
  if (kind === 'param') {
    const v = run.params[key];
    const n = v === undefined || v.trim() === '' ? NaN : Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  const m = run.metrics[key];
  const v = m ? decodeNumber(m.last) : null;
  return v !== null && Number.isFinite(v) ? v : undefined;
}

export class ScatterPlot {
  private chart: Chart<'scatter'> | undefined;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly note: HTMLElement,
  ) {}

  render(
    runs: CompareRun[],
    x: string,
    y: string,
    colors: ChartColors,
    colorOf: (id: string) => string,
    hidden: ReadonlySet<string>,
  ): void {
    const points: { x: number; y: number; run: CompareRun }[] = [];
    let skipped = 0;
    for (const run of runs) {
      if (hidden.has(run.runId)) continue;
      const vx = scatterValue(run, x);
      const vy = scatterValue(run, y);
      if (vx === undefined || vy === undefined) skipped++;
      else points.push({ x: vx, y: vy, run });
    }
    this.note.textContent =
      skipped > 0 ? `${skipped} runs without numeric values for both axes are not shown.` : '';
    const label = (c: string): string => c.replace(':', ' ');
    const data = {
      datasets: [
        {
          label: `${label(y)} vs ${label(x)}`,
          data: points.map((p) => ({ x: p.x, y: p.y })),
          pointBackgroundColor: points.map((p) => colorOf(p.run.runId)),
          pointBorderColor: points.map((p) => colorOf(p.run.runId)),
          pointRadius: 5,
          pointHoverRadius: 7,
        },
      ],
    };
    this.canvas.dataset.points = String(points.length);
    this.chart?.destroy();
    this.chart = new Chart(this.canvas, {
      type: 'scatter',
      data,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: {
            title: { display: true, text: label(x), color: colors.muted },
            ticks: { color: colors.muted },
            grid: { color: colors.grid },
          },
          y: {
            title: { display: true, text: label(y), color: colors.muted },
            ticks: { color: colors.muted },
            grid: { color: colors.grid },
          },
        },
        plugins: {
          legend: { display: false },
          zoom: { zoom: { drag: { enabled: false }, wheel: { enabled: false } } },
          tooltip: {
            callbacks: {
              label: (item) => {
                const p = points[item.dataIndex]!;
                return ` ${p.run.runName}: ${label(x)} ${formatMetricValue(p.x)}, ${label(y)} ${formatMetricValue(p.y)}`;
              },
            },
          },
        },
      },
    });
  }
}
