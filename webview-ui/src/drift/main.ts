// The Drift Report page: one drift check's verdict, its columns with their tests and
// verdicts, and a column's reference-vs-current chart under its row. Filters, open rows
// and the scroll position live in the page's saved state, so hiding the panel or
// reloading the window brings it back as it was.

import {
  countText,
  datasetVerdictLabel,
  driftCsv,
  driftedText,
  driftMarkdown,
  driftTitle,
  exportFileName,
  filterColumns,
  firstDriftedColumn,
  formatCount,
  formatUtc,
  possibleCount,
  referenceLabel,
  shareText,
  shortDigest,
  untestedCount,
  VERDICT_ICON,
} from '../../../src/shared/driftView.ts';
import type { DriftReportView, DriftViewState } from '../../../src/shared/protocol.ts';
import {
  CopyText,
  DriftInit,
  DriftRetrain,
  OpenRun,
  Ready,
  SaveFile,
  ShowError,
} from '../../../src/shared/protocol.ts';
import { button, checkbox, textField } from '../common/controls.ts';
import { HostConnection } from '../common/host.ts';
import { chartColors, onThemeChange } from '../common/theme.ts';
import { ColumnsTable } from './columns.ts';
import { el } from './dom.ts';
import './style.css';

interface UiState {
  driftedOnly: boolean;
  text: string;
  /** Columns whose chart is open. */
  open: string[];
  scrollY: number;
}

interface SavedState {
  /** Read by the host's serializer to reopen the panel after a window reload. */
  view?: DriftViewState;
  ui?: UiState;
}

const host = new HostConnection();
const saved = host.getState<SavedState>();
const ui: UiState = { driftedOnly: false, text: '', open: [], scrollY: 0, ...saved?.ui };
let view: DriftViewState | undefined = saved?.view;
let report: DriftReportView | null = null;
let runName = '';
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
title.id = 'drift-title';
const sources = el('dl', 'sources');
sources.id = 'drift-sources';
const toolbar = el('div', 'toolbar');
toolbar.setAttribute('role', 'toolbar');
toolbar.setAttribute('aria-label', 'Report actions');
const openRun = button('Open run', () => view && host.notify(OpenRun, { runId: view.runId }), {
  id: 'open-run',
  title: 'Open the drift check run',
});
const retrain = button('Retrain', () => host.notify(DriftRetrain, {}), {
  id: 'retrain',
  title: 'Run the retraining set up for this workspace, linked to this drift check',
});
const copy = button('Copy as Markdown', copyMarkdown, { secondary: true, id: 'copy-markdown' });
const exportButton = button('Export CSV', exportCsv, { secondary: true, id: 'export-csv' });
header.append(title, sources, toolbar);

const summarySection = el('section', 'summary-section');
summarySection.setAttribute('aria-label', 'Summary');
const summary = el('div', 'summary');
summary.id = 'drift-summary';
summarySection.append(summary);

const columnsSection = el('section');
columnsSection.id = 'columns-section';
columnsSection.append(el('h2', undefined, 'Columns'));
const filterBar = el('div', 'toolbar');
filterBar.setAttribute('role', 'toolbar');
filterBar.setAttribute('aria-label', 'Column filters');
const driftedBox = checkbox(
  'Drifted only',
  ui.driftedOnly,
  (v) => {
    if (syncing) return;
    ui.driftedOnly = v;
    filtersChanged();
  },
  'filter-drifted',
) as HTMLElement & { checked: boolean };
let textTimer: ReturnType<typeof setTimeout> | undefined;
const search = textField(
  'Filter columns by name, kind or test',
  ui.text,
  (v) => {
    if (syncing) return;
    clearTimeout(textTimer);
    textTimer = setTimeout(() => {
      ui.text = v;
      filtersChanged();
    }, 120);
  },
  { id: 'filter-text', placeholder: 'Filter columns' },
);
const count = el('span', 'count-note');
count.id = 'drift-count';
count.setAttribute('aria-live', 'polite');
filterBar.append(driftedBox, search, count);

let colors = chartColors();
const table = new ColumnsTable(colors, (column, open) => {
  ui.open = open
    ? [...ui.open.filter((c) => c !== column), column]
    : ui.open.filter((c) => c !== column);
  save();
});
const tableWrap = el('div', 'table-wrap');
tableWrap.append(table.element);
columnsSection.append(filterBar, tableWrap);

const loading = el('p', 'hint', 'Loading the drift report…');
app.append(header, loading, summarySection, columnsSection);
summarySection.hidden = true;
columnsSection.hidden = true;

// ------------------------------------------------------------------ drawing

function source(
  term: string,
  s: { source: string; rows: number; digest: string | null },
  baseline?: string | null,
): void {
  const dd = el('dd');
  const name = el('span', 'source-name', baseline ? `baseline ${baseline}` : s.source);
  name.title = s.source;
  dd.append(name, ` · ${formatCount(s.rows)} ${s.rows === 1 ? 'row' : 'rows'}`);
  if (baseline) dd.append(el('span', 'hint', ` · from ${s.source}`));
  const digest = el('span', 'digest', ` · ${shortDigest(s.digest)}`);
  digest.title = s.digest ? `Content digest ${s.digest}` : 'No digest recorded';
  dd.append(digest);
  sources.append(el('dt', undefined, term), dd);
}

