// The cases table: one row per case and repeat (with the other run's status and output
// side by side), a detail row under an opened one with the full messages, output and
// verdicts, and keyboard use: rows are tabbable, arrows move, Enter or Space opens.

import { expandableRows } from '../common/rows.ts';
import {
  compactVars,
  DASH,
  failedCriteria,
  formatCount,
  formatMs,
  formatScore,
  formatCost,
  oneLine,
  STATUS_ICON,
} from '../../../src/shared/evalView.ts';
import type { EvalRow } from '../../../src/shared/evalView.ts';
import type { EvalCaseView } from '../../../src/shared/protocol.ts';
import { el, tooltip } from '../common/element.ts';

export interface CasesContext {
  /** Side by side: the other run's label; null when one run is shown. */
  otherLabel: string | null;
  /** Repeats per case in the run shown: the # column names the repeat when above 1. */
  repeat: number;
  isOpen(key: string): boolean;
}

/** Characters of vars and output kept in a cell; the cell's title has the full text. */
const CELL_CHARS = 240;

export class CasesTable {
  readonly element: HTMLTableElement;
  private readonly head: HTMLTableSectionElement;
  private readonly body: HTMLTableSectionElement;
  private rowsByKey = new Map<string, EvalRow>();
  private context: CasesContext = { otherLabel: null, repeat: 1, isOpen: () => false };

  constructor(
    private readonly onToggle: (key: string, open: boolean) => void,
    /** Opens a case's trace in the trace inspector. */
    private readonly onOpenTrace: (traceId: string) => void = () => {},
  ) {
    this.element = el('table', 'cases');
    this.element.id = 'eval-cases';
    this.head = el('thead');
    this.body = el('tbody');
    this.element.append(this.head, this.body);
    expandableRows(this.body, 'case-row', (tr) => this.toggle(tr));
  }

  render(rows: readonly EvalRow[], context: CasesContext): void {
    this.context = context;
    this.rowsByKey = new Map(rows.map((r) => [r.key, r]));
    this.element.classList.toggle('side', context.otherLabel !== null);
    this.head.replaceChildren(this.headRow());
    const children: HTMLTableRowElement[] = [];
    for (const row of rows) {
      const open = context.isOpen(row.key);
      children.push(this.caseRow(row, open));
      if (open) children.push(this.detailRow(row));
    }
    if (rows.length === 0) {
      const tr = el('tr', 'empty');
      const td = el('td', undefined, 'No case matches the filters.');
      td.colSpan = this.columns();
      tr.append(td);
      children.push(tr);
    }
    this.body.replaceChildren(...children);
  }

  /** The row of a case, when it is rendered. */
  rowElement(key: string): HTMLTableRowElement | null {
    return this.body.querySelector(`tr.case-row[data-case="${CSS.escape(key)}"]`);
  }

  // ---------------------------------------------------------------- structure

  private columns(): number {
    return this.context.otherLabel === null ? 10 : 12;
  }

  private headRow(): HTMLTableRowElement {
    const tr = el('tr');
    const other = this.context.otherLabel;
    const th = (text: string, className: string, title?: string): HTMLTableCellElement => {
      const h = el('th', className, text);
      h.scope = 'col';
      if (title) h.title = title;
      return h;
    };
    tr.append(
      th('#', 'col-n', 'Case number (and repeat)'),
      th('Id', 'col-id'),
      th('Vars', 'col-vars'),
      th('Output', 'col-output'),
      th('Status', 'col-status'),
    );
    if (other !== null) {
      tr.append(
        th('Other status', 'col-other-status', `Status in ${other}`),
        th('Other output', 'col-output', `Output in ${other}`),
      );
    }
    tr.append(
      th('Failed criteria', 'col-failed'),
      th('Tokens', 'col-num col-tokens', 'Input / output tokens'),
      th('Cost', 'col-num', 'USD of the call under test'),
      th('Latency', 'col-num'),
      th('TTFT', 'col-num', 'Time to first token'),
    );
    return tr;
  }

