// What the command groups share: the store, the tree, the log, and the guard that
// keeps an untrusted workspace read-only.

import type * as vscode from 'vscode';
import type { Tracking } from '../../core/tracking/tracking.ts';
import type { ExperimentsNode, ExperimentsTree } from '../views/experimentsTree.ts';
import type { WorkspaceStore } from '../workspaceStore.ts';
import { UserError } from './register.ts';

export interface CommandContext {
  store: WorkspaceStore;
  tree: ExperimentsTree;
  log: vscode.LogOutputChannel;
}

export class ReadOnlyError extends UserError {}

/** The store for a change; refuses in an untrusted workspace. */
export async function writableStore(ctx: CommandContext): Promise<Tracking> {
  if (ctx.store.readOnly) {
    throw new ReadOnlyError(
      'This workspace is not trusted, so the MLOps store is read-only. Trust the workspace to change it.',
    );
  }
  return ctx.store.get();
}

/** The nodes a command applies to: the multi-selection when the clicked node is in it. */
export function targets(
  ctx: CommandContext,
  node: ExperimentsNode | undefined,
  selection: readonly ExperimentsNode[] | undefined,
): ExperimentsNode[] {
  if (selection && selection.length > 0 && (!node || selection.includes(node)))
    return [...selection];
  if (node) return [node];
  return [...ctx.tree.view.selection];
}
