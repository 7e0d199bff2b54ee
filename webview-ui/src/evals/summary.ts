// The summary of an eval run: the pass rate and the counts (OpenAI Evals'
// `result_counts`), the criteria with a bar each, latency, tokens and cost, the change
// against the previous run, and both runs' figures when one is shown side by side.

import {
  DASH,
  formatCount,
  formatMs,
  formatPercent,
  formatPoints,
  formatRelativeChange,
  formatCost,
  judgeShare,
  sideBySideFigures,
  STATUS_ICON,
  totalCostUsd,
  unpairedCounts,
} from '../../../src/shared/evalView.ts';
import type { EvalRow } from '../../../src/shared/evalView.ts';
import type { EvalRunView } from '../../../src/shared/protocol.ts';
import { el } from '../common/element.ts';

export interface SummaryActions {
  openRun(runId: string): void;
  /** The "N flipped" of the change against the previous run was clicked. */
  showPreviousFlips(): void;
  /** The flips of the side by side were clicked. */
  showFlipped(): void;
  /** Show the previous run side by side; absent when it is not among the choices. */
  compareWithPrevious?: () => void;
}

export function renderSummary(
  root: HTMLElement,
  run: EvalRunView,
  other: { run: EvalRunView; label: string } | null,
  rows: readonly EvalRow[],
  actions: SummaryActions,
): void {
  const parts: HTMLElement[] = [headline(run), criteriaTable(run), figures(run)];
  const grid = el('div', 'summary-grid');
  grid.append(...parts);
  const children: HTMLElement[] = [grid];
  if (run.comparison) children.push(change(run, actions));
  if (other) children.push(sideBySide(run, other, rows, actions));
  root.replaceChildren(...children);
}

function headline(run: EvalRunView): HTMLElement {
  const s = run.summary;
  const rc = s.resultCounts;
  const box = el('div', 'headline');
  const rate = el('div', 'pass-rate', formatPercent(s.passRate));
  rate.id = 'eval-pass-rate';
  const label = el('div', 'pass-label', 'passed');
  const counts = el('div', 'counts');
  counts.id = 'eval-counts';
  const count = (status: 'passed' | 'failed' | 'errored', n: number): HTMLElement => {
    const c = el('span', `count status status-${status}`);
    c.dataset.count = status;
    const icon = el('span', 'icon', STATUS_ICON[status]);
    icon.setAttribute('aria-hidden', 'true');
    c.append(icon, ` ${formatCount(n)} ${status}`);
    return c;
  };
  counts.append(
    count('passed', rc.passed),
    ' · ',
    count('failed', rc.failed),
    ' · ',
    count('errored', rc.errored),
    el('span', 'of-total', ` of ${formatCount(rc.total)}`),
  );
  box.append(rate, label, counts);
  if (s.repeat > 1) {
    const k = el('div', 'pass-k');
    k.id = 'eval-pass-k';
    const atK = el('span', undefined, `pass@${s.repeat} ${formatPercent(s.passAtK)}`);
    atK.title = `Share of cases that passed at least once in ${s.repeat} tries`;
    const hatK = el('span', undefined, `pass^${s.repeat} ${formatPercent(s.passHatK)}`);
    hatK.title = `Share of cases that passed all ${s.repeat} tries`;
    k.append(atK, ' · ', hatK);
    box.append(k);
  }
  return box;
}

