// The trace inspector's arithmetic, shared by the host and the page and tested without a
// DOM: spans in tree order with their depth, the critical path, which rows show when
// subtrees are collapsed, the waterfall's geometry for a zoom window, and labels.

import type { SpanColumns, SpanRowView, SpanTypeView } from './protocol.ts';

/** Rows into columns, for the trip to the page. */
export function packSpans(rows: readonly SpanRowView[]): SpanColumns {
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const intern = (v: string): number => {
    let i = stringIndex.get(v);
    if (i === undefined) stringIndex.set(v, (i = strings.push(v) - 1));
    return i;
  };
  const index = new Map(rows.map((r, i) => [r.spanId, i]));
  const c: SpanColumns = {
    strings,
    spanId: [],
    parent: [],
    name: [],
    type: [],
    startUs: [],
    durationUs: [],
    status: [],
    marks: [],
  };
  rows.forEach((r, i) => {
    c.spanId.push(r.spanId);
    c.parent.push(r.parentSpanId === null ? null : (index.get(r.parentSpanId) ?? r.parentSpanId));
    c.name.push(intern(r.name));
    c.type.push(intern(r.type));
    c.startUs.push(r.startUs);
    c.durationUs.push(r.durationUs);
    c.status.push(r.status);
    if (r.flags.length || r.verdicts.length) c.marks.push([i, r.flags, r.verdicts]);
  });
  return c;
}

/** Columns back into rows, on the page. */
export function unpackSpans(c: SpanColumns): SpanRowView[] {
  const rows: SpanRowView[] = c.spanId.map((spanId, i) => {
    const p = c.parent[i]!;
    return {
      spanId,
      parentSpanId: typeof p === 'number' ? c.spanId[p]! : p,
      name: c.strings[c.name[i]!]!,
      type: c.strings[c.type[i]!]! as SpanTypeView,
      startUs: c.startUs[i]!,
      durationUs: c.durationUs[i]!,
      status: c.status[i]!,
      flags: [],
      verdicts: [],
    };
  });
  for (const [i, flags, verdicts] of c.marks) {
    rows[i]!.flags = flags;
    rows[i]!.verdicts = verdicts;
  }
  return rows;
}

export interface OrderedSpan {
  row: SpanRowView;
  depth: number;
  /** Index of the parent in the ordered list (-1: a top-level span). */
  parent: number;
  childCount: number;
}

/**
 * Depth-first, children by start time. A span whose parent never arrived is shown at the top,
 * so a partial trace still shows everything it has.
 */
export function orderSpans(rows: readonly SpanRowView[]): OrderedSpan[] {
  const ids = new Set(rows.map((r) => r.spanId));
  const children = new Map<string | null, SpanRowView[]>();
  for (const r of rows) {
    const parent = r.parentSpanId !== null && ids.has(r.parentSpanId) ? r.parentSpanId : null;
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(r);
  }
  for (const list of children.values()) {
    list.sort((a, b) => a.startUs - b.startUs || a.spanId.localeCompare(b.spanId));
  }
  const out: OrderedSpan[] = [];
  // Iterative, so a 10,000-deep chain cannot overflow the stack.
  const stack: { row: SpanRowView; depth: number; parent: number }[] = [];
  const push = (list: SpanRowView[] | undefined, depth: number, parent: number) => {
    for (let i = (list?.length ?? 0) - 1; i >= 0; i--)
      stack.push({ row: list![i]!, depth, parent });
  };
  push(children.get(null), 0, -1);
  const seen = new Set<string>();
  while (stack.length) {
    const { row, depth, parent } = stack.pop()!;
    if (seen.has(row.spanId)) continue; // a cycle of parents: each span once
    seen.add(row.spanId);
    const index = out.length;
    const kids = children.get(row.spanId);
    out.push({ row, depth, parent, childCount: kids?.length ?? 0 });
    push(kids, depth + 1, index);
  }
  return out;
}

/**
 * The critical path: from the first root, each step the child that ends last (the one the
 * parent waited for). Returns the span ids on it.
 */
