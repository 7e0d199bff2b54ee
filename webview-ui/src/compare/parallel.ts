// Parallel coordinates for a sweep: one vertical axis per parameter that varies,
// the chosen metric last, a line per run coloured by that metric. Drawn as SVG
// (chart.js has no such chart, and the plugins for it are little used).

import { formatMetricValue } from '../../../src/shared/format.ts';
import { decodeNumber } from '../../../src/shared/protocol.ts';
import type { CompareRun, Direction } from '../../../src/shared/protocol.ts';
import type { ChartColors } from '../common/theme.ts';
import { cssVar } from '../common/theme.ts';

const SVG = 'http://www.w3.org/2000/svg';

interface Axis {
  label: string;
  value(run: CompareRun): number | string | undefined;
  /** Maps a value to 0 (bottom) .. 1 (top). */
  position(v: number | string): number;
  ticks: { at: number; text: string }[];
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function axisOf(
  label: string,
  values: (number | string | undefined)[],
  get: (r: CompareRun) => number | string | undefined,
): Axis {
  const present = values.filter((v): v is number | string => v !== undefined);
  const numeric = present.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (numeric) {
    const nums = present as number[];
    const min = Math.min(...nums);
    const max = Math.max(...nums);
    // A sweep over orders of magnitude (lr 0.1, 0.01, 0.001) reads on a log axis.
    const log = min > 0 && max / min >= 100;
    const f = (v: number): number => (log ? Math.log10(v) : v);
    const span = f(max) - f(min) || 1;
    return {
      label: log ? `${label} (log)` : label,
      value: get,
      position: (v) => (max === min ? 0.5 : (f(v as number) - f(min)) / span),
      ticks:
        max === min
          ? [{ at: 0.5, text: formatMetricValue(min) }]
          : [
              { at: 0, text: formatMetricValue(min) },
              { at: 1, text: formatMetricValue(max) },
            ],
    };
  }
  const cats = [...new Set(present.map(String))].sort();
  const pos = (v: number | string): number =>
    cats.length === 1 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1);
  return { label, value: get, position: pos, ticks: cats.map((c) => ({ at: pos(c), text: c })) };
}

function paramValue(run: CompareRun, key: string): number | string | undefined {
  const v = run.params[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) ? n : v;
}

export function renderParallel(
  container: HTMLElement,
  runs: CompareRun[],
  metric: string,
  direction: Direction,
  colors: ChartColors,
  hidden: ReadonlySet<string>,
): void {
  const visible = runs.filter((r) => !hidden.has(r.runId));
  const keys = [...new Set(visible.flatMap((r) => Object.keys(r.params)))].sort();
  const varying = keys.filter((k) => new Set(visible.map((r) => r.params[k])).size > 1);
  const metricOf = (r: CompareRun): number | undefined => {
    const m = r.metrics[metric];
    const v = m ? decodeNumber(m.last) : null;
    return v !== null && Number.isFinite(v) ? v : undefined;
  };
  if (varying.length === 0 || visible.every((r) => metricOf(r) === undefined)) {
    const p = document.createElement('p');
    p.className = 'hint';
    p.textContent =
      varying.length === 0
        ? 'No parameter varies between these runs: nothing to plot against.'
        : `None of these runs has a value of ${metric}.`;
    container.replaceChildren(p);
    return;
  }
  const axes: Axis[] = varying.map((k) =>
    axisOf(
      k,
      visible.map((r) => paramValue(r, k)),
      (r) => paramValue(r, k),
    ),
  );
  const metricAxis = axisOf(metric, visible.map(metricOf), metricOf);
  axes.push(metricAxis);

  const width = Math.max(320, container.clientWidth || 800);
  const height = 260;
  const pad = { top: 24, bottom: 28, left: 40, right: 60 };
  const plotH = height - pad.top - pad.bottom;
  const xAt = (i: number): number =>
    pad.left + (i * (width - pad.left - pad.right)) / Math.max(1, axes.length - 1);
  const yAt = (p: number): number => pad.top + (1 - p) * plotH;

  const root = svg('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    class: 'parallel',
  });
  root.setAttribute(
    'aria-label',
    `Parallel coordinates of ${varying.join(', ')} against ${metric}`,
  );
  const values = visible.map(metricOf).filter((v): v is number => v !== undefined);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  // Good runs are drawn last (on top) and in the "good" colour.
  const goodness = (v: number): number =>
    hi === lo ? 1 : direction === 'max' ? (v - lo) / (hi - lo) : (hi - v) / (hi - lo);
  const ordered = [...visible].sort(
    (a, b) => goodness(metricOf(a) ?? lo) - goodness(metricOf(b) ?? lo),
  );
  // Good and bad in the theme's pass / fail colours, not run colours (those mean runs).
  const good = cssVar('--vscode-testing-iconPassed', cssVar('--vscode-charts-green', '#388a34'));
  const bad = cssVar('--vscode-testing-iconFailed', cssVar('--vscode-charts-red', '#e51400'));
  for (const run of ordered) {
    const pts: string[] = [];
    axes.forEach((axis, i) => {
      const v = axis.value(run);
      if (v !== undefined) pts.push(`${xAt(i).toFixed(1)},${yAt(axis.position(v)).toFixed(1)}`);
    });
    const m = metricOf(run);
    const g = m === undefined ? 0 : goodness(m);
    const line = svg('polyline', {
      points: pts.join(' '),
      fill: 'none',
      stroke: m === undefined ? colors.muted : g >= 0.5 ? good : bad,
      'stroke-opacity': (0.35 + 0.65 * Math.abs(g - 0.5) * 2).toFixed(2),
      'stroke-width': 1.5,
      class: 'pc-line',
    });
    const title = svg('title', {});
    title.textContent = `${run.runName}: ${axes.map((a) => `${a.label}=${a.value(run) ?? '—'}`).join(', ')}`;
    line.append(title);
    root.append(line);
  }
  axes.forEach((axis, i) => {
    const x = xAt(i);
    root.append(
      svg('line', {
        x1: x,
        x2: x,
        y1: pad.top,
        y2: pad.top + plotH,
        stroke: colors.foreground,
        'stroke-width': 1,
      }),
    );
    const label = svg('text', {
      x,
      y: pad.top - 8,
      'text-anchor': 'middle',
      fill: colors.foreground,
      class: 'pc-label',
    });
    label.textContent = axis.label;
    root.append(label);
    for (const t of axis.ticks.slice(0, 12)) {
      const tick = svg('text', {
        x: x + 4,
        y: yAt(t.at) + 4,
        fill: colors.muted,
        class: 'pc-tick',
      });
      tick.textContent = t.text;
      root.append(tick);
    }
  });
  container.replaceChildren(root);
}
