// The trace inspector page: the span tree and the waterfall side by side (one row per span,
// only the rows in view drawn, so 10,000 spans scroll as 10), zoom and pan on the time axis,
// the critical path marked; a span's details (chat, inputs and outputs with a raw JSON
// toggle, attributes, events and exceptions, retrieved documents, tokens and cost), eval
// verdicts and guardrail flags; feedback, "Add to eval dataset" and the links out.
// Keyboard: arrows move and open/close rows, Home/End, Enter shows details; + / - / 0 zoom,
// , and . pan.

import type {
  AssessmentView,
  ChatMessageView,
  SpanDetailView,
  SpanRowView,
  TraceView,
  TraceViewState,
} from '../../../src/shared/protocol.ts';
import {
  CopyText,
  OpenRun,
  Painted,
  Ready,
  ShowError,
  TraceAddToDataset,
  TraceFeedback,
  TraceInit,
  TraceOpenEval,
  TraceOpenPrompt,
  TraceSpanDetail,
  TraceUpdated,
} from '../../../src/shared/protocol.ts';
import {
  barGeometry,
  criticalPath,
  formatDurationUs,
  formatUsd,
  orderSpans,
  panWindow,
  spanTypeColor,
  unpackSpans,
  visibleIndices,
  zoomWindow,
} from '../../../src/shared/traceView.ts';
import type { OrderedSpan, TimeWindow } from '../../../src/shared/traceView.ts';
import { button } from '../common/controls.ts';
import { HostConnection } from '../common/host.ts';
import { el } from '../common/element.ts';
import './style.css';

const ROW_HEIGHT = 24;
/** Rows drawn above and below the ones in view. */
const OVERSCAN = 12;

interface SavedState {
  view?: TraceViewState;
  selected?: string;
  collapsed?: string[];
  raw?: boolean;
}

const host = new HostConnection();
const saved = host.getState<SavedState>() ?? {};

let trace: TraceView | undefined;
let rows: SpanRowView[] = [];
let rowsById = new Map<string, SpanRowView>();
let ordered: OrderedSpan[] = [];
let visible: number[] = [];
let critical = new Set<string>();
const collapsed = new Set<string>(saved.collapsed ?? []);
let selected: string | undefined = saved.selected;
let totalUs = 1;
let windowUs: TimeWindow = { startUs: 0, endUs: 1 };
let showRaw = saved.raw ?? false;
let detailToken = 0;
const detailCache = new Map<string, SpanDetailView>();

function save(): void {
  host.setState<SavedState>({
    ...(trace ? { view: { traceId: trace.traceId } } : {}),
    ...(selected ? { selected } : {}),
    collapsed: [...collapsed],
    raw: showRaw,
  });
}

function fail(e: unknown): void {
  host.notify(ShowError, { message: e instanceof Error ? e.message : String(e) });
}

// ---------------------------------------------------------------- layout

const app = document.getElementById('app')!;
const header = el('header', 'trace-header');
const toolbar = el('div', 'toolbar');
toolbar.setAttribute('role', 'toolbar');
toolbar.setAttribute('aria-label', 'Timeline');
const main = el('div', 'trace-main');
const grid = el('div', 'span-grid');
grid.id = 'span-grid';
grid.tabIndex = 0;
grid.setAttribute('role', 'treegrid');
grid.setAttribute('aria-label', 'Spans, with their timeline');
const axis = el('div', 'axis');
const scroller = el('div', 'grid-scroller');
const spacer = el('div', 'grid-spacer');
const rowsLayer = el('div', 'grid-rows');
scroller.append(spacer);
spacer.append(rowsLayer);
grid.append(axis, scroller);
const details = el('section', 'span-details');
details.id = 'span-details';
details.setAttribute('aria-live', 'polite');
main.append(grid, details);
app.append(header, toolbar, main);

// ---------------------------------------------------------------- header

function stat(label: string, value: string, id?: string): HTMLElement {
  const s = el('span', 'stat');
  if (id) s.id = id;
  s.append(el('span', 'stat-label', label), el('span', 'stat-value', value));
  return s;
}

