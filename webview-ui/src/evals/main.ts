// The Eval Results page: one eval run's summary and cases, the change against the
// previous run, and another run of the suite side by side. Filters, the side-by-side
// choice, open rows and the scroll position live in the page's saved state, so hiding
// the panel or reloading the window brings it back as it was.

import {
  caseKey,
  evalCasesToCsv,
  evalRows,
  evalRunToMarkdown,
  exportFileName,
  filterRows,
  filterShowing,
  formatCount,
  formatMs,
  formatPercent,
  STATUS_FILTERS,
} from '../../../src/shared/evalView.ts';
import type { CaseFilter, EvalRow, StatusFilter } from '../../../src/shared/evalView.ts';
import type { EvalRunChoice, EvalRunView, EvalViewState } from '../../../src/shared/protocol.ts';
import {
  CopyText,
  EvalFocusCase,
  EvalInit,
  EvalLoadRun,
  EvalRunsChanged,
  OpenRun,
  OpenTrace,
  Ready,
  SaveFile,
  ShowError,
} from '../../../src/shared/protocol.ts';
import { button, checkbox, dropdown, textField } from '../common/controls.ts';
import type { Choice } from '../common/controls.ts';
import { HostConnection } from '../common/host.ts';
import { CasesTable } from './cases.ts';
import { el } from '../common/element.ts';
import { renderSummary } from './summary.ts';
import './style.css';

/** Rows drawn at once: 5,000 cases would take seconds to lay out. */
const PAGE = 500;
/** What SaveFile accepts (see its schema). */
const MAX_EXPORT_CHARS = 50_000_000;

interface UiState {
  status: StatusFilter;
  flippedOnly: boolean;
  text: string;
  /** Keys (`index/repeat`) of the cases whose detail is open. */
  open: string[];
  /** The first matching row drawn: past 0 when a case far down was asked for. */
  offset: number;
  /** Rows drawn: PAGE, or more after "Show more" / "Show earlier". */
  limit: number;
  scrollY: number;
}

interface SavedState {
  /** Read by the host's serializer to reopen the panel after a window reload. */
  view?: EvalViewState;
  ui: UiState;
}

const host = new HostConnection();
const saved = host.getState<SavedState>();
const ui: UiState = {
  status: 'all',
  flippedOnly: false,
  text: '',
  open: [],
  offset: 0,
  limit: PAGE,
  scrollY: 0,
  ...saved?.ui,
};
let view: EvalViewState | undefined = saved?.view;
let run: EvalRunView | null = null;
let other: EvalRunView | null = null;
let otherRuns: EvalRunChoice[] = [];
let rows: EvalRow[] = [];
let pendingFocus: { index: number; repeat: number } | null = null;
let loadToken = 0;
let restoreScroll = true;
/** Set while the page itself updates the controls: the toolkit checkbox fires `change` then. */
let syncing = false;

function save(): void {
  host.setState<SavedState>({ view, ui });
}

// ------------------------------------------------------------------ layout

const app = document.getElementById('app')!;

const header = el('header');
const title = el('h1');
title.id = 'eval-title';
const subtitle = el('p', 'subtitle');
subtitle.id = 'eval-subtitle';
const headerBar = el('div', 'toolbar');
headerBar.setAttribute('role', 'toolbar');
headerBar.setAttribute('aria-label', 'Run actions');
const picker = dropdown(
  [{ value: 'none', label: 'none' }],
  'none',
  (v) => void chooseCompare(v === 'none' ? null : v.slice('run:'.length)),
  { label: 'Show side by side with', id: 'compare-with' },
) as ReturnType<typeof dropdown> & { disabled: boolean };
const pickerNote = el('span', 'hint');
pickerNote.setAttribute('aria-live', 'polite');
headerBar.append(
  button('Open run', () => run && host.notify(OpenRun, { runId: run.runId }), {
    id: 'open-run',
    title: 'Open the run of this eval',
  }),
  button('Copy as Markdown', copyMarkdown, { secondary: true, id: 'copy-markdown' }),
  button('Export CSV', exportCsv, { secondary: true, id: 'export-csv' }),
  el('span', 'label', 'Side by side with'),
  picker,
  pickerNote,
);
header.append(title, subtitle, headerBar);

