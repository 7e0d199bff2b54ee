// The checkpoints of the compared runs, ranked by a chosen metric in its direction.

import { formatMetricValue } from '../../../src/shared/format.ts';
import { decodeNumber } from '../../../src/shared/protocol.ts';
import type { CompareRun, Direction } from '../../../src/shared/protocol.ts';

export interface RankedCheckpoint {
  run: CompareRun;
  step: number;
  artifactPath: string;
  value: number | undefined;
  metrics: Record<string, number | string>;
}

/** Best first; checkpoints without a finite value of the metric last, by step. */
export function rankCheckpoints(
  runs: CompareRun[],
  metric: string,
  direction: Direction,
): RankedCheckpoint[] {
  const all: RankedCheckpoint[] = [];
  for (const run of runs) {
    for (const c of run.checkpoints) {
      const raw = c.metrics[metric];
      const v = raw === undefined ? null : decodeNumber(raw);
      all.push({
        run,
        step: c.step,
        artifactPath: c.artifactPath,
        value: v !== null && Number.isFinite(v) ? v : undefined,
        metrics: c.metrics,
      });
    }
  }
  const sign = direction === 'max' ? -1 : 1;
  return all.sort((a, b) => {
    if (a.value === undefined || b.value === undefined) {
      if (a.value !== b.value) return a.value === undefined ? 1 : -1;
      return a.step - b.step;
    }
    return a.value === b.value ? a.step - b.step : sign * (a.value - b.value);
  });
}

export function renderCheckpoints(
  container: HTMLElement,
  ranked: RankedCheckpoint[],
  metric: string,
  colorOf: (id: string) => string,
): void {
  if (ranked.length === 0) {
    const p = document.createElement('p');
    p.className = 'hint';
    p.textContent = 'These runs logged no checkpoints.';
    container.replaceChildren(p);
    return;
  }
  const table = document.createElement('table');
  table.className = 'checkpoints';
  const head = document.createElement('tr');
  for (const h of ['#', 'run', 'step', metric, 'artifact', 'other metrics']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  const thead = document.createElement('thead');
  thead.append(head);
  const body = document.createElement('tbody');
  ranked.forEach((c, i) => {
    const tr = document.createElement('tr');
    if (i === 0 && c.value !== undefined) tr.className = 'best';
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.backgroundColor = colorOf(c.run.runId);
    const cells: (string | Node[])[] = [
      String(i + 1),
      [swatch, document.createTextNode(c.run.runName)],
      String(c.step),
      c.value === undefined ? '—' : formatMetricValue(c.value),
      c.artifactPath,
      Object.entries(c.metrics)
        .filter(([k]) => k !== metric)
        .map(([k, v]) => `${k} ${formatMetricValue(decodeNumber(v))}`)
        .join(', '),
    ];
    for (const cell of cells) {
      const td = document.createElement('td');
      if (typeof cell === 'string') td.textContent = cell;
      else td.append(...cell);
      tr.append(td);
    }
    body.append(tr);
  });
  table.append(thead, body);
  container.replaceChildren(table);
}