function renderHeader(t: TraceView): void {
  const title = el('h1', undefined, t.name || t.traceId);
  const state = el('span', `state state-${t.state.toLowerCase()}`, t.state);
  state.id = 'trace-state';
  const line = el('div', 'stats');
  line.append(
    stat('Duration', formatDurationUs(t.durationMs * 1000), 'trace-duration'),
    stat(
      'Spans',
      `${t.spanCount}${t.errorCount ? ` (${t.errorCount} with errors)` : ''}`,
      'trace-spans',
    ),
  );
  if (t.tokensIn !== null || t.tokensOut !== null) {
    line.append(stat('Tokens', `${t.tokensIn ?? 0} in · ${t.tokensOut ?? 0} out`, 'trace-tokens'));
  }
  if (t.costUsd !== null) line.append(stat('Cost', formatUsd(t.costUsd), 'trace-cost'));
  if (t.ttftMs !== null) line.append(stat('First token', formatDurationUs(t.ttftMs * 1000)));
  if (t.sessionId) line.append(stat('Session', t.sessionId));
  if (t.flagged)
    line.append(stat('Flagged', `${t.flagged} span${t.flagged === 1 ? '' : 's'}`, 'trace-flagged'));
  const actions = el('div', 'actions');
  actions.append(
    button(
      'Copy trace id',
      () => host.notify(CopyText, { text: t.traceId, what: 'the trace id' }),
      {
        secondary: true,
        id: 'copy-trace-id',
      },
    ),
  );
  if (t.runId) {
    const runId = t.runId;
    actions.append(
      button('Open run', () => host.notify(OpenRun, { runId }), {
        secondary: true,
        id: 'open-run',
      }),
    );
  }
  if (t.evalRunId) {
    actions.append(
      button('Open eval results', () => host.notify(TraceOpenEval, {}), {
        secondary: true,
        id: 'open-eval',
      }),
    );
  }
  if (t.prompt) {
    actions.append(
      button(
        `Open prompt ${t.prompt.name}${t.prompt.version ? ` v${t.prompt.version}` : ''}`,
        () => host.notify(TraceOpenPrompt, {}),
        { secondary: true, id: 'open-prompt' },
      ),
    );
  }
  const top = el('div', 'title-line');
  top.append(title, state);
  const id = el('div', 'trace-id', `tr-${t.traceId} · ${new Date(t.startMs).toLocaleString()}`);
  header.replaceChildren(top, id, line, actions, feedbackBox(null, t.assessments));
}

// ---------------------------------------------------------------- feedback

function assessmentsList(list: AssessmentView[], spanId: string | null): HTMLElement {
  const ul = el('ul', 'assessments');
  for (const a of list.filter((x) => x.spanId === spanId)) {
    const li = el('li');
    const v = a.value === true ? 'Good' : a.value === false ? 'Bad' : String(a.value);
    li.append(
      el('span', 'assessment-value', v),
      el('span', 'assessment-text', `${a.rationale || '(no comment)'} — ${a.source}`),
    );
    ul.append(li);
  }
  return ul;
}

function feedbackBox(spanId: string | null, list: AssessmentView[]): HTMLElement {
  const box = el('div', 'feedback');
  box.dataset.span = spanId ?? '';
  const label = el(
    'span',
    'feedback-label',
    spanId ? 'Feedback on this span' : 'Feedback on this trace',
  );
  const comment = el('input', 'feedback-comment');
  comment.type = 'text';
  comment.placeholder = 'Comment (optional)';
  comment.setAttribute('aria-label', `${label.textContent} comment`);
  const shown = assessmentsList(list, spanId);
  const send = (value: boolean) => {
    host
      .request(TraceFeedback, { spanId, value, comment: comment.value })
      .then((all) => {
        if (trace) trace.assessments = all;
        comment.value = '';
        shown.replaceWith((shownNow = assessmentsList(all, spanId)));
      })
      .catch(fail);
  };
  let shownNow = shown;
  const up = el('button', 'thumb thumb-up', '▲ Good');
  up.type = 'button';
  up.title = 'Thumbs up: a good answer';
  up.addEventListener('click', () => send(true));
  const down = el('button', 'thumb thumb-down', '▼ Bad');
  down.type = 'button';
  down.title = 'Thumbs down: a bad answer';
  down.addEventListener('click', () => send(false));
  box.append(label, up, down, comment, shownNow);
  return box;
}

