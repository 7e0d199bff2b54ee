// The Models and Prompts views: registered name -> versions (alias badges, the
// run or commit message behind each) -> details. One class, two instances: the
// registries share their shape.

import * as vscode from 'vscode';
import type {
  ModelVersion,
  PromptVersion,
  RegisteredEntry,
  RegistryKind,
} from '../../core/registry/registry.ts';
import { summarizePromptChange } from '../../core/registry/promptDiff.ts';
import { formatAge } from '../../shared/format.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import { Disposable } from '../disposable.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';

export const REGISTRY_VIEW_IDS: Record<RegistryKind, string> = {
  model: 'mlops.models',
  prompt: 'mlops.prompts',
};

export type RegistryNode =
  | { kind: 'entry'; registry: RegistryKind; entry: RegisteredEntry }
  | { kind: 'modelVersion'; registry: 'model'; version: ModelVersion }
  | { kind: 'promptVersion'; registry: 'prompt'; version: PromptVersion; previous?: PromptVersion }
  | {
      kind: 'detail';
      id: string;
      label: string;
      description: string;
      tooltip?: string;
      icon?: string;
      command?: vscode.Command;
    };

function aliasBadges(aliases: readonly string[]): string {
  return aliases.map((a) => `@${a}`).join(' ');
}