function drawHeader(r: DriftReportView): void {
  title.textContent = driftTitle(r);
  document.title = driftTitle(r);
  sources.replaceChildren();
  source('Current', r.current);
  source('Reference', r.reference, r.reference.baseline);
  const when = el('dd', undefined, new Date(r.createdAt).toLocaleString());
  when.title = formatUtc(r.createdAt);
  if (runName) when.append(el('span', 'hint', ` · run ${runName}`));
  sources.append(el('dt', undefined, 'Checked'), when);
  // Retraining is offered only when there is something to retrain for.
  const actions: HTMLElement[] = [openRun];
  if (r.datasetVerdict !== 'none') actions.push(retrain);
  actions.push(copy, exportButton);
  toolbar.replaceChildren(...actions);
}

function nameList(label: string, names: string[], id: string, tip: string): HTMLElement {
  const p = el('p', 'name-list');
  p.id = id;
  p.title = tip;
  p.append(el('span', 'label', `${label} (${names.length}): `));
  names.forEach((n, i) => {
    if (i > 0) p.append(', ');
    p.append(el('code', undefined, n));
  });
  return p;
}

function drawSummary(r: DriftReportView): void {
  const verdict = el('div', `dataset-verdict verdict-${r.datasetVerdict}`);
  verdict.id = 'drift-verdict';
  verdict.dataset.verdict = r.datasetVerdict;
  verdict.setAttribute('role', 'status');
  const icon = el('span', 'icon', VERDICT_ICON[r.datasetVerdict]);
  icon.setAttribute('aria-hidden', 'true');
  verdict.append(icon, ` ${datasetVerdictLabel(r.datasetVerdict)}`);

  const line = el('p', 'drifted-line');
  const drifted = el('span', 'drifted-count', driftedText(r));
  drifted.id = 'drift-drifted';
  const share = el('span', 'share', shareText(r));
  share.id = 'drift-share';
  share.title =
    `Share of checked columns that drifted, against the share at which the dataset drifts ` +
    `(${r.driftShareThreshold}). A text column counts once.`;
  line.append(drifted, ' · ', share);
  const possible = possibleCount(r);
  if (possible > 0) line.append(` · ${possible} possible`);
  const untested = untestedCount(r);
  if (untested > 0) line.append(` · ${untested} not tested`);

  const children: HTMLElement[] = [verdict, line];
  if (r.missingColumns.length > 0) {
    children.push(
      nameList(
        'Missing from the current data',
        r.missingColumns,
        'drift-missing',
        'Columns of the reference that the current data lacks',
      ),
    );
  }
  if (r.newColumns.length > 0) {
    children.push(
      nameList(
        'New, not checked',
        r.newColumns,
        'drift-new',
        `Columns of the current data that ${referenceLabel(r)} lacks`,
      ),
    );
  }
  summary.replaceChildren(...children);
}

function drawFilters(): void {
  syncing = true;
  try {
    if (driftedBox.checked !== ui.driftedOnly) driftedBox.checked = ui.driftedOnly;
    if (search.value !== ui.text) search.value = ui.text;
  } finally {
    syncing = false;
  }
}

function drawColumns(): void {
  if (!report) return;
  const shown = filterColumns(report.columns, ui);
  const open = new Set(ui.open);
  table.render(shown, (c) => open.has(c));
  count.textContent = countText(shown.length, report.columns.length);
  count.dataset.shown = String(shown.length);
  count.dataset.total = String(report.columns.length);
}

function filtersChanged(): void {
  save();
  drawColumns();
}

// ------------------------------------------------------------------ actions

function copyMarkdown(): void {
  if (!report) return;
  host.notify(CopyText, { text: driftMarkdown(report), what: 'the drift report as Markdown' });
}

function exportCsv(): void {
  if (!report) return;
  host.notify(SaveFile, {
    suggestedName: exportFileName(report, 'csv'),
    content: driftCsv(report),
  });
}

// ------------------------------------------------------------------ messages

host.on(DriftInit, (init) => {
  const sameRun = view?.runId === init.view.runId && saved?.ui !== undefined;
  if (!sameRun && report === null) {
    // First time this run's report is shown: open the first drifted column's chart.
    const first = firstDriftedColumn(init.report);
    ui.open = first !== null ? [first] : [];
    ui.scrollY = 0;
  }
  view = init.view;
  runName = init.runName;
  report = init.report;
  const known = new Set(report.columns.map((c) => c.column));
  ui.open = ui.open.filter((c) => known.has(c));
  save();
  loading.hidden = true;
  summarySection.hidden = false;
  columnsSection.hidden = false;
  drawHeader(report);
  drawSummary(report);
  drawFilters();
  drawColumns();
  if (restoreScroll && ui.scrollY > 0) {
    // After layout, so the page is tall enough to scroll back to where it was.
    requestAnimationFrame(() => window.scrollTo(0, ui.scrollY));
  }
  restoreScroll = false;
});

onThemeChange(() => {
  colors = chartColors();
  table.setColors(colors);
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
  host.notify(ShowError, { message: `The drift report view failed: ${e.message}` }),
);

const width = Math.round(document.body.clientWidth || window.innerWidth || 800);
host.notify(Ready, { chartPixels: Math.max(50, Math.min(8192, width)) });
