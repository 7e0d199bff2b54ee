// The Traces view: traces newest first, grouped by experiment or by session (a toggle),
// each with its state, name, duration, tokens, cost and age; a filter in MLflow's trace
// syntax; pages of 50 with "Load more". It follows traces as they arrive (one refresh per
// burst), and marks the ones a guardrail flagged.

import * as vscode from 'vscode';
import type { TraceSummary } from '../../core/model/tracing.ts';
import { parseTraceFilter } from '../../core/tracing/traceFilter.ts';
import type { Tracking } from '../../core/tracking/tracking.ts';
import { formatAge } from '../../shared/format.ts';
import { formatDurationUs, formatUsd } from '../../shared/traceView.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import { Disposable } from '../disposable.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';

export const TRACES_VIEW_ID = 'mlops.traces';
export const TRACE_PAGE = 50;

export type TraceGrouping = 'experiment' | 'session';

export type TracesNode =
  | { kind: 'group'; by: TraceGrouping; key: string | null; label: string; count: number }
  | { kind: 'trace'; trace: TraceSummary }
  | { kind: 'more'; group: Extract<TracesNode, { kind: 'group' }>; shown: number }
  | { kind: 'message'; id: string; label: string };

export function traceDescription(t: TraceSummary, now = Date.now()): string {
  const parts = [formatDurationUs(t.durationMs * 1000)];
  if (t.tokensIn !== null || t.tokensOut !== null) {
    parts.push(`${(t.tokensIn ?? 0) + (t.tokensOut ?? 0)} tok`);
  }
  if (t.cost !== null) parts.push(formatUsd(t.cost));
  parts.push(formatAge(t.startMs, now));
  return parts.join(' · ');
}

function traceIcon(t: TraceSummary): vscode.ThemeIcon {
  if (t.flagged > 0)
    return new vscode.ThemeIcon('shield', new vscode.ThemeColor('problemsWarningIcon.foreground'));
  if (t.state === 'ERROR')
    return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
  if (t.state === 'IN_PROGRESS') return new vscode.ThemeIcon('loading~spin');
  return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
}

function experimentName(t: Tracking, id: string): string {
  try {
    return t.getExperiment(id).name;
  } catch {
    return `Experiment ${id}`;
  }
}