export function criticalPath(rows: readonly SpanRowView[]): Set<string> {
  const ids = new Set(rows.map((r) => r.spanId));
  const children = new Map<string, SpanRowView[]>();
  let root: SpanRowView | undefined;
  for (const r of rows) {
    if (r.parentSpanId === null || !ids.has(r.parentSpanId)) {
      if (!root || r.startUs < root.startUs) root = r;
      continue;
    }
    let list = children.get(r.parentSpanId);
    if (!list) children.set(r.parentSpanId, (list = []));
    list.push(r);
  }
  const path = new Set<string>();
  let node = root;
  while (node && !path.has(node.spanId)) {
    path.add(node.spanId);
    let last: SpanRowView | undefined;
    for (const c of children.get(node.spanId) ?? []) {
      if (!last || c.startUs + c.durationUs > last.startUs + last.durationUs) last = c;
    }
    node = last;
  }
  return path;
}

/** Indices of the rows shown when the spans in `collapsed` hide their descendants. */
export function visibleIndices(
  ordered: readonly OrderedSpan[],
  collapsed: ReadonlySet<string>,
): number[] {
  const out: number[] = [];
  let hideBelow = Infinity;
  for (let i = 0; i < ordered.length; i++) {
    const o = ordered[i]!;
    if (o.depth > hideBelow) continue;
    hideBelow = Infinity;
    out.push(i);
    if (collapsed.has(o.row.spanId) && o.childCount > 0) hideBelow = o.depth;
  }
  return out;
}

export interface TimeWindow {
  startUs: number;
  endUs: number;
}

/** Where a span's bar sits in the window, in percent of the waterfall's width. */
export function barGeometry(
  row: SpanRowView,
  w: TimeWindow,
): { left: number; width: number } | null {
  const span = Math.max(1, w.endUs - w.startUs);
  const start = row.startUs;
  const end = row.startUs + row.durationUs;
  if (end < w.startUs || start > w.endUs) return null;
  const left = ((Math.max(start, w.startUs) - w.startUs) / span) * 100;
  const right = ((Math.min(end, w.endUs) - w.startUs) / span) * 100;
  // A span of no duration still shows as a thin mark.
  return { left, width: Math.max(right - left, 0.15) };
}

/** The window zoomed by `factor` (< 1 zooms in) around `centerUs`, kept inside the trace. */
export function zoomWindow(
  w: TimeWindow,
  factor: number,
  centerUs: number,
  totalUs: number,
): TimeWindow {
  const width = Math.min(
    Math.max((w.endUs - w.startUs) * factor, Math.min(10, totalUs)),
    Math.max(totalUs, 1),
  );
  const ratio = (centerUs - w.startUs) / Math.max(1, w.endUs - w.startUs);
  let start = centerUs - width * ratio;
  start = Math.min(Math.max(0, start), Math.max(0, totalUs - width));
  return { startUs: start, endUs: start + width };
}

/** The window moved by `fraction` of its width, kept inside the trace. */
export function panWindow(w: TimeWindow, fraction: number, totalUs: number): TimeWindow {
  const width = w.endUs - w.startUs;
  const start = Math.min(Math.max(0, w.startUs + width * fraction), Math.max(0, totalUs - width));
  return { startUs: start, endUs: start + width };
}

export function formatDurationUs(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  if (us < 60_000_000) return `${(us / 1_000_000).toFixed(2)} s`;
  const s = Math.round(us / 1_000_000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function formatUsd(v: number | null): string {
  if (v === null) return '';
  if (v === 0) return '$0';
  return v < 0.01 ? `$${v.toPrecision(2)}` : `$${v.toFixed(4)}`;
}

/** The theme colour of a span type's bar (VS Code's chart colours follow the theme). */
export function spanTypeColor(type: SpanTypeView): string {
  switch (type) {
    case 'LLM':
    case 'CHAT_MODEL':
    case 'EMBEDDING':
      return 'var(--vscode-charts-purple)';
    case 'TOOL':
      return 'var(--vscode-charts-orange)';
    case 'RETRIEVER':
    case 'RERANKER':
    case 'MEMORY':
      return 'var(--vscode-charts-green)';
    case 'AGENT':
    case 'CHAIN':
    case 'WORKFLOW':
    case 'TASK':
      return 'var(--vscode-charts-blue)';
    case 'GUARDRAIL':
    case 'EVALUATOR':
      return 'var(--vscode-charts-yellow)';
    default:
      return 'var(--vscode-descriptionForeground)';
  }
}