// ---------------------------------------------------------------- toolbar and axis

function renderToolbar(): void {
  const zoom = (f: number) => () =>
    setWindow(zoomWindow(windowUs, f, (windowUs.startUs + windowUs.endUs) / 2, totalUs));
  const legend = el('span', 'legend');
  for (const [label, type] of [
    ['model', 'LLM'],
    ['tool', 'TOOL'],
    ['retrieval', 'RETRIEVER'],
    ['chain / agent', 'CHAIN'],
    ['evaluator', 'EVALUATOR'],
  ] as const) {
    const swatch = el('span', 'swatch');
    swatch.style.background = spanTypeColor(type);
    legend.append(swatch, el('span', 'legend-label', label));
  }
  const errorSwatch = el('span', 'swatch swatch-error');
  legend.append(errorSwatch, el('span', 'legend-label', 'error'));
  const crit = el('span', 'legend-critical', 'critical path outlined');
  toolbar.replaceChildren(
    button('Zoom in', zoom(0.5), { secondary: true, id: 'zoom-in', title: 'Zoom in (+)' }),
    button('Zoom out', zoom(2), { secondary: true, id: 'zoom-out', title: 'Zoom out (-)' }),
    button('Reset', () => setWindow({ startUs: 0, endUs: totalUs }), {
      secondary: true,
      id: 'zoom-reset',
      title: 'Whole trace (0)',
    }),
    legend,
    crit,
  );
}

function renderAxis(): void {
  const ticks = el('div', 'ticks');
  // As many labels as fit: one per 90 pixels of the timeline, at least both ends.
  const n = Math.max(1, Math.min(8, Math.floor((axis.clientWidth / 2 || 300) / 90)));
  for (let i = 0; i <= n; i++) {
    const t = el(
      'span',
      'tick',
      formatDurationUs(windowUs.startUs + ((windowUs.endUs - windowUs.startUs) * i) / n),
    );
    t.style.left = `${(i * 100) / n}%`;
    ticks.append(t);
  }
  const label = el('div', 'axis-tree', 'Span');
  const timeline = el('div', 'axis-timeline');
  timeline.append(ticks);
  timeline.title = 'Drag to pan; Ctrl+wheel to zoom';
  axis.replaceChildren(label, timeline);
  let dragFrom: number | undefined;
  timeline.addEventListener('pointerdown', (e) => {
    dragFrom = e.clientX;
    timeline.setPointerCapture(e.pointerId);
  });
  timeline.addEventListener('pointermove', (e) => {
    if (dragFrom === undefined) return;
    const dx = e.clientX - dragFrom;
    dragFrom = e.clientX;
    setWindow(panWindow(windowUs, -dx / Math.max(1, timeline.clientWidth), totalUs));
  });
  timeline.addEventListener('pointerup', () => (dragFrom = undefined));
}

function setWindow(w: TimeWindow): void {
  windowUs = w;
  renderAxis();
  renderRows();
}

grid.addEventListener(
  'wheel',
  (e) => {
    if (!e.ctrlKey && !e.metaKey) return;
    e.preventDefault();
    const timeline = axis.querySelector<HTMLElement>('.axis-timeline');
    const rect = timeline?.getBoundingClientRect();
    const ratio = rect ? Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width)) : 0.5;
    const center = windowUs.startUs + (windowUs.endUs - windowUs.startUs) * ratio;
    setWindow(zoomWindow(windowUs, e.deltaY > 0 ? 1.25 : 0.8, center, totalUs));
  },
  { passive: false },
);

// ---------------------------------------------------------------- rows

function rowId(spanId: string): string {
  return `span-row-${spanId}`;
}