  private caseRow(row: EvalRow, open: boolean): HTMLTableRowElement {
    const c = row.current;
    const status = c?.status ?? 'missing';
    const tr = el('tr', `case-row status-${status}${row.flipped ? ' flipped' : ''}`);
    tr.tabIndex = 0;
    tr.dataset.case = row.key;
    tr.dataset.status = status;
    if (row.flipped) tr.dataset.flipped = 'true';
    tr.setAttribute('aria-expanded', String(open));
    if (open) tr.setAttribute('aria-controls', detailId(row));

    const n = el('td', 'col-n', String(row.index + 1));
    if (this.context.repeat > 1) {
      n.append(el('span', 'repeat', ` r${row.repeat + 1}`));
      n.title = `Case ${row.index + 1}, repeat ${row.repeat + 1}`;
    }
    const id = textCell('col-id', c?.id ?? row.other?.id ?? '');
    const vars = textCell('col-vars', compactVars(c?.vars ?? row.other?.vars ?? {}));
    tr.append(n, id, vars);
    tr.append(outputCell(c, row.current === null ? 'not in this run' : undefined));
    const statusTd = statusCell(c);
    if (row.flipped) statusTd.append(flipBadge(row, this.context.otherLabel));
    tr.append(statusTd);
    if (this.context.otherLabel !== null) {
      const otherStatus = statusCell(row.other ?? null);
      otherStatus.className = 'col-other-status';
      tr.append(otherStatus, outputCell(row.other ?? null, 'not in that run'));
    }
    tr.append(
      textCell('col-failed', c ? failedCriteria(c).join(', ') : ''),
      tokensCell(c),
      costCell(c),
      numberCell(c ? formatMs(c.latencyMs) : ''),
      numberCell(c ? formatMs(c.ttftMs) : ''),
    );
    return tr;
  }

  private detailRow(row: EvalRow): HTMLTableRowElement {
    const tr = el('tr', 'detail-row');
    tr.id = detailId(row);
    tr.dataset.detail = row.key;
    const td = el('td');
    td.colSpan = this.columns();
    const other = this.context.otherLabel;
    const open = this.onOpenTrace;
    if (other === null) {
      td.append(caseDetail(row.current, null, open));
    } else {
      const pair = el('div', 'detail-pair');
      pair.append(
        caseDetail(row.current, 'This run', open),
        caseDetail(row.other ?? null, other, open),
      );
      td.append(pair);
    }
    tr.append(td);
    return tr;
  }

  // ---------------------------------------------------------------- interaction

  private toggle(tr: HTMLTableRowElement): void {
    const key = tr.dataset.case;
    const row = key ? this.rowsByKey.get(key) : undefined;
    if (!key || !row) return;
    const open = tr.getAttribute('aria-expanded') !== 'true';
    const next = tr.nextElementSibling;
    if (next instanceof HTMLTableRowElement && next.dataset.detail === key) next.remove();
    if (open) {
      tr.after(this.detailRow(row));
      tr.setAttribute('aria-controls', detailId(row));
    } else {
      tr.removeAttribute('aria-controls');
    }
    tr.setAttribute('aria-expanded', String(open));
    this.onToggle(key, open);
  }
}

function detailId(row: EvalRow): string {
  return `detail-${row.index}-${row.repeat}`;
}

// ------------------------------------------------------------------ cells

function textCell(className: string, text: string): HTMLTableCellElement {
  const td = el('td', className, oneLine(text, CELL_CHARS));
  if (text.length > 0) td.title = tooltip(text);
  return td;
}

function numberCell(text: string, title?: string): HTMLTableCellElement {
  const td = el('td', 'col-num', text);
  if (title) td.title = title;
  return td;
}

function outputCell(c: EvalCaseView | null, absent?: string): HTMLTableCellElement {
  if (!c) {
    const td = el('td', 'col-output missing', absent ?? DASH);
    return td;
  }
  if (c.output === null) {
    const td = el('td', 'col-output error-text', oneLine(c.error ?? 'no output', CELL_CHARS));
    td.title = tooltip(c.error ?? 'no output');
    return td;
  }
  return textCell('col-output', c.output);
}

/** Icon and word: the status never rests on colour alone. */
export function statusLabel(status: EvalCaseView['status']): HTMLElement {
  const s = el('span', `status status-${status}`);
  const icon = el('span', 'icon', STATUS_ICON[status]);
  icon.setAttribute('aria-hidden', 'true');
  s.append(icon, ` ${status}`);
  return s;
}

function statusCell(c: EvalCaseView | null): HTMLTableCellElement {
  const td = el('td', 'col-status');
  if (c) td.append(statusLabel(c.status));
  else td.append(el('span', 'missing', `${DASH} none`));
  return td;
}

function flipBadge(row: EvalRow, otherLabel: string | null): HTMLElement {
  const b = el('span', 'badge flip', 'flipped');
  b.title =
    otherLabel !== null
      ? `${row.other?.status ?? ''} in ${otherLabel}`
      : `${row.flippedFrom ?? 'different'} in the previous run`;
  return b;
}