function criteriaTable(run: EvalRunView): HTMLElement {
  const t = el('table', 'criteria');
  t.id = 'eval-criteria';
  const caption = el('caption', undefined, 'Criteria');
  const head = el('thead');
  const hr = el('tr');
  for (const [text, className] of [
    ['Criterion', ''],
    ['', 'bar-col'],
    ['Passed', 'col-num'],
    ['Failed', 'col-num'],
    ['Errored', 'col-num'],
  ] as const) {
    const th = el('th', className || undefined, text);
    th.scope = 'col';
    if (!text) th.setAttribute('aria-label', 'Share passed');
    hr.append(th);
  }
  head.append(hr);
  const body = el('tbody');
  const entries = Object.entries(run.summary.perCriterion);
  for (const [name, c] of entries) {
    const tr = el('tr');
    tr.dataset.criterion = name;
    const n = c.passed + c.failed + c.errored;
    const th = el('th', undefined, name);
    th.scope = 'row';
    const barTd = el('td', 'bar-col');
    const bar = el('div', 'bar');
    bar.setAttribute('role', 'img');
    bar.setAttribute(
      'aria-label',
      `${name}: ${c.passed} passed, ${c.failed} failed, ${c.errored} errored`,
    );
    bar.title = n > 0 ? `${formatPercent(c.passed / n)} passed` : 'not graded';
    for (const [status, v] of [
      ['passed', c.passed],
      ['failed', c.failed],
      ['errored', c.errored],
    ] as const) {
      if (v === 0 || n === 0) continue;
      const seg = el('span', `seg seg-${status}`);
      seg.style.width = `${(v / n) * 100}%`;
      bar.append(seg);
    }
    barTd.append(bar);
    tr.append(
      th,
      barTd,
      el('td', 'col-num', formatCount(c.passed)),
      el('td', 'col-num', formatCount(c.failed)),
      el('td', 'col-num', formatCount(c.errored)),
    );
    body.append(tr);
  }
  if (entries.length === 0) {
    const tr = el('tr');
    const td = el('td', 'missing', 'No criteria.');
    td.colSpan = 5;
    tr.append(td);
    body.append(tr);
  }
  t.append(caption, head, body);
  return t;
}

function figure(list: HTMLElement, term: string, ...value: (string | Node)[]): HTMLElement {
  const dt = el('dt', undefined, term);
  const dd = el('dd');
  dd.append(...value);
  list.append(dt, dd);
  return dd;
}

function figures(run: EvalRunView): HTMLElement {
  const s = run.summary;
  const dl = el('dl', 'figures');
  dl.id = 'eval-figures';
  figure(dl, 'Latency', `p50 ${formatMs(s.latencyMs.p50)} · p95 ${formatMs(s.latencyMs.p95)}`);
  figure(
    dl,
    'Time to first token',
    `p50 ${formatMs(s.ttftMs.p50)} · p95 ${formatMs(s.ttftMs.p95)}`,
  );
  figure(
    dl,
    'Tokens',
    `${formatCount(s.tokens.input)} in (${formatCount(s.tokens.cached)} cached) · ` +
      `${formatCount(s.tokens.output)} out (${formatCount(s.tokens.reasoning)} reasoning)`,
  ).id = 'eval-tokens';
  figure(dl, 'Cost', ...costParts(run)).id = 'eval-cost';
  figure(dl, 'Cached answers', formatCount(s.cachedCalls)).title =
    'Answers taken from the response cache: nothing was billed for them';
  figure(dl, 'Duration', formatMs(s.durationMs));
  return dl;
}

function costParts(run: EvalRunView): (string | Node)[] {
  const s = run.summary;
  const total = totalCostUsd(s);
  if (total === null) {
    const none = el('span', 'no-price', DASH);
    none.title = `no price for this model (${run.model}); set one in mlops.evals.prices`;
    return [none];
  }
  const value = el('span', 'cost-total', formatCost(total));
  value.title = `$${total}${s.priceSource ? `\nPrices: ${s.priceSource}` : ''}`;
  const parts: (string | Node)[] = [value];
  const share = judgeShare(s);
  if (s.judgeCostUsd) {
    parts.push(
      ` (judge ${formatCost(s.judgeCostUsd)}${share !== null ? `, ${formatPercent(share)}` : ''})`,
    );
  }
  if (s.costEstimated) {
    const est = el('span', 'badge estimated', 'estimated');
    est.title =
      'Some token counts are tokenizer estimates: the provider sent no usage for those calls';
    parts.push(' ', est);
  }
  return parts;
}

function signClass(change: number | null, lowerIsBetter: boolean): string {
  if (change === null || Math.abs(change) < 0.0005) return 'neutral';
  return change < 0 === lowerIsBetter ? 'better' : 'worse';
}

