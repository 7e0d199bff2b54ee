// The Evals view: suites (the *.eval.json / *.eval.yaml files of the workspace, and
// suites that only have runs left) -> runs (pass rate, cost, prompt version, date)
// -> cases (status and the first failing criterion). A run opens its results panel;
// a case opens it at that case.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CaseResult } from '../../core/evals/runner.ts';
import { listEvalRuns, loadEvalResult, readSuites } from '../../core/evals/session.ts';
import type { EvalRunSummary, SuiteRef } from '../../core/evals/session.ts';
import { formatAge } from '../../shared/format.ts';
import { formatCost, formatPercent } from '../../shared/evalView.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import { Disposable } from '../disposable.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';

export const EVALS_VIEW_ID = 'mlops.evals';
export const SUITE_GLOB = '**/*.eval.{json,yaml,yml}';
export const SUITE_EXCLUDE = '**/{node_modules,.git,.mlops}/**';

export type EvalsNode =
  | {
      kind: 'suite';
      /** As recorded on runs: relative to the workspace folder, with forward slashes. */
      key: string;
      file: string | null;
      ref: SuiteRef | null;
      runs: EvalRunSummary[];
    }
  | { kind: 'run'; run: EvalRunSummary }
  | { kind: 'case'; runId: string; result: CaseResult }
  | { kind: 'message'; id: string; label: string; tooltip?: string };

export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** A suite file as eval runs record it: relative to the workspace, forward slashes. */
export function suiteKey(file: string): string {
  const root = workspaceRoot();
  const rel = root ? path.relative(root, file) : file;
  return rel.split(path.sep).join('/');
}

/** The workspace's suite files, parsed (broken ones keep their error). */
export async function findSuiteFiles(): Promise<SuiteRef[]> {
  const uris = await vscode.workspace.findFiles(SUITE_GLOB, SUITE_EXCLUDE, 500);
  return readSuites(uris.map((u) => u.fsPath).sort());
}

const STATUS_ICON: Record<CaseResult['status'], [string, string]> = {
  passed: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  errored: ['warning', 'problemsWarningIcon.foreground'],
};