const summarySection = el('section');
summarySection.id = 'summary-section';
summarySection.append(el('h2', undefined, 'Summary'));
const summary = el('div', 'summary');
summary.id = 'eval-summary';
summarySection.append(summary);

const casesSection = el('section');
casesSection.id = 'cases-section';
casesSection.append(el('h2', undefined, 'Cases'));
const filterBar = el('div', 'toolbar');
filterBar.setAttribute('role', 'toolbar');
filterBar.setAttribute('aria-label', 'Case filters');
const statusPick = dropdown(
  STATUS_FILTERS,
  ui.status,
  (v) => {
    if (syncing) return;
    ui.status = v as StatusFilter;
    filtersChanged();
  },
  { label: 'Status', id: 'filter-status' },
) as ReturnType<typeof dropdown> & { value: string };
const flippedBox = checkbox(
  'Flipped only',
  ui.flippedOnly,
  (v) => {
    if (syncing) return;
    ui.flippedOnly = v;
    filtersChanged();
  },
  'filter-flipped',
) as HTMLElement & { checked: boolean; disabled: boolean };
let textTimer: ReturnType<typeof setTimeout> | undefined;
const search = textField(
  'Search vars, outputs and reasons',
  ui.text,
  (v) => {
    if (syncing) return;
    // Each keystroke would filter every case: wait for a pause in typing.
    clearTimeout(textTimer);
    textTimer = setTimeout(() => {
      ui.text = v;
      filtersChanged();
    }, 150);
  },
  { id: 'filter-text', placeholder: 'Search vars, outputs, reasons' },
);
const count = el('span', 'count-note');
count.id = 'eval-count';
count.setAttribute('aria-live', 'polite');
filterBar.append(statusPick, flippedBox, search, count);

const table = new CasesTable(
  (key, open) => {
    ui.open = open ? [...ui.open.filter((k) => k !== key), key] : ui.open.filter((k) => k !== key);
    save();
  },
  (traceId) => host.notify(OpenTrace, { traceId }),
);
const showMore = button(
  'Show more',
  () => {
    ui.limit += PAGE;
    save();
    drawCases();
  },
  { secondary: true, id: 'show-more' },
);
const moreWrap = el('div', 'more');
moreWrap.append(showMore);
const showEarlier = button(
  'Show earlier',
  () => {
    const start = Math.max(0, ui.offset - PAGE);
    ui.limit += ui.offset - start;
    ui.offset = start;
    save();
    drawCases();
  },
  { secondary: true, id: 'show-earlier' },
);
const earlierWrap = el('div', 'more');
earlierWrap.append(showEarlier);
casesSection.append(filterBar, earlierWrap, table.element, moreWrap);

const loading = el('p', 'hint', 'Loading the eval run…');
app.append(header, loading, summarySection, casesSection);
summarySection.hidden = true;
casesSection.hidden = true;

// ------------------------------------------------------------------ drawing

/** "Flipped" means something only against the previous run or a run side by side. */
function flipAvailable(): boolean {
  return other !== null || !!run?.comparison;
}

function currentFilter(): CaseFilter {
  return { status: ui.status, flippedOnly: ui.flippedOnly && flipAvailable(), text: ui.text };
}

function otherLabel(): string {
  if (!other) return '';
  const choice = otherRuns.find((c) => c.runId === other!.runId);
  return choice?.label ?? `${other.prompt.label} · ${other.model}`;
}

function drawHeader(): void {
  if (!run) return;
  title.textContent = run.suite;
  title.title = run.suiteFile;
  document.title = `Eval: ${run.suite}`;
  const facts = [
    `Prompt ${run.prompt.label}`,
    run.model,
    new Date(run.startedAt).toLocaleString(),
    `took ${formatMs(run.summary.durationMs)}`,
  ];
  subtitle.textContent = facts.join(' · ');
  subtitle.title = `${run.suiteFile} · ${run.baseUrl} · run ${run.runId}`;
}

function drawSummary(): void {
  if (!run) return;
  const previous = run.comparison?.previousRunId;
  const canShowPrevious =
    previous !== undefined &&
    other?.runId !== previous &&
    otherRuns.some((c) => c.runId === previous);
  renderSummary(summary, run, other ? { run: other, label: otherLabel() } : null, rows, {
    openRun: (runId) => host.notify(OpenRun, { runId }),
    showFlipped: () => showFlippedOnly(),
    showPreviousFlips: () => void showPreviousFlips(),
    ...(canShowPrevious ? { compareWithPrevious: () => void chooseCompare(previous) } : {}),
  });
}