function renderRow(index: number, position: number): HTMLElement {
  const o = ordered[index]!;
  const r = o.row;
  const row = el('div', 'span-row');
  row.id = rowId(r.spanId);
  row.dataset.span = r.spanId;
  row.dataset.type = r.type;
  row.setAttribute('role', 'row');
  row.setAttribute('aria-level', String(o.depth + 1));
  row.setAttribute('aria-selected', String(r.spanId === selected));
  if (o.childCount) row.setAttribute('aria-expanded', String(!collapsed.has(r.spanId)));
  row.style.top = `${position * ROW_HEIGHT}px`;
  if (r.spanId === selected) row.classList.add('selected');
  if (r.status === 2) row.classList.add('error');
  if (critical.has(r.spanId)) row.classList.add('critical');

  const tree = el('div', 'cell-tree');
  tree.setAttribute('role', 'gridcell');
  tree.style.paddingLeft = `${4 + o.depth * 14}px`;
  const twisty = el('span', 'twisty', o.childCount ? (collapsed.has(r.spanId) ? '▸' : '▾') : '');
  const badge = el('span', 'type-badge', r.type);
  badge.style.borderColor = spanTypeColor(r.type);
  const name = el('span', 'span-name', r.name);
  const dur = el('span', 'span-duration', formatDurationUs(r.durationUs));
  tree.append(twisty, badge, name);
  if (r.status === 2) tree.append(el('span', 'marker marker-error', '✕'));
  if (r.flags.length) {
    const f = el('span', 'marker marker-flag', '⚑');
    f.title = `Flagged: ${r.flags.join(', ')}`;
    tree.append(f);
  }
  for (const v of r.verdicts) {
    const b = el(
      'span',
      `verdict ${v.pass ? 'verdict-pass' : 'verdict-fail'}`,
      `${v.pass ? '✓' : '✗'} ${v.name}`,
    );
    b.title = v.reason;
    tree.append(b);
  }
  tree.append(dur);

  const timeline = el('div', 'cell-timeline');
  timeline.setAttribute('role', 'gridcell');
  const g = barGeometry(r, windowUs);
  if (g) {
    const bar = el('span', 'bar');
    bar.style.left = `${g.left}%`;
    bar.style.width = `${g.width}%`;
    bar.style.background = r.status === 2 ? 'var(--vscode-charts-red)' : spanTypeColor(r.type);
    bar.title = `${r.name}: starts at ${formatDurationUs(r.startUs)}, lasts ${formatDurationUs(r.durationUs)}`;
    timeline.append(bar);
  }
  row.append(tree, timeline);
  return row;
}

function renderRows(): void {
  spacer.style.height = `${visible.length * ROW_HEIGHT}px`;
  const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(
    visible.length,
    Math.ceil((scroller.scrollTop + scroller.clientHeight) / ROW_HEIGHT) + OVERSCAN,
  );
  const nodes: HTMLElement[] = [];
  for (let p = first; p < last; p++) nodes.push(renderRow(visible[p]!, p));
  rowsLayer.replaceChildren(...nodes);
  if (selected) grid.setAttribute('aria-activedescendant', rowId(selected));
}

let scrollFrame = 0;
scroller.addEventListener('scroll', () => {
  cancelAnimationFrame(scrollFrame);
  scrollFrame = requestAnimationFrame(renderRows);
});
new ResizeObserver(() => renderRows()).observe(scroller);

rowsLayer.addEventListener('click', (e) => {
  const row = (e.target as HTMLElement).closest<HTMLElement>('.span-row');
  if (!row?.dataset.span) return;
  if ((e.target as HTMLElement).classList.contains('twisty')) toggle(row.dataset.span);
  else select(row.dataset.span);
});

function recompute(): void {
  if (!trace) return;
  ordered = orderSpans(rows);
  critical = criticalPath(rows);
  visible = visibleIndices(ordered, collapsed);
  totalUs = rows.reduce((m, s) => Math.max(m, s.startUs + s.durationUs), 1);
}

