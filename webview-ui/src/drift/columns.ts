// The column table: a row per tested column (test, statistic, p-value, threshold and
// verdict), a detail row under an opened one with the reference-vs-current chart, and
// keyboard use: rows are tabbable, arrows move, Enter or Space opens and closes.

import { expandableRows } from '../common/rows.ts';
import {
  columnVerdictText,
  DASH,
  formatCount,
  formatStat,
  possibleThresholdLabel,
  testLabel,
  testTooltip,
  thresholdLabel,
  VERDICT_ICON,
} from '../../../src/shared/driftView.ts';
import type { DriftColumnView } from '../../../src/shared/protocol.ts';
import type { ChartColors } from '../common/theme.ts';
import { ColumnChart } from './chart.ts';
import { el } from './dom.ts';

const COLUMNS = 7;

export class ColumnsTable {
  readonly element: HTMLTableElement;
  private readonly body: HTMLTableSectionElement;
  private byName = new Map<string, DriftColumnView>();
  /** Charts of the open rows, destroyed when their row closes or the table is redrawn. */
  private readonly charts = new Map<string, ColumnChart>();
  private colors: ChartColors;

  constructor(
    colors: ChartColors,
    private readonly onToggle: (column: string, open: boolean) => void,
  ) {
    this.colors = colors;
    this.element = el('table', 'columns');
    this.element.id = 'drift-columns';
    const head = el('thead');
    head.append(this.headRow());
    this.body = el('tbody');
    this.element.append(head, this.body);
    expandableRows(this.body, 'column-row', (tr) => this.toggle(tr));
  }

  render(columns: readonly DriftColumnView[], isOpen: (column: string) => boolean): void {
    this.destroyCharts();
    this.byName = new Map(columns.map((c) => [c.column, c]));
    const rows: HTMLTableRowElement[] = [];
    const opened: string[] = [];
    for (const c of columns) {
      const open = isOpen(c.column);
      rows.push(this.columnRow(c, open));
      if (open) {
        rows.push(this.detailRow(c));
        opened.push(c.column);
      }
    }
    if (columns.length === 0) {
      const tr = el('tr', 'empty');
      const td = el('td', undefined, 'No column matches the filters.');
      td.colSpan = COLUMNS;
      tr.append(td);
      rows.push(tr);
    }
    this.body.replaceChildren(...rows);
    // Charts are built once their canvas is in the page, so they measure its width.
    for (const name of opened) this.mountChart(name);
  }

  /** The row of a column, when it is drawn. */
  rowElement(column: string): HTMLTableRowElement | null {
    return this.body.querySelector(`tr.column-row[data-column="${CSS.escape(column)}"]`);
  }

  setColors(colors: ChartColors): void {
    this.colors = colors;
    for (const chart of this.charts.values()) chart.applyColors(colors);
  }

  get chartCount(): number {
    return this.charts.size;
  }

  // ---------------------------------------------------------------- structure

  private headRow(): HTMLTableRowElement {
    const tr = el('tr');
    const th = (text: string, className: string, title?: string): HTMLTableCellElement => {
      const h = el('th', className, text);
      h.scope = 'col';
      if (title) h.title = title;
      return h;
    };
    tr.append(
      th('Column', 'col-name'),
      th('Kind', 'col-kind'),
      th('Test', 'col-test', 'The statistical test; (auto) when the check chose it'),
      th('Statistic', 'col-num'),
      th('p-value', 'col-num'),
      th('Threshold', 'col-threshold', 'Where drift starts'),
      th('Verdict', 'col-verdict'),
    );
    return tr;
  }

  private columnRow(c: DriftColumnView, open: boolean): HTMLTableRowElement {
    const tr = el('tr', `column-row verdict-${c.verdict}${c.error ? ' errored' : ''}`);
    tr.tabIndex = 0;
    tr.dataset.column = c.column;
    tr.dataset.verdict = c.verdict;
    if (c.error) tr.dataset.error = 'true';
    tr.setAttribute('aria-expanded', String(open));
    if (open) tr.setAttribute('aria-controls', detailId(c));

    const name = el('td', 'col-name');
    name.append(el('span', 'column-name', c.column));
    name.title =
      c.column === c.sourceColumn ? c.column : `${c.column}, derived from ${c.sourceColumn}`;
    if (c.reference.sampled) name.append(' ', sampledBadge(c));

    const test = el('td', 'col-test', testLabel(c));
    test.title = testTooltip(c);

    tr.append(name, el('td', 'col-kind', c.kind), test);
    if (c.error) {
      const err = el('td', 'col-error error-text', c.error);
      err.colSpan = 2;
      err.title = `Not tested: ${c.error}`;
      tr.append(err);
    } else {
      tr.append(numberCell(c.statistic), numberCell(c.pValue));
    }
    const threshold = el('td', 'col-threshold', thresholdLabel(c));
    threshold.title = `drift at ${thresholdLabel(c)}; possible drift at ${possibleThresholdLabel(c)}`;
    const verdict = el('td', 'col-verdict');
    verdict.append(verdictBadge(c));
    tr.append(threshold, verdict);
    return tr;
  }

