// The Experiments view: experiments -> runs (nested under their parent) -> params,
// metrics, tags, artifacts, datasets, checkpoints. Runs page in ("Load more")
// so that an experiment of 10,000 runs never materialises 10,000 items.

import * as vscode from 'vscode';
import type { ArtifactEntry } from '../../core/tracking/artifacts.ts';
import type { Experiment, Run, RunStatus } from '../../core/model/tracking.ts';
import { formatAge, formatMetricValue, keyMetricOf, lowerIsBetter } from '../../shared/format.ts';
import { parseRunFilter } from '../../core/tracking/runFilter.ts';
import type { Tracking } from '../../core/tracking/tracking.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import { Disposable } from '../disposable.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';

export const EXPERIMENTS_VIEW_ID = 'mlops.experiments';

type Section = 'params' | 'metrics' | 'tags' | 'artifacts' | 'datasets' | 'checkpoints';

export type ExperimentsNode =
  | { kind: 'experiment'; experiment: Experiment; runCount: number; matching?: number }
  | { kind: 'run'; run: Run }
  | { kind: 'section'; runId: string; section: Section; count: number }
  | {
      kind: 'leaf';
      id: string;
      label: string;
      description: string;
      tooltip?: string;
      icon?: string;
      /** Set on the leaves of the Metrics section: a click charts it. */
      metric?: { runId: string; key: string };
    }
  | { kind: 'artifact'; runId: string; entry: ArtifactEntry }
  | { kind: 'more'; containerKey: string; shown: number; total: number };

const SECTION_LABELS: Record<Section, string> = {
  params: 'Params',
  metrics: 'Metrics',
  tags: 'Tags',
  artifacts: 'Artifacts',
  datasets: 'Datasets',
  checkpoints: 'Checkpoints',
};

const STATUS_ICONS: Record<RunStatus, [string, string | undefined]> = {
  FINISHED: ['pass', 'testing.iconPassed'],
  FAILED: ['error', 'testing.iconFailed'],
  RUNNING: ['sync~spin', 'charts.blue'],
  KILLED: ['circle-slash', 'testing.iconSkipped'],
  SCHEDULED: ['clock', undefined],
};