export class EvalsTree extends Disposable implements vscode.TreeDataProvider<EvalsNode> {
  private readonly changed = this.register(new vscode.EventEmitter<EvalsNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<EvalsNode>;

  constructor(private readonly store: WorkspaceStore) {
    super();
    this.view = this.register(
      vscode.window.createTreeView(EVALS_VIEW_ID, {
        treeDataProvider: this,
        showCollapseAll: true,
        canSelectMany: true,
      }),
    );
    this.register(
      store.onDidChange((change) => {
        if (!change || change.experiments || change.runs.size > 0) this.refresh();
      }),
    );
    const watcher = this.register(vscode.workspace.createFileSystemWatcher(SUITE_GLOB));
    this.register(watcher.onDidCreate(() => this.refresh()));
    this.register(watcher.onDidDelete(() => this.refresh()));
    this.register(watcher.onDidChange(() => this.refresh()));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: EvalsNode): Promise<EvalsNode[]> {
    if (!node) return this.suites();
    if (node.kind === 'suite') {
      if (node.runs.length === 0) {
        return [
          {
            kind: 'message',
            id: `none:${node.key}`,
            label: 'No runs yet: run this suite from its context menu',
          },
        ];
      }
      return node.runs.map((run) => ({ kind: 'run', run }));
    }
    if (node.kind === 'run') {
      const t = await this.store.getIfExists();
      if (!t) return [];
      try {
        const result = loadEvalResult(t, node.run.runId);
        return result.cases.map((c) => ({ kind: 'case', runId: node.run.runId, result: c }));
      } catch (e) {
        return [
          {
            kind: 'message',
            id: `err:${node.run.runId}`,
            label: (e as Error).message,
            tooltip: (e as Error).message,
          },
        ];
      }
    }
    return [];
  }

  private async suites(): Promise<EvalsNode[]> {
    const files = await findSuiteFiles();
    let runs: EvalRunSummary[] = [];
    try {
      const t = await this.store.getIfExists();
      if (t) runs = listEvalRuns(t);
    } catch {
      // the store's state is shown by the Experiments view; suites still list
    }
    const byKey = new Map<string, EvalRunSummary[]>();
    for (const r of runs) byKey.set(r.suite, [...(byKey.get(r.suite) ?? []), r]);
    const nodes: EvalsNode[] = files.map((ref) => {
      const key = suiteKey(ref.file);
      const own = byKey.get(key) ?? [];
      byKey.delete(key);
      return { kind: 'suite', key, file: ref.file, ref, runs: own };
    });
    // Runs whose suite file is gone (renamed, deleted) stay reachable.
    for (const [key, own] of byKey)
      nodes.push({ kind: 'suite', key, file: null, ref: null, runs: own });
    return nodes;
  }

  getParent(): undefined {
    return undefined;
  }

  getTreeItem(node: EvalsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'suite': {
        const name = node.ref?.suite?.name ?? path.basename(node.key).replace(/\.eval\.\w+$/, '');
        const item = new vscode.TreeItem(
          name,
          node.runs.length > 0
            ? vscode.TreeItemCollapsibleState.Collapsed
            : vscode.TreeItemCollapsibleState.None,
        );
        item.id = `suite:${node.key}`;
        const last = node.runs[0];
        item.description = [
          node.key,
          last ? `${formatPercent(last.passRate)} · ${formatAge(last.startTime)}` : 'no runs',
          node.file ? '' : 'file missing',
        ]
          .filter(Boolean)
          .join(' · ');
        if (node.ref?.error) {
          item.iconPath = new vscode.ThemeIcon(
            'warning',
            new vscode.ThemeColor('problemsWarningIcon.foreground'),
          );
          item.tooltip = node.ref.error;
          item.contextValue = 'eval.suite.broken';
        } else {
          item.iconPath = new vscode.ThemeIcon('checklist');
          item.tooltip = node.ref?.suite
            ? `${node.key}\nprompt: ${node.ref.suite.prompt}\nmodel: ${node.ref.suite.provider.model} at ${node.ref.suite.provider.baseUrl}\n${node.ref.suite.criteria.length} criteria`
            : `${node.key} (the file no longer exists; its runs are kept)`;
          item.contextValue = node.file ? 'eval.suite' : 'eval.suite.missing';
        }
        if (node.file) item.resourceUri = vscode.Uri.file(node.file);
        return item;
      }
      case 'run': {
        const r = node.run;
        const item = new vscode.TreeItem(
          `${formatPercent(r.passRate)} passed`,
          vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = `evalrun:${r.runId}`;
        item.description = [
          r.prompt,
          r.model,
          r.costUsd !== null ? formatCost(r.costUsd) : '',
          formatAge(r.startTime),
        ]
          .filter(Boolean)
          .join(' · ');
        const allPassed = r.failed === 0 && r.errored === 0;
        item.iconPath = new vscode.ThemeIcon(
          allPassed ? 'pass' : 'error',
          new vscode.ThemeColor(allPassed ? 'testing.iconPassed' : 'testing.iconFailed'),
        );
        item.tooltip = [
          `${r.suiteName}: ${r.passed ?? '?'} passed, ${r.failed ?? '?'} failed, ${r.errored ?? '?'} errored`,
          `prompt ${r.prompt} on ${r.model}`,
          r.costUsd !== null
            ? `cost ${formatCost(r.costUsd)}`
            : 'cost unknown (no price for the model)',
          r.latencyP50 !== null ? `latency p50 ${Math.round(r.latencyP50)} ms` : '',
          new Date(r.startTime).toLocaleString(),
          `run ${r.runId}`,
        ]
          .filter(Boolean)
          .join('\n');
        item.contextValue = 'eval.run';
        item.command = {
          command: COMMAND_IDS.openEvalResults,
          title: 'Open Eval Results',
          arguments: [node],
        };
        return item;
      }
      case 'case': {
        const c = node.result;
        const label = `${c.id ?? `case ${c.index + 1}`}${c.repeat > 0 ? ` #${c.repeat + 1}` : ''}`;
        const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
        item.id = `evalcase:${node.runId}:${c.index}:${c.repeat}`;
        const failing = c.verdicts.filter((v) => !v.pass).map((v) => v.name);
        item.description =
          c.status === 'errored'
            ? `errored: ${c.error ?? ''}`
            : c.status === 'failed'
              ? `failed: ${failing.join(', ')}`
              : 'passed';
        const [icon, color] = STATUS_ICON[c.status];
        item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
        const md = new vscode.MarkdownString();
        md.appendMarkdown(`**${label}**: ${c.status}\n\n`);
        md.appendCodeblock(JSON.stringify(c.vars, null, 1).slice(0, 800), 'json');
        if (c.output !== null) md.appendCodeblock(c.output.slice(0, 1200), 'text');
        for (const v of c.verdicts) {
          md.appendMarkdown(`- ${v.pass ? '✓' : '✗'} **${v.name}**: ${v.reason}\n`);
        }
        item.tooltip = md;
        item.contextValue = 'eval.case';
        item.command = {
          command: COMMAND_IDS.openEvalResults,
          title: 'Open Eval Results',
          arguments: [node],
        };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.tooltip = node.tooltip;
        item.iconPath = new vscode.ThemeIcon('info');
        return item;
      }
    }
  }
}