  private detailRow(c: DriftColumnView): HTMLTableRowElement {
    const tr = el('tr', 'detail-row');
    tr.id = detailId(c);
    tr.dataset.detail = c.column;
    const td = el('td');
    td.colSpan = COLUMNS;
    const box = el('div', 'detail');
    box.append(facts(c));
    if (c.error) box.append(el('p', 'error-text', `Not tested: ${c.error}.`));
    else if (!c.chart) box.append(el('p', 'missing', 'No chart was stored for this column.'));
    td.append(box);
    tr.append(td);
    return tr;
  }

  private mountChart(column: string): void {
    const c = this.byName.get(column);
    const detail = this.detailElement(column);
    if (!c || !detail || this.charts.has(column)) return;
    const chart = ColumnChart.create(c, this.colors);
    if (!chart) return;
    detail.querySelector('.detail')?.append(chart.element);
    this.charts.set(column, chart);
  }

  private detailElement(column: string): HTMLTableRowElement | null {
    return this.body.querySelector(`tr.detail-row[data-detail="${CSS.escape(column)}"]`);
  }

  private destroyCharts(): void {
    for (const chart of this.charts.values()) chart.destroy();
    this.charts.clear();
  }

  // ---------------------------------------------------------------- interaction

  /** Opens or closes a column's detail; returns whether it is open now. */
  toggle(tr: HTMLTableRowElement, open = tr.getAttribute('aria-expanded') !== 'true'): boolean {
    const column = tr.dataset.column;
    const c = column !== undefined ? this.byName.get(column) : undefined;
    if (column === undefined || !c) return false;
    const wasOpen = tr.getAttribute('aria-expanded') === 'true';
    if (open === wasOpen) return open;
    if (open) {
      tr.after(this.detailRow(c));
      tr.setAttribute('aria-controls', detailId(c));
      this.mountChart(column);
    } else {
      this.charts.get(column)?.destroy();
      this.charts.delete(column);
      this.detailElement(column)?.remove();
      tr.removeAttribute('aria-controls');
    }
    tr.setAttribute('aria-expanded', String(open));
    this.onToggle(column, open);
    return open;
  }
}

/** Ids from column names, which may hold any character. */
const ids = new Map<string, string>();
function detailId(c: DriftColumnView): string {
  let id = ids.get(c.column);
  if (!id) {
    id = `detail-${ids.size + 1}`;
    ids.set(c.column, id);
  }
  return id;
}

// ------------------------------------------------------------------ cells

function numberCell(v: number | null): HTMLTableCellElement {
  const td = el('td', 'col-num', formatStat(v));
  if (v !== null) td.title = String(v);
  return td;
}

/** Icon and word: the verdict never rests on colour alone. */
export function verdictBadge(c: Pick<DriftColumnView, 'verdict' | 'error'>): HTMLElement {
  if (c.error) {
    const b = el('span', 'verdict verdict-untested');
    const icon = el('span', 'icon', DASH);
    icon.setAttribute('aria-hidden', 'true');
    b.append(icon, ' not tested');
    return b;
  }
  const b = el('span', `verdict verdict-${c.verdict}`);
  const icon = el('span', 'icon', VERDICT_ICON[c.verdict]);
  icon.setAttribute('aria-hidden', 'true');
  b.append(icon, ` ${c.verdict}`);
  b.title = columnVerdictText(c);
  return b;
}

function sampledBadge(c: DriftColumnView): HTMLElement {
  const b = el('span', 'badge sampled', 'sampled');
  b.title =
    `The baseline keeps a sample of this column's ${formatCount(c.reference.count)} reference values; ` +
    'the test ran on the sample.';
  return b;
}

function facts(c: DriftColumnView): HTMLElement {
  const dl = el('dl', 'facts');
  const add = (term: string, value: string, title?: string): void => {
    const dd = el('dd', undefined, value);
    if (title) dd.title = title;
    dl.append(el('dt', undefined, term), dd);
  };
  add(
    'Reference',
    `${formatCount(c.reference.count)} values, ${formatCount(c.reference.missing)} missing` +
      (c.reference.sampled ? ' (tested on the baseline’s sample)' : ''),
  );
  add(
    'Current',
    `${formatCount(c.current.count)} values, ${formatCount(c.current.missing)} missing`,
  );
  add('Test', testLabel(c), testTooltip(c));
  if (c.reason) add(c.chosenBy === 'auto' ? 'Why this test' : 'Chosen', c.reason);
  add('Drift', thresholdLabel(c));
  add('Possible drift', possibleThresholdLabel(c));
  if (!c.error) {
    add(
      'Result',
      `statistic ${formatStat(c.statistic)}${c.pValue !== null ? `, p-value ${formatStat(c.pValue)}` : ''}: ${columnVerdictText(c)}`,
    );
  }
  if (c.bins && c.bins.length > 1) add('Test bins', `${c.bins.length - 1} bins`);
  return dl;
}