function toggle(spanId: string, open?: boolean): void {
  const isOpen = !collapsed.has(spanId);
  if (open === isOpen) return;
  if (isOpen) collapsed.add(spanId);
  else collapsed.delete(spanId);
  visible = visibleIndices(ordered, collapsed);
  save();
  renderRows();
}

function positionOf(spanId: string): number {
  return visible.findIndex((i) => ordered[i]!.row.spanId === spanId);
}

function scrollIntoView(spanId: string): void {
  const p = positionOf(spanId);
  if (p < 0) return;
  const top = p * ROW_HEIGHT;
  if (top < scroller.scrollTop) scroller.scrollTop = top;
  else if (top + ROW_HEIGHT > scroller.scrollTop + scroller.clientHeight) {
    scroller.scrollTop = top + ROW_HEIGHT - scroller.clientHeight;
  }
}

function select(spanId: string): void {
  selected = spanId;
  save();
  scrollIntoView(spanId);
  renderRows();
  void showDetails(spanId);
}

grid.addEventListener('keydown', (e) => {
  if (!trace || visible.length === 0) return;
  const p = Math.max(0, selected ? positionOf(selected) : 0);
  const at = (q: number) => ordered[visible[Math.min(Math.max(q, 0), visible.length - 1)]!]!;
  const current = at(p);
  const key = e.key;
  let handled = true;
  if (key === 'ArrowDown') select(at(p + 1).row.spanId);
  else if (key === 'ArrowUp') select(at(p - 1).row.spanId);
  else if (key === 'Home') select(at(0).row.spanId);
  else if (key === 'End') select(at(visible.length - 1).row.spanId);
  else if (key === 'PageDown')
    select(at(p + Math.floor(scroller.clientHeight / ROW_HEIGHT)).row.spanId);
  else if (key === 'PageUp')
    select(at(p - Math.floor(scroller.clientHeight / ROW_HEIGHT)).row.spanId);
  else if (key === 'ArrowRight') {
    if (current.childCount && collapsed.has(current.row.spanId)) toggle(current.row.spanId, true);
    else if (current.childCount) select(at(p + 1).row.spanId);
  } else if (key === 'ArrowLeft') {
    if (current.childCount && !collapsed.has(current.row.spanId)) toggle(current.row.spanId, false);
    else if (current.parent >= 0) select(ordered[current.parent]!.row.spanId);
  } else if (key === 'Enter') details.focus();
  else if (key === '+' || key === '=')
    setWindow(zoomWindow(windowUs, 0.5, (windowUs.startUs + windowUs.endUs) / 2, totalUs));
  else if (key === '-')
    setWindow(zoomWindow(windowUs, 2, (windowUs.startUs + windowUs.endUs) / 2, totalUs));
  else if (key === '0') setWindow({ startUs: 0, endUs: totalUs });
  else if (key === ',') setWindow(panWindow(windowUs, -0.25, totalUs));
  else if (key === '.') setWindow(panWindow(windowUs, 0.25, totalUs));
  else handled = false;
  if (handled) e.preventDefault();
});

// ---------------------------------------------------------------- details

function section(title: string, ...children: (HTMLElement | string)[]): HTMLElement {
  const s = el('div', 'detail-section');
  s.append(el('h3', undefined, title), ...children);
  return s;
}

function pre(text: string, className = 'json'): HTMLElement {
  const p = el('pre', className, text);
  p.tabIndex = 0;
  return p;
}

function chat(messages: ChatMessageView[], title: string): HTMLElement {
  const list = el('div', 'chat');
  for (const m of messages) {
    const msg = el('div', `chat-message role-${m.role.replace(/[^a-z_-]/gi, '')}`);
    const who = el('div', 'chat-role', m.name ? `${m.role} (${m.name})` : m.role);
    msg.append(who);
    if (m.toolCallId)
      msg.append(el('div', 'chat-tool-result', `result of tool call ${m.toolCallId}`));
    if (m.content) msg.append(el('div', 'chat-content', m.content));
    for (const c of m.toolCalls ?? []) {
      const call = el('div', 'chat-tool-call');
      let args = c.arguments;
      try {
        args = JSON.stringify(JSON.parse(c.arguments), null, 2);
      } catch {
        // shown as sent
      }
      call.append(
        el('span', 'tool-name', `→ ${c.name}${c.id ? ` (${c.id})` : ''}`),
        pre(args, 'tool-args'),
      );
      msg.append(call);
    }
    list.append(msg);
  }
  return section(title, list);
}