function drawPicker(): void {
  const choices: Choice[] = [{ value: 'none', label: 'none' }];
  const label = (c: EvalRunChoice) =>
    c.passRate === null ? c.label : `${c.label} · ${formatPercent(c.passRate)}`;
  for (const c of otherRuns) choices.push({ value: `run:${c.runId}`, label: label(c) });
  // A run deleted while shown stays choosable, so the picker says what is on screen.
  if (other && !otherRuns.some((c) => c.runId === other!.runId)) {
    choices.push({ value: `run:${other.runId}`, label: `${otherLabel()} (deleted)` });
  }
  picker.setChoices(choices, other ? `run:${other.runId}` : 'none');
}

function drawFilters(): void {
  syncing = true;
  try {
    syncFilterControls();
  } finally {
    syncing = false;
  }
}

function syncFilterControls(): void {
  if (statusPick.value !== ui.status) statusPick.value = ui.status;
  const checked = ui.flippedOnly && flipAvailable();
  if (flippedBox.checked !== checked) flippedBox.checked = checked;
  flippedBox.disabled = !flipAvailable();
  flippedBox.title = flipAvailable()
    ? other
      ? 'Only cases whose status differs from the run side by side'
      : 'Only cases whose status changed since the previous run'
    : 'Needs a previous run of this suite or a run side by side';
  if (search.value !== ui.text) search.value = ui.text;
}

function drawCases(): void {
  if (!run) return;
  const matching = filterRows(rows, currentFilter());
  // A saved offset past what now matches falls back to the last page.
  const start = Math.max(0, Math.min(ui.offset, Math.floor((matching.length - 1) / PAGE) * PAGE));
  const shown = matching.slice(start, start + ui.limit);
  const open = new Set(ui.open);
  table.render(shown, {
    otherLabel: other ? otherLabel() : null,
    repeat: run.summary.repeat,
    isOpen: (key) => open.has(key),
  });
  count.textContent = `showing ${formatCount(matching.length)} of ${formatCount(rows.length)}`;
  count.dataset.matching = String(matching.length);
  count.dataset.total = String(rows.length);
  count.dataset.drawn = String(shown.length);
  const end = start + shown.length;
  const drawn =
    start > 0
      ? `rows ${formatCount(start + 1)}–${formatCount(end)} of ${formatCount(matching.length)} drawn`
      : `${formatCount(end)} of ${formatCount(matching.length)} drawn`;
  moreWrap.hidden = end >= matching.length;
  showMore.textContent = `Show ${formatCount(Math.min(PAGE, matching.length - end))} more (${drawn})`;
  earlierWrap.hidden = start === 0;
  showEarlier.textContent = `Show ${formatCount(Math.min(PAGE, start))} earlier (${drawn})`;
}

function drawAll(): void {
  drawHeader();
  drawSummary();
  drawPicker();
  drawFilters();
  drawCases();
}

function filtersChanged(): void {
  ui.offset = 0;
  ui.limit = PAGE;
  save();
  drawFilters();
  drawCases();
}

function showFlippedOnly(): void {
  ui.flippedOnly = true;
  ui.status = 'all';
  filtersChanged();
  casesSection.scrollIntoView({ block: 'start' });
}

/** The flips against the previous run: with another run side by side, the previous one. */
async function showPreviousFlips(): Promise<void> {
  const previous = run?.comparison?.previousRunId;
  if (other && previous && other.runId !== previous) {
    const available = otherRuns.some((c) => c.runId === previous);
    await chooseCompare(available ? previous : null);
  }
  showFlippedOnly();
}

// ------------------------------------------------------------------ actions

async function chooseCompare(runId: string | null): Promise<void> {
  if (!run) return;
  const token = ++loadToken;
  const before = other;
  picker.disabled = true;
  pickerNote.textContent = runId ? 'loading…' : '';
  try {
    const loaded = await host.request(EvalLoadRun, { runId });
    if (token !== loadToken) return;
    if (runId && !loaded) throw new Error(`the run ${runId} has no eval results`);
    other = runId ? loaded : null;
  } catch (e) {
    if (token !== loadToken) return;
    other = before;
    host.notify(ShowError, {
      message: `Could not show the run side by side: ${(e as Error).message}`,
    });
  } finally {
    if (token === loadToken) {
      picker.disabled = false;
      pickerNote.textContent = '';
    }
  }
  view = other ? { runId: run.runId, compareWith: other.runId } : { runId: run.runId };
  rows = evalRows(run, other);
  ui.offset = 0;
  ui.limit = PAGE;
  save();
  drawSummary();
  drawPicker();
  drawFilters();
  drawCases();
}