function change(run: EvalRunView, actions: SummaryActions): HTMLElement {
  const c = run.comparison!;
  const box = el('div', 'change');
  box.id = 'eval-change';
  const title = el('span', 'change-title', 'Against the previous run ');
  const prev = el('button', 'link', c.previousRunId.slice(0, 8));
  prev.title = `Open the previous run (${c.previousRunId})`;
  prev.addEventListener('click', () => actions.openRun(c.previousRunId));
  title.append(prev, ':');
  box.append(title);

  const item = (text: string, className: string, id: string, tip: string): HTMLElement => {
    const s = el('span', `change-item ${className}`, text);
    s.id = id;
    s.title = tip;
    box.append(s);
    return s;
  };
  item(
    `pass rate ${formatPoints(c.passRateChange)}`,
    signClass(c.passRateChange, false),
    'eval-change-pass-rate',
    'Change of the pass rate in percentage points',
  );
  const flips = el(
    'button',
    'link change-item',
    `${formatCount(c.flipped.length)} ${c.flipped.length === 1 ? 'case' : 'cases'} flipped`,
  );
  flips.id = 'eval-flipped';
  flips.title = 'Show only the cases whose status changed';
  flips.disabled = c.flipped.length === 0;
  flips.addEventListener('click', () => actions.showPreviousFlips());
  box.append(flips);
  item(
    `cost ${formatRelativeChange(c.costChange)}`,
    signClass(c.costChange, true),
    'eval-change-cost',
    c.costChange === null
      ? 'No cost to compare: a run has no price'
      : 'Change of the cost per billed answer, judge included',
  );
  item(
    `latency p50 ${formatRelativeChange(c.latencyP50Change)}`,
    signClass(c.latencyP50Change, true),
    'eval-change-latency',
    'Change of the median latency',
  );
  if (c.outputTokensChange !== null) {
    item(
      `output tokens ${formatRelativeChange(c.outputTokensChange)}`,
      signClass(c.outputTokensChange, true),
      'eval-change-tokens',
      'Change of the output tokens',
    );
  }
  if (c.costRegression) {
    const badge = el('span', 'badge warning');
    badge.id = 'eval-cost-regression';
    badge.setAttribute('role', 'status');
    const icon = el('span', 'icon', '⚠');
    icon.setAttribute('aria-hidden', 'true');
    badge.append(icon, ' cost regression');
    badge.title = 'Output tokens or cost grew 30% or more against the previous run';
    box.append(badge);
  }
  if (actions.compareWithPrevious) {
    const side = el('button', 'link change-item', 'show side by side');
    side.id = 'eval-compare-previous';
    side.title = 'Show the previous run side by side';
    side.addEventListener('click', actions.compareWithPrevious);
    box.append(side);
  }
  return box;
}

function sideBySide(
  run: EvalRunView,
  other: { run: EvalRunView; label: string },
  rows: readonly EvalRow[],
  actions: SummaryActions,
): HTMLElement {
  const box = el('div', 'side-by-side');
  box.id = 'eval-side-by-side';
  const t = el('table', 'side-figures');
  const head = el('thead');
  const hr = el('tr');
  for (const h of ['', 'This run', other.label, 'Change']) {
    const th = el('th', h === '' ? undefined : 'col-num', h);
    th.scope = 'col';
    hr.append(th);
  }
  head.append(hr);
  const body = el('tbody');
  for (const f of sideBySideFigures(run, other.run)) {
    const tr = el('tr');
    const th = el('th', undefined, f.label);
    th.scope = 'row';
    tr.append(
      th,
      el('td', 'col-num', f.here),
      el('td', 'col-num', f.there),
      el('td', 'col-num', f.change),
    );
    body.append(tr);
  }
  t.append(head, body);

  const flipped = rows.filter((r) => r.flipped).length;
  const note = el('p', 'side-note');
  const flips = el(
    'button',
    'link',
    `${formatCount(flipped)} ${flipped === 1 ? 'case' : 'cases'} changed status`,
  );
  flips.id = 'eval-side-flipped';
  flips.title = 'Show only the cases whose status differs between the two runs';
  flips.disabled = flipped === 0;
  flips.addEventListener('click', () => actions.showFlipped());
  note.append(flips);
  const { onlyHere, onlyThere } = unpairedCounts(rows);
  if (onlyHere > 0) note.append(` · ${formatCount(onlyHere)} only in this run`);
  if (onlyThere > 0) note.append(` · ${formatCount(onlyThere)} only in the other run`);
  const open = el('button', 'link', 'open the other run');
  open.addEventListener('click', () => actions.openRun(other.run.runId));
  note.append(' · ', open);
  box.append(t, note);
  return box;
}
