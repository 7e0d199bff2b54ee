// Compare and chart commands: compare the selected runs, compare every run matching
// a filter, and chart one metric (of a run, or across the selected runs).

import * as vscode from 'vscode';
import { COMMAND_IDS } from '../commandIds.ts';
import type { ExperimentsNode } from '../views/experimentsTree.ts';
import { ComparePanel } from '../webviews/comparePanel.ts';
import type { ComparePanelDeps } from '../webviews/comparePanel.ts';
import type { CommandContext } from './context.ts';
import { targets } from './context.ts';
import { registerCommand, UserError } from './register.ts';

/** Above this many runs, "compare all matching" asks first: the charts get crowded. */
const CONFIRM_ABOVE = 200;

function selectedRunIds(
  ctx: CommandContext,
  node: ExperimentsNode | undefined,
  selection: ExperimentsNode[] | undefined,
): string[] {
  // Columns in the order the runs started, whatever order they were selected in.
  const picked = targets(ctx, node, selection).flatMap((n) =>
    n.kind === 'run'
      ? [{ id: n.run.info.runId, start: n.run.info.startTime }]
      : n.kind === 'leaf' && n.metric
        ? [{ id: n.metric.runId, start: Infinity }]
        : [],
  );
  picked.sort((a, b) => a.start - b.start);
  return [...new Set(picked.map((p) => p.id))];
}

async function pickRuns(ctx: CommandContext, title: string): Promise<string[]> {
  const t = await ctx.store.get();
  const recent = t.searchRuns({ maxResults: 500 }).items;
  if (recent.length === 0) throw new UserError('There are no runs in the store yet.');
  const chosen = await vscode.window.showQuickPick(
    recent.map((r) => ({
      label: r.info.runName,
      description: `${r.info.status} · ${r.info.runId.slice(0, 8)}`,
      runId: r.info.runId,
    })),
    { canPickMany: true, title, placeHolder: 'Select two or more runs' },
  );
  return (chosen ?? []).map((c) => c.runId);
}

export function registerCompareCommands(
  ctx: CommandContext,
  extensionUri: vscode.Uri,
): vscode.Disposable[] {
  const { log } = ctx;
  const deps: ComparePanelDeps = { store: ctx.store, log, extensionUri };
  return [
    ComparePanel.register(deps),
    registerCommand(
      COMMAND_IDS.compareRuns,
      log,
      async (node?: ExperimentsNode, selection?: ExperimentsNode[]) => {
        const started = performance.now();
        let runIds = selectedRunIds(ctx, node, selection);
        if (runIds.length < 2) runIds = await pickRuns(ctx, 'Compare Runs');
        if (runIds.length === 0) return;
        if (runIds.length < 2) throw new UserError('Select two or more runs to compare.');
        ComparePanel.show(deps, { runIds }, started);
      },
    ),
    registerCommand(COMMAND_IDS.compareMatching, log, async (node?: ExperimentsNode) => {
      const t = await ctx.store.get();
      let filter = ctx.tree.currentFilter;
      if (!filter && node?.kind !== 'experiment') {
        const typed = await vscode.window.showInputBox({
          title: 'Compare all runs matching a filter',
          prompt: "MLflow search syntax, e.g. params.optimizer = 'adam' and metrics.loss < 0.5",
          placeHolder: 'empty: every run',
        });
        if (typed === undefined) return;
        filter = typed.trim();
      }
      const experimentIds =
        node?.kind === 'experiment' ? [node.experiment.experimentId] : undefined;
      const total = t.countRuns({ experimentIds, filter });
      if (total === 0)
        throw new UserError(filter ? `No run matches ${filter}.` : 'There are no runs.');
      if (total > CONFIRM_ABOVE) {
        const go = await vscode.window.showWarningMessage(
          `Compare ${total.toLocaleString('en-US')} runs? Every chart gets a line per run.`,
          { modal: true },
          'Compare',
        );
        if (go !== 'Compare') return;
      }
      // Timed from here: what came before waited for the user.
      const started = performance.now();
      const runIds: string[] = [];
      let pageToken: string | undefined;
      do {
        const page = t.searchRuns({ experimentIds, filter, maxResults: 1000, pageToken });
        runIds.push(...page.items.map((r) => r.info.runId));
        pageToken = page.nextPageToken;
      } while (pageToken);
      const scope = node?.kind === 'experiment' ? node.experiment.name : 'all experiments';
      ComparePanel.show(
        deps,
        { runIds, title: `Compare ${runIds.length} runs · ${filter || scope}` },
        started,
      );
    }),
    registerCommand(
      COMMAND_IDS.chartMetric,
      log,
      async (node?: ExperimentsNode, selection?: ExperimentsNode[]) => {
        const started = performance.now();
        // A metric leaf: that metric, across the selected runs when runs are selected too.
        if (node?.kind === 'leaf' && node.metric) {
          // A click passes no selection; a ctrl-click leaves the runs selected too.
          const picked = selectedRunIds(ctx, node, selection ?? [...ctx.tree.view.selection]);
          const runIds = picked.includes(node.metric.runId) ? picked : [node.metric.runId];
          ComparePanel.show(deps, { runIds, metric: node.metric.key }, started);
          return;
        }
        let runIds = selectedRunIds(ctx, node, selection);
        if (runIds.length === 0) runIds = await pickRuns(ctx, 'Chart a metric of runs');
        if (runIds.length === 0) return;
        const t = await ctx.store.get();
        const keys = new Set<string>();
        for (const id of runIds) for (const k of Object.keys(t.getRun(id).metrics)) keys.add(k);
        if (keys.size === 0) throw new UserError('The selected runs have no metrics.');
        const metric =
          keys.size === 1
            ? [...keys][0]
            : await vscode.window.showQuickPick([...keys].sort(), { title: 'Chart which metric?' });
        if (!metric) return;
        ComparePanel.show(deps, { runIds, metric }, started);
      },
    ),
  ];
}