function kvTable(pairs: [string, string][], caption: string): HTMLElement {
  const t = el('table', 'kv');
  const c = el('caption', undefined, caption);
  const body = el('tbody');
  for (const [k, v] of pairs) {
    const tr = el('tr');
    const th = el('th', undefined, k);
    th.scope = 'row';
    const td = el('td');
    td.append(v.includes('\n') ? pre(v) : document.createTextNode(v));
    tr.append(th, td);
    body.append(tr);
  }
  t.append(c, body);
  return t;
}

function renderDetails(d: SpanDetailView): void {
  const head = el('div', 'detail-head');
  const title = el('h2', undefined, d.name);
  const badge = el('span', 'type-badge', d.type);
  badge.style.borderColor = spanTypeColor(d.type);
  head.append(title, badge);
  const meta = el('div', 'stats');
  meta.append(stat('Duration', formatDurationUs(d.durationUs)), stat('Kind', d.kind));
  if (d.model) meta.append(stat('Model', d.model));
  if (d.tokensIn !== null || d.tokensOut !== null)
    meta.append(stat('Tokens', `${d.tokensIn ?? 0} in · ${d.tokensOut ?? 0} out`));
  if (d.costUsd !== null) meta.append(stat('Cost', formatUsd(d.costUsd)));
  if (d.ttftMs !== null) meta.append(stat('First token', formatDurationUs(d.ttftMs * 1000)));
  if (d.toolName) meta.append(stat('Tool', d.toolName));
  meta.append(stat('Convention', d.convention));
  const parts: HTMLElement[] = [head, meta];
  if (trace && (trace.tokensIn !== null || trace.costUsd !== null)) {
    parts.push(
      el(
        'div',
        'trace-totals',
        `Trace totals: ${trace.tokensIn ?? 0} in · ${trace.tokensOut ?? 0} out${trace.costUsd !== null ? ` · ${formatUsd(trace.costUsd)}` : ''}`,
      ),
    );
  }
  if (d.status === 2)
    parts.push(el('div', 'status-error', `Error: ${d.statusMessage || 'the span failed'}`));
  for (const f of d.flags) {
    parts.push(el('div', 'flag', `⚑ ${f.check} (${f.action}): ${f.reason}`));
  }
  const row = rowsById.get(d.spanId);
  for (const v of row?.verdicts ?? []) {
    parts.push(
      el(
        'div',
        `verdict-line ${v.pass ? 'verdict-pass' : 'verdict-fail'}`,
        `${v.pass ? '✓' : '✗'} ${v.name}: ${v.reason}`,
      ),
    );
  }
  const actions = el('div', 'actions');
  const raw = el('label', 'raw-toggle');
  const box = el('input');
  box.type = 'checkbox';
  box.checked = showRaw;
  box.id = 'raw-json';
  box.addEventListener('change', () => {
    showRaw = box.checked;
    save();
    renderDetails(d);
  });
  raw.append(box, document.createTextNode(' Raw JSON'));
  actions.append(raw);
  if (d.canAddToDataset) {
    actions.append(
      button('Add to eval dataset', () => host.notify(TraceAddToDataset, { spanId: d.spanId }), {
        id: 'add-to-dataset',
        title: "Its input becomes a case of a suite's dataset, its output the reference answer",
      }),
    );
  }
  parts.push(actions);
  const hasChat = d.inputMessages.length > 0 || d.outputMessages.length > 0;
  if (hasChat && !showRaw) {
    if (d.inputMessages.length) parts.push(chat(d.inputMessages, 'Input messages'));
    if (d.outputMessages.length) parts.push(chat(d.outputMessages, 'Output messages'));
  } else {
    if (d.inputs !== null) parts.push(section('Inputs', pre(d.inputs)));
    if (d.outputs !== null) parts.push(section('Outputs', pre(d.outputs)));
  }
  if (d.documents.length) {
    const list = el('ol', 'documents');
    for (const doc of d.documents) {
      const li = el('li', 'document');
      const top = el('div', 'document-head');
      top.append(
        el('span', 'document-id', doc.id ?? ''),
        el(
          'span',
          'document-score',
          doc.score !== undefined ? `score ${doc.score.toFixed(3)}` : '',
        ),
      );
      li.append(top, el('div', 'document-content', doc.content));
      if (doc.metadata) li.append(el('div', 'document-meta', doc.metadata));
      list.append(li);
    }
    parts.push(section(`Documents (${d.documents.length})`, list));
  }
  for (const x of d.exceptions) {
    parts.push(
      section(
        `Exception: ${x.type}`,
        el('p', 'exception-message', x.message),
        pre(x.stacktrace, 'stacktrace'),
      ),
    );
  }
  const events = d.events.filter((e) => e.name !== 'exception');
  if (events.length) {
    const list = el('ul', 'events');
    for (const e of events) {
      const li = el('li');
      li.append(
        el('span', 'event-time', `+${formatDurationUs(e.offsetUs)}`),
        el('span', 'event-name', e.name),
      );
      if (e.attributes.length) li.append(kvTable(e.attributes, `${e.name} attributes`));
      list.append(li);
    }
    parts.push(section('Events', list));
  }
  parts.push(section('Attributes', kvTable(d.attributes, 'Span attributes')));
  if (d.resource.length)
    parts.push(section('Resource', kvTable(d.resource, 'Resource attributes')));
  parts.push(feedbackBox(d.spanId, trace?.assessments ?? []));
  details.replaceChildren(...parts);
  details.tabIndex = -1;
}