export class ExperimentsTree
  extends Disposable
  implements vscode.TreeDataProvider<ExperimentsNode>
{
  private readonly changed = this.register(new vscode.EventEmitter<ExperimentsNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<ExperimentsNode>;
  private filter = '';
  private showDeleted = false;
  /** How many runs each container (experiment id or `run:<id>`) shows. */
  private readonly shown = new Map<string, number>();
  private firstRender = true;
  private readonly logged = new Set<string>();

  constructor(
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly activatedAt: number,
  ) {
    super();
    this.view = this.register(
      vscode.window.createTreeView(EXPERIMENTS_VIEW_ID, {
        treeDataProvider: this,
        canSelectMany: true,
        showCollapseAll: true,
      }),
    );
    this.register(store.onDidChange(() => this.refresh()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('mlops.keyMetric') || e.affectsConfiguration('mlops.pageSize'))
          this.refresh();
      }),
    );
    // Ages ("3m ago") stay true while the view is open.
    const timer = setInterval(() => {
      if (this.view.visible) this.refresh();
    }, 60_000);
    this.register({ dispose: () => clearInterval(timer) });
    this.updateDescription();
  }

  private get pageSize(): number {
    return Math.max(10, vscode.workspace.getConfiguration('mlops').get<number>('pageSize') ?? 100);
  }

  private get keyMetricSetting(): string {
    return vscode.workspace.getConfiguration('mlops').get<string>('keyMetric')?.trim() ?? '';
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  get currentFilter(): string {
    return this.filter;
  }

  /** Sets the run filter; throws FilterError for a bad one. */
  setFilter(filter: string): void {
    const trimmed = filter.trim();
    parseRunFilter(trimmed);
    this.filter = trimmed;
    this.shown.clear();
    void vscode.commands.executeCommand('setContext', 'mlops.filterActive', trimmed.length > 0);
    this.updateDescription();
    this.updateMessage();
    this.refresh();
  }

  setShowDeleted(show: boolean): void {
    this.showDeleted = show;
    void vscode.commands.executeCommand('setContext', 'mlops.showDeleted', show);
    this.refresh();
  }

  loadMore(containerKey: string): void {
    this.shown.set(containerKey, (this.shown.get(containerKey) ?? this.pageSize) + this.pageSize);
    this.refresh();
  }

  private updateDescription(): void {
    this.view.description = this.filter ? `filter: ${this.filter}` : undefined;
  }

  private updateMessage(): void {
    const lines: string[] = [];
    if (this.store.state === 'error') {
      lines.push(`The store could not be opened: ${this.store.error?.message ?? 'unknown error'}`);
    } else if (this.store.readOnly) {
      lines.push(
        'Read-only: this workspace is not trusted, so the store is browsed without changes and no code runs.',
      );
    }
    // The description is cut short in a narrow side bar; the message always shows.
    if (this.filter) lines.push(`Runs matching: ${this.filter}`);
    this.view.message = lines.length > 0 ? lines.join('\n') : undefined;
  }

  // ------------------------------------------------------------------ children

  async getChildren(node?: ExperimentsNode): Promise<ExperimentsNode[]> {
    if (!node && this.firstRender) {
      this.log.info(
        `[extension] first request for items ${Math.round(performance.now() - this.activatedAt)} ms after activation start`,
      );
    }
    let t: Tracking | undefined;
    try {
      // Never this.store.get(): VS Code may ask for an old node's children after the store
      // moved to a folder that does not exist yet, and get() would create it.
      t = await this.store.getIfExists();
    } catch {
      this.updateMessage();
      return [];
    }
    this.updateMessage();
    const started = performance.now();
    const children = t ? this.childrenOf(t, node) : [];
    if (node?.kind === 'experiment' || !node) {
      const ms = Math.round(performance.now() - started);
      const what = node ? `experiment ${node.experiment.name}` : 'experiments';
      // The first listing of each is logged at info (the benchmarks read it), refreshes at debug.
      const key = node ? node.experiment.experimentId : '';
      const line = `[tree] ${what}: ${children.length} items in ${ms} ms`;
      if (this.logged.has(key)) this.log.debug(line);
      else {
        this.logged.add(key);
        this.log.info(line);
      }
      if (!node && this.firstRender) {
        this.firstRender = false;
        this.log.info(
          `[extension] tree ready ${Math.round(performance.now() - this.activatedAt)} ms after activation start (${children.length} experiments)`,
        );
      }
    }
    return children;
  }

  private childrenOf(t: Tracking, node: ExperimentsNode | undefined): ExperimentsNode[] {
    const viewType = this.showDeleted ? 'ALL' : 'ACTIVE_ONLY';
    if (!node) {
      const counts = t.runCounts(viewType);
      const experiments = t
        .listExperiments(viewType)
        .filter((e) => e.experimentId !== '0' || (counts.get('0') ?? 0) > 0);
      return experiments.map((experiment) => ({
        kind: 'experiment',
        experiment,
        runCount: counts.get(experiment.experimentId) ?? 0,
        matching: this.filter
          ? t.countRuns({ experimentIds: [experiment.experimentId], filter: this.filter, viewType })
          : undefined,
      }));
    }
    switch (node.kind) {
      case 'experiment':
        return this.runPage(t, node.experiment.experimentId, {
          experimentIds: [node.experiment.experimentId],
          // With a filter the matches are listed flat: their parents may not match.
          parentRunId: this.filter ? undefined : null,
        });
      case 'run':
        return [
          ...(this.filter
            ? []
            : this.runPage(t, `run:${node.run.info.runId}`, { parentRunId: node.run.info.runId })),
          ...this.sections(t, node.run.info.runId),
        ];
      case 'section':
        return this.sectionItems(t, node.runId, node.section);
      case 'artifact':
        return t
          .listArtifacts(node.runId, node.entry.path)
          .map((entry) => ({ kind: 'artifact', runId: node.runId, entry }));
      default:
        return [];
    }
  }

  private runPage(
    t: Tracking,
    containerKey: string,
    scope: { experimentIds?: string[]; parentRunId?: string | null },
  ): ExperimentsNode[] {
    const limit = this.shown.get(containerKey) ?? this.pageSize;
    const viewType = this.showDeleted ? 'ALL' : 'ACTIVE_ONLY';
    const page = t.searchRuns({ ...scope, filter: this.filter, viewType, maxResults: limit });
    const nodes: ExperimentsNode[] = page.items.map((run) => ({ kind: 'run', run }));
    if (page.nextPageToken) {
      const total = t.countRuns({ ...scope, filter: this.filter, viewType });
      nodes.push({ kind: 'more', containerKey, shown: page.items.length, total });
    }
    return nodes;
  }

  private sections(t: Tracking, runId: string): ExperimentsNode[] {
    const run = t.getRun(runId);
    const counts: Record<Section, number> = {
      params: Object.keys(run.params).length,
      metrics: Object.keys(run.metrics).length,
      tags: Object.keys(run.tags).filter((k) => !k.startsWith('mlflow.')).length,
      artifacts: t.listArtifacts(runId).length,
      datasets: run.datasets.length,
      checkpoints: t.listCheckpoints(runId).length,
    };
    return (Object.keys(SECTION_LABELS) as Section[])
      .filter((s) => counts[s] > 0)
      .map((section) => ({ kind: 'section', runId, section, count: counts[section] }));
  }

  private sectionItems(t: Tracking, runId: string, section: Section): ExperimentsNode[] {
    const run = t.getRun(runId);
    const leaf = (
      key: string,
      label: string,
      description: string,
      tooltip?: string,
      icon?: string,
    ): ExperimentsNode => ({
      kind: 'leaf',
      id: `${runId}/${section}/${key}`,
      label,
      description,
      tooltip,
      icon,
    });
    switch (section) {
      case 'params':
        return Object.entries(run.params).map(([k, v]) =>
          leaf(k, k, v, `${k} = ${v}`, 'symbol-constant'),
        );
      case 'metrics':
        return Object.values(run.metrics).map((m) => ({
          ...leaf(
            m.key,
            m.key,
            `${formatMetricValue(m.value)}  (min ${formatMetricValue(m.min)}, max ${formatMetricValue(m.max)}, ${m.count} ${m.count === 1 ? 'step' : 'steps'})`,
            `${m.key}: latest ${formatMetricValue(m.value)} at step ${m.step}\nmin ${formatMetricValue(m.min)}, max ${formatMetricValue(m.max)}, ${m.count} points\nClick to chart it.`,
            'graph-line',
          ),
          metric: { runId, key: m.key },
        }));
      case 'tags':
        return Object.entries(run.tags)
          .filter(([k]) => !k.startsWith('mlflow.'))
          .map(([k, v]) => leaf(k, k, v, `${k} = ${v}`, 'tag'));
      case 'datasets':
        return run.datasets.map((d, i) =>
          leaf(
            String(i),
            d.name,
            [
              d.context,
              d.rowCount === null ? undefined : `${d.rowCount} rows`,
              `sha256 ${d.digest.slice(0, 8)}`,
            ]
              .filter(Boolean)
              .join(' · '),
            `${d.source}\nsha256 ${d.digest}\n${d.sizeBytes ?? '?'} bytes`,
            'database',
          ),
        );
      case 'checkpoints': {
        const key = keyMetricOf(Object.keys(run.metrics), this.keyMetricSetting);
        const list = key
          ? t.listCheckpoints(runId, { metric: key, order: lowerIsBetter(key) ? 'min' : 'max' })
          : t.listCheckpoints(runId);
        return list.map((c, i) =>
          leaf(
            `${c.step}-${i}`,
            `step ${c.step}`,
            [
              key && c.metrics[key] !== undefined
                ? `${key} ${formatMetricValue(c.metrics[key])}`
                : '',
              c.artifactPath,
            ]
              .filter(Boolean)
              .join(' · '),
            Object.entries(c.metrics)
              .map(([k, v]) => `${k} = ${formatMetricValue(v)}`)
              .join('\n'),
            i === 0 && key ? 'star-full' : 'debug-breakpoint-log-unverified',
          ),
        );
      }
      case 'artifacts':
        return t.listArtifacts(runId).map((entry) => ({ kind: 'artifact', runId, entry }));
    }
  }

  // ------------------------------------------------------------------ items

  getTreeItem(node: ExperimentsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'experiment': {
        const e = node.experiment;
        const item = new vscode.TreeItem(e.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `exp:${e.experimentId}`;
        const runs = `${node.runCount} ${node.runCount === 1 ? 'run' : 'runs'}`;
        item.description =
          (node.matching !== undefined ? `${node.matching} of ${runs} match` : runs) +
          (e.lifecycleStage === 'deleted' ? ' · deleted' : '');
        item.iconPath = new vscode.ThemeIcon(e.lifecycleStage === 'deleted' ? 'trash' : 'beaker');
        item.contextValue =
          e.lifecycleStage === 'deleted'
            ? 'experiment.deleted'
            : e.experimentId === '0'
              ? 'experiment.default'
              : 'experiment';
        item.tooltip = `Experiment ${e.name} (id ${e.experimentId})`;
        return item;
      }
      case 'run':
        return this.runItem(node.run);
      case 'section': {
        const item = new vscode.TreeItem(
          `${SECTION_LABELS[node.section]} (${node.count})`,
          node.count > 0
            ? vscode.TreeItemCollapsibleState.Collapsed
            : vscode.TreeItemCollapsibleState.None,
        );
        item.id = `${node.runId}/${node.section}`;
        item.contextValue = `section.${node.section}`;
        return item;
      }
      case 'leaf': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.description = node.description;
        item.tooltip = node.tooltip;
        if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon);
        item.contextValue = node.metric ? 'leaf.metric' : 'leaf';
        if (node.metric) {
          item.command = {
            command: COMMAND_IDS.chartMetric,
            title: 'Chart Metric',
            arguments: [node],
          };
        }
        return item;
      }
      case 'artifact': {
        const name = node.entry.path.split('/').pop()!;
        const uri = vscode.Uri.file(this.store.current!.artifactPath(node.runId, node.entry.path));
        const item = new vscode.TreeItem(
          name,
          node.entry.isDir
            ? vscode.TreeItemCollapsibleState.Collapsed
            : vscode.TreeItemCollapsibleState.None,
        );
        item.id = `${node.runId}/artifact/${node.entry.path}`;
        item.resourceUri = uri;
        item.description = node.entry.isDir ? undefined : `${node.entry.sizeBytes} bytes`;
        item.contextValue = node.entry.isDir ? 'artifact.dir' : 'artifact.file';
        if (!node.entry.isDir) {
          item.command = {
            command: COMMAND_IDS.openArtifact,
            title: 'Open Artifact',
            arguments: [node],
          };
        }
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(
          `Load more (${node.shown.toLocaleString('en-US')} of ${node.total.toLocaleString('en-US')})`,
          vscode.TreeItemCollapsibleState.None,
        );
        item.id = `more:${node.containerKey}:${node.shown}`;
        item.iconPath = new vscode.ThemeIcon('fold-down');
        item.command = { command: COMMAND_IDS.loadMore, title: 'Load More', arguments: [node] };
        item.contextValue = 'more';
        return item;
      }
    }
  }

  private runItem(run: Run): vscode.TreeItem {
    const info = run.info;
    const hasChildren = !this.filter && this.store.current!.childRunIds(info.runId).length > 0;
    const item = new vscode.TreeItem(info.runName, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `run:${info.runId}`;
    const key = keyMetricOf(Object.keys(run.metrics), this.keyMetricSetting);
    const metric = key ? `${key} ${formatMetricValue(run.metrics[key]!.value)}` : '';
    item.description = [
      metric,
      formatAge(info.startTime),
      info.lifecycleStage === 'deleted' ? 'deleted' : '',
    ]
      .filter(Boolean)
      .join(' · ');
    const [icon, color] =
      info.lifecycleStage === 'deleted' ? ['trash', undefined] : STATUS_ICONS[info.status];
    item.iconPath = new vscode.ThemeIcon(
      hasChildren && icon === 'pass' ? 'layers' : icon,
      color ? new vscode.ThemeColor(color) : undefined,
    );
    // A drift check's run also opens its report (see the Monitoring experiment).
    item.contextValue =
      info.lifecycleStage === 'deleted'
        ? 'run.deleted'
        : run.tags['mlops.drift.verdict']
          ? 'run.drift'
          : 'run';
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${escapeMd(info.runName)}** · ${info.status}\n\n`);
    md.appendMarkdown(`\`${info.runId}\` · started ${new Date(info.startTime).toISOString()}\n\n`);
    const note = run.tags['mlflow.note.content'];
    if (note) md.appendMarkdown(`${escapeMd(note)}\n\n`);
    const params = Object.entries(run.params).slice(0, 10);
    if (params.length)
      md.appendMarkdown(
        `Params: ${params.map(([k, v]) => `${escapeMd(k)}=${escapeMd(v)}`).join(', ')}\n\n`,
      );
    const metrics = Object.values(run.metrics).slice(0, 10);
    if (metrics.length) {
      md.appendMarkdown(
        `Metrics: ${metrics.map((m) => `${escapeMd(m.key)}=${formatMetricValue(m.value)}`).join(', ')}`,
      );
    }
    item.tooltip = md;
    return item;
  }
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