function copyMarkdown(): void {
  if (!run) return;
  host.notify(CopyText, {
    text: evalRunToMarkdown(run, other),
    what: 'the eval summary as Markdown',
  });
}

function exportCsv(): void {
  if (!run) return;
  const content = evalCasesToCsv(run);
  if (content.length > MAX_EXPORT_CHARS) {
    host.notify(ShowError, {
      message: `The CSV of this run is ${formatCount(content.length)} characters, over the ${formatCount(MAX_EXPORT_CHARS)} an export can carry; export it with the mlops CLI instead.`,
    });
    return;
  }
  host.notify(SaveFile, { suggestedName: exportFileName(run, 'csv'), content });
}

/** Scrolls to a case, opens it and focuses it, clearing the filters that hide it. */
function focusCase(target: { index: number; repeat: number }): void {
  if (!run) {
    pendingFocus = target;
    return;
  }
  const key = caseKey(target);
  const row = rows.find((r) => r.key === key);
  if (!row) {
    host.notify(ShowError, {
      message: `Case ${target.index + 1} (repeat ${target.repeat + 1}) is not in this eval run.`,
    });
    return;
  }
  clearTimeout(textTimer);
  const relaxed = filterShowing(row, currentFilter());
  ui.status = relaxed.status;
  ui.text = relaxed.text;
  if (flipAvailable() && !relaxed.flippedOnly) ui.flippedOnly = false;
  // Draw the page the case is on, not every row above it.
  const position = filterRows(rows, currentFilter()).indexOf(row);
  if (position < ui.offset || position >= ui.offset + ui.limit) {
    ui.offset = Math.floor(position / PAGE) * PAGE;
    ui.limit = PAGE;
  }
  if (!ui.open.includes(key)) ui.open = [...ui.open, key];
  restoreScroll = false;
  save();
  drawFilters();
  drawCases();
  const tr = table.rowElement(key);
  if (tr) {
    tr.scrollIntoView({ block: 'center' });
    tr.focus({ preventScroll: true });
  }
}

// ------------------------------------------------------------------ messages

host.on(EvalInit, (init) => {
  if (view?.runId !== init.run.runId) {
    // Another run than the saved state was about: its open rows mean nothing here.
    ui.open = [];
    ui.offset = 0;
    ui.limit = PAGE;
  }
  run = init.run;
  other = init.compareRun;
  otherRuns = init.otherRuns;
  view = other ? { runId: run.runId, compareWith: other.runId } : { runId: run.runId };
  rows = evalRows(run, other);
  const known = new Set(rows.map((r) => r.key));
  ui.open = ui.open.filter((k) => known.has(k));
  save();
  loading.hidden = true;
  summarySection.hidden = false;
  casesSection.hidden = false;
  drawAll();
  const focus = init.focus ?? pendingFocus;
  pendingFocus = null;
  if (focus) focusCase(focus);
  else if (restoreScroll && ui.scrollY > 0) {
    // After layout, so the page is tall enough to scroll back to where it was.
    requestAnimationFrame(() => window.scrollTo(0, ui.scrollY));
  }
  restoreScroll = false;
});

host.on(EvalFocusCase, (target) => focusCase(target));

host.on(EvalRunsChanged, (change) => {
  otherRuns = change.otherRuns;
  drawPicker();
  drawSummary();
});

let scrollTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('scroll', () => {
  clearTimeout(scrollTimer);
  scrollTimer = setTimeout(() => {
    ui.scrollY = Math.round(window.scrollY);
    save();
  }, 200);
});

window.addEventListener('error', (e) =>
  host.notify(ShowError, { message: `The eval results view failed: ${e.message}` }),
);

const width = Math.round(document.body.clientWidth || window.innerWidth || 800);
host.notify(Ready, { chartPixels: Math.max(50, Math.min(8192, width)) });
