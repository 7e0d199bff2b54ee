// Experiment commands: create, rename, delete / restore, filter runs, show deleted,
// load more, refresh.

import * as vscode from 'vscode';
import { FilterError } from '../../core/model/errors.ts';
import { parseRunFilter } from '../../core/tracking/runFilter.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import type { ExperimentsNode } from '../views/experimentsTree.ts';
import type { CommandContext } from './context.ts';
import { targets, writableStore } from './context.ts';
import { registerCommand, UserError } from './register.ts';

function experimentOf(ctx: CommandContext, node: ExperimentsNode | undefined) {
  const target = node ?? ctx.tree.view.selection[0];
  if (target?.kind !== 'experiment')
    throw new UserError('Select an experiment in the MLOps view first.');
  return target.experiment;
}

export function registerExperimentCommands(ctx: CommandContext): vscode.Disposable[] {
  const { log, tree } = ctx;
  return [
    registerCommand(COMMAND_IDS.refresh, log, () => tree.refresh()),
    registerCommand(COMMAND_IDS.createExperiment, log, async () => {
      const t = await writableStore(ctx);
      const name = await vscode.window.showInputBox({
        title: 'Create Experiment',
        prompt: 'Name of the new experiment',
        validateInput: (v) =>
          !v.trim()
            ? 'Enter a name.'
            : t.getExperimentByName(v)
              ? `An experiment named '${v}' exists already.`
              : undefined,
      });
      if (!name) return;
      const id = await t.createExperiment(name);
      tree.refresh();
      log.info(`[command] created experiment ${name} (${id})`);
    }),
    registerCommand(COMMAND_IDS.renameExperiment, log, async (node?: ExperimentsNode) => {
      const exp = experimentOf(ctx, node);
      const t = await writableStore(ctx);
      const name = await vscode.window.showInputBox({
        title: `Rename Experiment ${exp.name}`,
        value: exp.name,
        validateInput: (v) => {
          if (!v.trim()) return 'Enter a name.';
          const clash = t.getExperimentByName(v);
          return clash && clash.experimentId !== exp.experimentId
            ? `An experiment named '${v}' exists already.`
            : undefined;
        },
      });
      if (!name || name === exp.name) return;
      await t.renameExperiment(exp.experimentId, name);
    }),
    registerCommand(
      COMMAND_IDS.deleteExperiment,
      log,
      async (node?: ExperimentsNode, selection?: ExperimentsNode[]) => {
        const experiments = targets(ctx, node, selection).flatMap((n) =>
          n.kind === 'experiment' ? [n] : [],
        );
        if (experiments.length === 0)
          throw new UserError('Select an experiment in the MLOps view first.');
        const t = await writableStore(ctx);
        const names = experiments.map((n) => `'${n.experiment.name}'`).join(', ');
        const runs = experiments.reduce((a, n) => a + n.runCount, 0);
        const choice = await vscode.window.showWarningMessage(
          `Delete ${experiments.length === 1 ? 'experiment' : 'experiments'} ${names} (${runs} runs)?`,
          {
            modal: true,
            detail: 'Nothing is erased: turn on "Show Deleted" in the MLOps view to restore.',
          },
          'Delete',
        );
        if (choice !== 'Delete') return;
        for (const n of experiments) await t.deleteExperiment(n.experiment.experimentId);
      },
    ),
    registerCommand(
      COMMAND_IDS.restoreExperiment,
      log,
      async (node?: ExperimentsNode, selection?: ExperimentsNode[]) => {
        const t = await writableStore(ctx);
        for (const n of targets(ctx, node, selection)) {
          if (n.kind === 'experiment') await t.restoreExperiment(n.experiment.experimentId);
        }
      },
    ),
    registerCommand(COMMAND_IDS.filterRuns, log, async (preset?: string) => {
      await ctx.store.get();
      const filter =
        typeof preset === 'string'
          ? preset
          : await vscode.window.showInputBox({
              title: 'Filter Runs',
              prompt:
                "MLflow search syntax, e.g. metrics.acc > 0.9 and params.lr = '0.01' (OR, parentheses and IN work too)",
              value: tree.currentFilter,
              placeHolder: "metrics.val_loss < 0.3 and tags.team = 'nlp'",
              validateInput: (v) => {
                try {
                  parseRunFilter(v);
                  return undefined;
                } catch (e) {
                  return e instanceof FilterError ? e.message.split('\n')[0] : String(e);
                }
              },
            });
      if (filter === undefined) return;
      tree.setFilter(filter);
    }),
    registerCommand(COMMAND_IDS.clearFilter, log, () => tree.setFilter('')),
    registerCommand(COMMAND_IDS.showDeleted, log, () => tree.setShowDeleted(true)),
    registerCommand(COMMAND_IDS.hideDeleted, log, () => tree.setShowDeleted(false)),
    registerCommand(COMMAND_IDS.loadMore, log, (node?: ExperimentsNode) => {
      if (node?.kind === 'more') tree.loadMore(node.containerKey);
    }),
  ];
}