export class TracesTree extends Disposable implements vscode.TreeDataProvider<TracesNode> {
  private readonly changed = this.register(new vscode.EventEmitter<TracesNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<TracesNode>;
  private filterText = '';
  private grouping: TraceGrouping = 'experiment';
  /** How many traces each group shows (key: `${by}:${key}`). */
  private readonly shown = new Map<string, number>();
  private refreshTimer: NodeJS.Timeout | undefined;
  /** How long the last first page took, for the log and the benchmark. */
  lastPageMs = 0;

  constructor(
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this.view = this.register(
      vscode.window.createTreeView(TRACES_VIEW_ID, {
        treeDataProvider: this,
        showCollapseAll: true,
      }),
    );
    this.register({ dispose: () => clearTimeout(this.refreshTimer) });
    this.register(
      store.onDidChange((change) => {
        if (change && change.traces.size === 0 && !change.experiments) return;
        // Traces arrive a span batch at a time: one refresh per burst.
        clearTimeout(this.refreshTimer);
        this.refreshTimer = setTimeout(() => this.refresh(), 500);
      }),
    );
    void vscode.commands.executeCommand('setContext', 'mlops.traceGrouping', this.grouping);
  }

  get filter(): string {
    return this.filterText;
  }

  /** Sets the filter; throws FilterError for a bad one. */
  setFilter(text: string): void {
    parseTraceFilter(text);
    this.filterText = text.trim();
    this.shown.clear();
    this.view.description = this.filterText ? `filter: ${this.filterText}` : undefined;
    void vscode.commands.executeCommand(
      'setContext',
      'mlops.traceFilterActive',
      this.filterText !== '',
    );
    this.refresh();
  }

  get groupBy(): TraceGrouping {
    return this.grouping;
  }

  toggleGrouping(): void {
    this.grouping = this.grouping === 'experiment' ? 'session' : 'experiment';
    this.shown.clear();
    void vscode.commands.executeCommand('setContext', 'mlops.traceGrouping', this.grouping);
    this.refresh();
  }

  loadMore(node: Extract<TracesNode, { kind: 'more' }>): void {
    this.shown.set(`${node.group.by}:${node.group.key}`, node.shown + TRACE_PAGE);
    this.changed.fire(node.group);
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: TracesNode): Promise<TracesNode[]> {
    const t = await this.store.getIfExists();
    if (!t) return [];
    if (!node) {
      const started = performance.now();
      const groups = t.traces.groups(this.grouping, this.filterText);
      if (groups.length === 0) {
        // Without a filter the view's welcome text says how traces get here.
        return this.filterText
          ? [{ kind: 'message', id: 'none', label: 'No traces match the filter' }]
          : [];
      }
      const nodes = groups.map((g): TracesNode => {
        const label =
          this.grouping === 'experiment'
            ? g.key === null
              ? 'No experiment'
              : experimentName(t, g.key)
            : (g.key ?? 'No session');
        return { kind: 'group', by: this.grouping, key: g.key, label, count: g.count };
      });
      this.lastPageMs = performance.now() - started;
      return nodes;
    }
    if (node.kind !== 'group') return [];
    const limit = this.shown.get(`${node.by}:${node.key}`) ?? TRACE_PAGE;
    const started = performance.now();
    const page = t.traces.search({
      filter: this.filterText,
      maxResults: Math.min(limit, 1000),
      ...(node.by === 'experiment'
        ? { experimentIds: node.key === null ? [] : [node.key] }
        : { sessionId: node.key }),
    });
    const out: TracesNode[] = page.traces.map((trace) => ({ kind: 'trace', trace }));
    if (page.nextPageToken) out.push({ kind: 'more', group: node, shown: page.traces.length });
    this.lastPageMs = performance.now() - started;
    this.log.debug(
      `[traces] ${out.length} rows of ${node.label} in ${Math.round(this.lastPageMs)} ms`,
    );
    return out;
  }

  getTreeItem(node: TracesNode): vscode.TreeItem {
    switch (node.kind) {
      case 'group': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.by}:${node.key}`;
        item.description = `${node.count} trace${node.count === 1 ? '' : 's'}`;
        item.iconPath = new vscode.ThemeIcon(
          node.by === 'experiment' ? 'beaker' : 'comment-discussion',
        );
        item.contextValue = 'traceGroup';
        return item;
      }
      case 'trace': {
        const t = node.trace;
        const item = new vscode.TreeItem(t.name || t.traceId.slice(0, 12));
        item.id = `trace:${t.traceId}`;
        item.description = traceDescription(t);
        item.iconPath = traceIcon(t);
        const md = new vscode.MarkdownString(undefined, true);
        md.appendMarkdown(`**${t.name || '(unnamed)'}** · ${t.state}\n\n`);
        md.appendMarkdown(`\`${t.requestId}\`\n\n`);
        md.appendMarkdown(
          `${new Date(t.startMs).toLocaleString()} · ${formatDurationUs(t.durationMs * 1000)} · ${t.spanCount} spans`,
        );
        if (t.errorCount) md.appendMarkdown(` · ${t.errorCount} with errors`);
        if (t.flagged)
          md.appendMarkdown(
            `\n\n$(shield) ${t.flagged} span${t.flagged === 1 ? '' : 's'} flagged by guardrails`,
          );
        if (t.inputPreview) md.appendText(`\n\nIn: ${t.inputPreview}`);
        if (t.outputPreview) md.appendText(`\nOut: ${t.outputPreview}`);
        item.tooltip = md;
        item.contextValue = 'trace';
        item.command = { command: COMMAND_IDS.openTrace, title: 'Open Trace', arguments: [node] };
        item.accessibilityInformation = {
          label: `Trace ${t.name}, ${t.state}, ${item.description}`,
        };
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Load more (${node.shown} of ${node.group.count})`);
        item.id = `more:${node.group.by}:${node.group.key}`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = {
          command: COMMAND_IDS.loadMoreTraces,
          title: 'Load more',
          arguments: [node],
        };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.label);
        item.id = `message:${node.id}`;
        return item;
      }
    }
  }
}