async function showDetails(spanId: string): Promise<void> {
  const token = ++detailToken;
  try {
    let d = detailCache.get(spanId);
    if (!d) {
      details.replaceChildren(el('p', 'loading', 'Loading the span…'));
      d = await host.request(TraceSpanDetail, { spanId });
      detailCache.set(spanId, d);
    }
    if (token === detailToken) renderDetails(d);
  } catch (e) {
    if (token === detailToken)
      details.replaceChildren(el('p', 'status-error', (e as Error).message));
  }
}

// ---------------------------------------------------------------- messages

function show(t: TraceView, focus: string | null, first: boolean): void {
  const started = performance.now();
  trace = t;
  rows = unpackSpans(t.spans);
  rowsById = new Map(rows.map((r) => [r.spanId, r]));
  recompute();
  if (first) windowUs = { startUs: 0, endUs: totalUs };
  else
    windowUs = {
      startUs: Math.min(windowUs.startUs, totalUs),
      endUs: Math.min(
        Math.max(windowUs.endUs, windowUs.startUs + 1),
        Math.max(totalUs, windowUs.endUs),
      ),
    };
  renderHeader(t);
  renderToolbar();
  renderAxis();
  const root = ordered[0]?.row.spanId;
  if (!selected || !rowsById.has(selected)) selected = focus ?? root;
  renderRows();
  if (selected) {
    scrollIntoView(selected);
    if (first || !detailCache.has(selected)) void showDetails(selected);
  }
  save();
  if (first) {
    requestAnimationFrame(() =>
      host.notify(Painted, {
        what: `trace ${t.spanCount} spans in ${Math.round(performance.now() - started)} ms`,
        charts: 0,
        points: t.spanCount,
      }),
    );
  }
}

host.on(TraceInit, (p) => {
  detailCache.clear();
  show(p.trace, p.focusSpanId, true);
  grid.focus();
});

host.on(TraceUpdated, (p) => {
  // New spans may change any row's details (a parent's children, the trace's totals).
  detailCache.clear();
  show(p.trace, null, false);
});

host.notify(Ready, { chartPixels: Math.max(50, Math.round(window.innerWidth / 2)) });