function tokensCell(c: EvalCaseView | null): HTMLTableCellElement {
  if (!c?.tokens) return numberCell(c ? DASH : '');
  const t = c.tokens;
  const text = `${c.tokensEstimated ? '~' : ''}${formatCount(t.input)} / ${formatCount(t.output)}`;
  const title =
    `${formatCount(t.input)} input (${formatCount(t.cached)} cached), ` +
    `${formatCount(t.output)} output (${formatCount(t.reasoning)} reasoning)` +
    (c.tokensEstimated ? '; counted with a tokenizer: the provider sent no usage' : '');
  return numberCell(text, title);
}

function costCell(c: EvalCaseView | null): HTMLTableCellElement {
  if (!c) return numberCell('');
  const td = numberCell(formatCost(c.costUsd));
  const parts: string[] = [];
  if (c.costUsd === null) parts.push('no price for this model');
  else parts.push(`$${c.costUsd} for the call under test`);
  if (c.judgeCostUsd !== null) parts.push(`judge ${formatCost(c.judgeCostUsd)}`);
  if (c.cached) parts.push('answer from the cache: nothing billed in this run');
  if (c.tokensEstimated) parts.push('estimated from tokenizer counts');
  td.title = parts.join('; ');
  return td;
}

// ------------------------------------------------------------------ detail

function block(text: string, className: string): HTMLElement {
  const pre = el('pre', className, text);
  // A long output scrolls inside its box; the box takes focus so the keyboard can scroll it.
  pre.tabIndex = 0;
  return pre;
}

function caseDetail(
  c: EvalCaseView | null,
  heading: string | null,
  openTrace: (traceId: string) => void,
): HTMLElement {
  const root = el('div', 'detail');
  if (heading !== null) root.append(el('h3', undefined, heading));
  if (!c) {
    root.append(el('p', 'missing', 'This case is not in this run.'));
    return root;
  }
  root.append(statusLine(c));
  const traceId = c.traceId ?? null;
  if (traceId) {
    const b = el('button', 'link-button open-trace', 'Open trace');
    b.type = 'button';
    b.dataset.trace = traceId;
    b.title = 'The model call, each criterion and the judge calls in the trace inspector';
    b.addEventListener('click', (e) => {
      e.stopPropagation();
      openTrace(traceId);
    });
    root.append(b);
  }

  root.append(el('h4', undefined, 'Input'));
  const messages = el('div', 'messages');
  for (const m of c.input) {
    const msg = el('div', 'message');
    msg.append(el('span', 'role', `${m.role}:`), block(m.content, 'content'));
    messages.append(msg);
  }
  if (c.input.length === 0) messages.append(el('p', 'missing', 'No messages recorded.'));
  root.append(messages);

  if (c.output !== null) root.append(el('h4', undefined, 'Output'), block(c.output, 'output'));
  if (c.error !== null) root.append(el('h4', undefined, 'Error'), block(c.error, 'error-text'));

  root.append(el('h4', undefined, 'Verdicts'));
  if (c.verdicts.length === 0) {
    root.append(el('p', 'missing', 'No grader ran.'));
  } else {
    const t = el('table', 'verdicts');
    const hr = el('tr');
    for (const h of ['Criterion', 'Result', 'Score', 'Reason']) {
      const th = el('th', undefined, h);
      th.scope = 'col';
      hr.append(th);
    }
    const head = el('thead');
    head.append(hr);
    const body = el('tbody');
    for (const v of c.verdicts) {
      const tr = el('tr');
      tr.dataset.criterion = v.name;
      const result = el('td');
      result.append(statusLabel(v.errored ? 'errored' : v.pass ? 'passed' : 'failed'));
      tr.append(
        el('td', undefined, v.name),
        result,
        el('td', 'col-num', formatScore(v.score)),
        el('td', 'reason', v.reason),
      );
      body.append(tr);
    }
    t.append(head, body);
    root.append(t);
  }
  return root;
}

function statusLine(c: EvalCaseView): HTMLElement {
  const p = el('p', 'status-line');
  p.append(statusLabel(c.status));
  const facts: string[] = [];
  if (c.id) facts.push(`id ${c.id}`);
  if (c.tokens) {
    facts.push(
      `${c.tokensEstimated ? '~' : ''}${formatCount(c.tokens.input)} tokens in (${formatCount(c.tokens.cached)} cached), ` +
        `${formatCount(c.tokens.output)} out (${formatCount(c.tokens.reasoning)} reasoning)`,
    );
  }
  facts.push(c.costUsd === null ? 'cost unknown (no price for this model)' : formatCost(c.costUsd));
  if (c.judgeCostUsd !== null) facts.push(`judge ${formatCost(c.judgeCostUsd)}`);
  facts.push(`latency ${formatMs(c.latencyMs)}`, `TTFT ${formatMs(c.ttftMs)}`);
  if (c.cached) facts.push('from the cache');
  p.append(` · ${facts.join(' · ')}`);
  return p;
}
