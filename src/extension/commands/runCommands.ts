// Run commands: open details, copy id, rename, note, tag, delete / restore, and the
// artifact actions.

import * as vscode from 'vscode';
import { COMMAND_IDS } from '../commandIds.ts';
import { runDocumentUri } from '../runDocument.ts';
import type { ExperimentsNode } from '../views/experimentsTree.ts';
import type { CommandContext } from './context.ts';
import { targets, writableStore } from './context.ts';
import { registerCommand, UserError } from './register.ts';

interface RunRef {
  runId: string;
  runName: string;
}

/** The runs a command applies to: clicked / selected runs, else a pick from recent runs. */
async function runsFor(
  ctx: CommandContext,
  node: ExperimentsNode | undefined,
  selection: ExperimentsNode[] | undefined,
  many: boolean,
): Promise<RunRef[]> {
  const picked = targets(ctx, node, selection).flatMap((n) =>
    n.kind === 'run' ? [{ runId: n.run.info.runId, runName: n.run.info.runName }] : [],
  );
  if (picked.length > 0) return many ? picked : picked.slice(0, 1);
  const t = await ctx.store.get();
  const recent = t.searchRuns({ maxResults: 200 }).items;
  if (recent.length === 0) throw new UserError('There are no runs in the store yet.');
  const items = recent.map((r) => ({
    label: r.info.runName,
    description: `${r.info.status} · ${r.info.runId.slice(0, 8)}`,
    runId: r.info.runId,
  }));
  const chosen = many
    ? await vscode.window.showQuickPick(items, { canPickMany: true, title: 'Select runs' })
    : await vscode.window
        .showQuickPick(items, { title: 'Select a run' })
        .then((c) => (c ? [c] : undefined));
  return (chosen ?? []).map((c) => ({ runId: c.runId, runName: c.label }));
}

function artifactOf(
  node: ExperimentsNode | undefined,
): Extract<ExperimentsNode, { kind: 'artifact' }> {
  if (node?.kind !== 'artifact')
    throw new UserError('Select an artifact of a run in the MLOps view first.');
  return node;
}

export function registerRunCommands(ctx: CommandContext): vscode.Disposable[] {
  const { log } = ctx;
  return [
    registerCommand(
      COMMAND_IDS.openRun,
      log,
      async (node?: ExperimentsNode, selection?: ExperimentsNode[]) => {
        for (const run of await runsFor(ctx, node, selection, true)) {
          const doc = await vscode.workspace.openTextDocument(
            runDocumentUri(run.runId, run.runName),
          );
          await vscode.window.showTextDocument(doc, { preview: false });
        }
      },
    ),
    registerCommand(
      COMMAND_IDS.copyRunId,
      log,
      async (node?: ExperimentsNode, selection?: ExperimentsNode[]) => {
        const runs = await runsFor(ctx, node, selection, true);
        if (runs.length === 0) return;
        await vscode.env.clipboard.writeText(runs.map((r) => r.runId).join('\n'));
        void vscode.window.setStatusBarMessage(
          `Copied ${runs.length === 1 ? 'run id' : `${runs.length} run ids`}`,
          3000,
        );
      },
    ),
    registerCommand(COMMAND_IDS.renameRun, log, async (node?: ExperimentsNode) => {
      const [run] = await runsFor(ctx, node, undefined, false);
      if (!run) return;
      const t = await writableStore(ctx);
      const name = await vscode.window.showInputBox({
        title: 'Rename Run',
        value: run.runName,
        validateInput: (v) => (v.trim() ? undefined : 'Enter a name.'),
      });
      if (!name || name === run.runName) return;
      await t.updateRun(run.runId, { runName: name });
    }),
    registerCommand(COMMAND_IDS.editNote, log, async (node?: ExperimentsNode) => {
      const [run] = await runsFor(ctx, node, undefined, false);
      if (!run) return;
      const t = await writableStore(ctx);
      const note = await vscode.window.showInputBox({
        title: `Note on ${run.runName}`,
        value: t.getRun(run.runId).tags['mlflow.note.content'] ?? '',
        prompt: 'Saved as the tag mlflow.note.content',
      });
      if (note === undefined) return;
      await t.setNote(run.runId, note);
    }),
    registerCommand(
      COMMAND_IDS.setTag,
      log,
      async (node?: ExperimentsNode, selection?: ExperimentsNode[]) => {
        const runs = await runsFor(ctx, node, selection, true);
        if (runs.length === 0) return;
        const t = await writableStore(ctx);
        const input = await vscode.window.showInputBox({
          title: `Set Tag on ${runs.length === 1 ? runs[0]!.runName : `${runs.length} runs`}`,
          prompt: 'key=value',
          placeHolder: 'team=nlp',
          validateInput: (v) => (/^[^=]+=/.test(v) ? undefined : 'Write the tag as key=value.'),
        });
        if (!input) return;
        const eq = input.indexOf('=');
        const key = input.slice(0, eq).trim();
        const value = input.slice(eq + 1);
        for (const r of runs) await t.setTag(r.runId, key, value);
      },
    ),
    registerCommand(
      COMMAND_IDS.deleteRun,
      log,
      async (node?: ExperimentsNode, selection?: ExperimentsNode[]) => {
        const runs = await runsFor(ctx, node, selection, true);
        if (runs.length === 0) return;
        const t = await writableStore(ctx);
        const what = runs.length === 1 ? `run '${runs[0]!.runName}'` : `${runs.length} runs`;
        const choice = await vscode.window.showWarningMessage(
          `Delete ${what}?`,
          {
            modal: true,
            detail: 'Nothing is erased: turn on "Show Deleted" in the MLOps view to restore.',
          },
          'Delete',
        );
        if (choice !== 'Delete') return;
        for (const r of runs) await t.deleteRun(r.runId);
      },
    ),
    registerCommand(
      COMMAND_IDS.restoreRun,
      log,
      async (node?: ExperimentsNode, selection?: ExperimentsNode[]) => {
        const t = await writableStore(ctx);
        for (const r of await runsFor(ctx, node, selection, true)) await t.restoreRun(r.runId);
      },
    ),
    registerCommand(COMMAND_IDS.openArtifact, log, async (node?: ExperimentsNode) => {
      const a = artifactOf(node);
      const t = await ctx.store.get();
      await vscode.commands.executeCommand(
        'vscode.open',
        vscode.Uri.file(t.artifactPath(a.runId, a.entry.path)),
      );
    }),
    registerCommand(COMMAND_IDS.revealArtifact, log, async (node?: ExperimentsNode) => {
      const a = artifactOf(node);
      const t = await ctx.store.get();
      await vscode.commands.executeCommand(
        'revealInExplorer',
        vscode.Uri.file(t.artifactPath(a.runId, a.entry.path)),
      );
    }),
  ];
}