export class RegistryTree extends Disposable implements vscode.TreeDataProvider<RegistryNode> {
  private readonly changed = this.register(new vscode.EventEmitter<RegistryNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<RegistryNode>;

  constructor(
    private readonly store: WorkspaceStore,
    readonly registry: RegistryKind,
  ) {
    super();
    this.view = this.register(
      vscode.window.createTreeView(REGISTRY_VIEW_IDS[registry], {
        treeDataProvider: this,
        canSelectMany: true,
        showCollapseAll: true,
      }),
    );
    this.register(
      store.onDidChange((change) => {
        if (!change || change.registry || change.runs.size > 0) this.refresh();
      }),
    );
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: RegistryNode): Promise<RegistryNode[]> {
    let t;
    try {
      // As the Experiments view: asking for a node's children never creates a store.
      t = await this.store.getIfExists();
    } catch {
      return [];
    }
    if (!t) return [];
    const reg = t.registry;
    if (!node) {
      return reg
        .list(this.registry)
        .map((entry) => ({ kind: 'entry', registry: this.registry, entry }));
    }
    switch (node.kind) {
      case 'entry':
        if (node.registry === 'model') {
          return reg.modelVersions(node.entry.name).map((version) => ({
            kind: 'modelVersion',
            registry: 'model',
            version,
          }));
        } else {
          const versions = reg.promptVersions(node.entry.name);
          return versions.map((version, i) => ({
            kind: 'promptVersion',
            registry: 'prompt',
            version,
            previous: versions[i + 1],
          }));
        }
      case 'modelVersion':
        return this.modelDetails(node.version, (id) => {
          try {
            return t.getRunInfo(id).runName;
          } catch {
            return undefined;
          }
        });
      case 'promptVersion':
        return this.promptDetails(node.version);
      default:
        return [];
    }
  }

  private modelDetails(
    v: ModelVersion,
    runName: (id: string) => string | undefined,
  ): RegistryNode[] {
    const id = (k: string): string => `model:${v.name}:${v.version}:${k}`;
    const out: RegistryNode[] = [
      {
        kind: 'detail',
        id: id('source'),
        label: 'source',
        description: v.source,
        tooltip: v.source,
        icon: 'package',
      },
    ];
    if (v.runId) {
      const name = runName(v.runId);
      out.push({
        kind: 'detail',
        id: id('run'),
        label: 'run',
        description: `${name ?? 'deleted run'} · ${v.runId.slice(0, 8)}`,
        tooltip: 'Open the run this version came from',
        icon: 'beaker',
        command: name
          ? { command: COMMAND_IDS.openLinkedRun, title: 'Open Run', arguments: [v.runId, name] }
          : undefined,
      });
    }
    out.push(
      { kind: 'detail', id: id('status'), label: 'status', description: v.status, icon: 'pass' },
      {
        kind: 'detail',
        id: id('created'),
        label: 'created',
        description: `${formatAge(v.creationTime)} by ${v.userId}`,
        tooltip: new Date(v.creationTime).toISOString(),
        icon: 'history',
      },
    );
    if (v.description)
      out.push({
        kind: 'detail',
        id: id('about'),
        label: 'description',
        description: v.description,
        icon: 'note',
      });
    for (const [k, val] of Object.entries(v.tags)) {
      out.push({ kind: 'detail', id: id(`tag:${k}`), label: k, description: val, icon: 'tag' });
    }
    return out;
  }

  private promptDetails(v: PromptVersion): RegistryNode[] {
    const id = (k: string): string => `prompt:${v.name}:${v.version}:${k}`;
    const out: RegistryNode[] = [];
    if (v.commitMessage)
      out.push({
        kind: 'detail',
        id: id('msg'),
        label: 'message',
        description: v.commitMessage,
        icon: 'comment',
      });
    for (const [k, val] of Object.entries(v.modelSettings)) {
      out.push({
        kind: 'detail',
        id: id(`set:${k}`),
        label: k,
        description: String(val),
        icon: 'settings',
      });
    }
    if (v.sourceFile) {
      out.push({
        kind: 'detail',
        id: id('file'),
        label: 'file',
        description: `${v.sourceFile}${v.sourceDigest ? ` · sha256 ${v.sourceDigest.slice(0, 8)}` : ''}`,
        icon: 'file',
      });
    }
    out.push({
      kind: 'detail',
      id: id('created'),
      label: 'created',
      description: `${formatAge(v.creationTime)} by ${v.userId}`,
      tooltip: new Date(v.creationTime).toISOString(),
      icon: 'history',
    });
    return out;
  }

  getTreeItem(node: RegistryNode): vscode.TreeItem {
    switch (node.kind) {
      case 'entry': {
        const e = node.entry;
        const item = new vscode.TreeItem(e.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `${node.registry}:${e.name}`;
        const aliases = Object.entries(e.aliases).map(([a, v]) => `@${a} v${v}`);
        item.description = [
          `${e.versionCount} ${e.versionCount === 1 ? 'version' : 'versions'}`,
          ...aliases,
        ].join(' · ');
        item.iconPath = new vscode.ThemeIcon(
          node.registry === 'model' ? 'package' : 'comment-discussion',
        );
        item.contextValue = `registry.entry.${node.registry}`;
        item.tooltip = [
          e.name,
          e.description ?? '',
          ...Object.entries(e.tags).map(([k, v]) => `${k}=${v}`),
        ]
          .filter(Boolean)
          .join('\n');
        return item;
      }
      case 'modelVersion': {
        const v = node.version;
        const item = new vscode.TreeItem(
          `v${v.version}`,
          vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = `model:${v.name}:${v.version}`;
        item.description = [
          aliasBadges(v.aliases),
          v.runId ? `run ${v.runId.slice(0, 8)}` : '',
          formatAge(v.creationTime),
        ]
          .filter(Boolean)
          .join(' · ');
        item.iconPath = new vscode.ThemeIcon(
          v.aliases.includes('champion') ? 'star-full' : 'versions',
        );
        item.contextValue = `registry.version.model${v.aliases.length ? '.aliased' : ''}${v.runId ? '.run' : ''}`;
        item.tooltip = `models:/${v.name}/${v.version}\n${v.source}${v.aliases.length ? `\n${aliasBadges(v.aliases)}` : ''}`;
        return item;
      }
      case 'promptVersion': {
        const v = node.version;
        const item = new vscode.TreeItem(
          `v${v.version}`,
          vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = `prompt:${v.name}:${v.version}`;
        item.description = [
          aliasBadges(v.aliases),
          v.commitMessage ?? '',
          formatAge(v.creationTime),
        ]
          .filter(Boolean)
          .join(' · ');
        item.iconPath = new vscode.ThemeIcon(
          v.aliases.includes('champion') ? 'star-full' : 'versions',
        );
        item.contextValue = `registry.version.prompt${v.aliases.length ? '.aliased' : ''}`;
        item.command = {
          command: COMMAND_IDS.openPromptVersion,
          title: 'Open Prompt Version',
          arguments: [node],
        };
        const md = new vscode.MarkdownString(undefined, true);
        md.appendMarkdown(`**${v.name} v${v.version}** ${aliasBadges(v.aliases)}\n\n`);
        if (v.commitMessage) md.appendMarkdown(`${v.commitMessage}\n\n`);
        if (node.previous) {
          const change = summarizePromptChange(node.previous, v);
          md.appendMarkdown(`Since v${node.previous.version}: ${change.text}\n\n`);
        }
        const settings = Object.entries(v.modelSettings);
        if (settings.length)
          md.appendMarkdown(
            `${settings.map(([k, val]) => `${k}: ${String(val)}`).join(' · ')}\n\n`,
          );
        md.appendMarkdown(`\`prompts:/${v.name}/${v.version}\``);
        item.tooltip = md;
        return item;
      }
      case 'detail': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.description = node.description;
        item.tooltip = node.tooltip;
        if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon);
        if (node.command) item.command = node.command;
        item.contextValue = 'registry.detail';
        return item;
      }
    }
  }
}
