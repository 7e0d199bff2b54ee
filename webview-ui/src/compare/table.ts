// The compare table: one column per run, rows grouped into attributes, params,
// metrics, tags and datasets. The model (what differs, what is best, order) comes
// from src/shared/compareTable.ts; this file only draws it and wires its buttons.

import type { CompareRow, CompareTable, RowGroup } from '../../../src/shared/compareTable.ts';
import type { Direction } from '../../../src/shared/protocol.ts';

const GROUP_LABELS: Record<RowGroup, string> = {
  attributes: 'Attributes',
  params: 'Parameters',
  metrics: 'Metrics',
  tags: 'Tags',
  datasets: 'Datasets',
};

export interface TableActions {
  colorOf(runId: string): string;
  isPinned(runId: string): boolean;
  togglePin(runId: string): void;
  sortBy(rowId: string): void;
  sortState(): { rowId: string; descending: boolean } | undefined;
  toggleDirection(metric: string, current: Direction): void;
  openRun(runId: string): void;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function renderTable(
  container: HTMLElement,
  table: CompareTable,
  actions: TableActions,
): void {
  const t = el('table', 'compare-table');
  t.id = 'compare-table';
  const head = el('thead');
  const hr = el('tr');
  const corner = el('th', 'corner', `${table.columns.length} runs`);
  corner.scope = 'col';
  hr.append(corner);
  for (const run of table.columns) {
    const th = el('th', 'run-head');
    th.scope = 'col';
    th.dataset.runId = run.runId;
    const swatch = el('span', 'swatch');
    swatch.style.backgroundColor = actions.colorOf(run.runId);
    const name = el('button', 'link run-name', run.runName || run.runId.slice(0, 8));
    name.title = `Open run ${run.runName} (${run.runId})`;
    name.addEventListener('click', () => actions.openRun(run.runId));
    const pinned = actions.isPinned(run.runId);
    const pin = el('button', `icon pin${pinned ? ' on' : ''}`, pinned ? '◆' : '◇');
    pin.title = pinned ? 'Unpin this column' : 'Pin this column to the left';
    pin.setAttribute('aria-pressed', String(pinned));
    pin.setAttribute('aria-label', `${pinned ? 'Unpin' : 'Pin'} ${run.runName}`);
    pin.addEventListener('click', () => actions.togglePin(run.runId));
    th.append(swatch, name, pin);
    hr.append(th);
  }
  head.append(hr);
  t.append(head);

  const body = el('tbody');
  let group: RowGroup | undefined;
  const sort = actions.sortState();
  for (const row of table.rows) {
    if (row.group !== group) {
      group = row.group;
      const gr = el('tr', 'group');
      const gh = el('th', undefined, GROUP_LABELS[group]);
      gh.colSpan = table.columns.length + 1;
      gh.scope = 'colgroup';
      gr.append(gh);
      body.append(gr);
    }
    body.append(renderRow(row, sort, actions));
  }
  if (table.rows.length === 0) {
    const tr = el('tr');
    const td = el('td', 'empty', 'Every value is the same in all runs.');
    td.colSpan = table.columns.length + 1;
    tr.append(td);
    body.append(tr);
  }
  t.append(body);
  container.replaceChildren(t);
}

function renderRow(
  row: CompareRow,
  sort: { rowId: string; descending: boolean } | undefined,
  actions: TableActions,
): HTMLTableRowElement {
  const tr = el('tr', row.differs ? 'differs' : undefined);
  tr.dataset.rowId = row.id;
  const th = el('th', 'row-head');
  th.scope = 'row';
  const label = el('button', 'link row-label', row.label);
  const sorted = sort?.rowId === row.id;
  label.title = sorted
    ? `Columns sorted by ${row.label}, ${sort.descending ? 'descending' : 'ascending'}; click to reverse`
    : `Sort the columns by ${row.label}`;
  label.addEventListener('click', () => actions.sortBy(row.id));
  th.append(label);
  if (sorted) th.append(el('span', 'sort-mark', sort.descending ? ' ▼' : ' ▲'));
  if (row.metric && row.id.endsWith(':last') && row.direction) {
    const dir = row.direction;
    const toggle = el('button', 'icon direction', dir === 'min' ? '↓' : '↑');
    toggle.title = `${dir === 'min' ? 'Lower' : 'Higher'} is better for ${row.metric}; click to flip`;
    toggle.setAttribute('aria-label', toggle.title);
    toggle.addEventListener('click', () => actions.toggleDirection(row.metric!, dir));
    th.append(toggle);
  }
  tr.append(th);
  for (const cell of row.cells) {
    const classes = [
      row.differs ? 'diff' : '',
      cell.best ? 'best' : '',
      cell.text ? '' : 'missing',
    ];
    const td = el('td', classes.filter(Boolean).join(' ') || undefined, cell.text || '—');
    if (cell.best) td.title = `Best ${row.label}`;
    tr.append(td);
  }
  return tr;
}
