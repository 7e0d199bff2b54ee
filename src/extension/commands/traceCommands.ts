// The trace commands: open a trace in the inspector, copy its id, delete it (after
// confirmation), filter the Traces view, group it by experiment or session, load more,
// prune by age, and the retention setting applied when the store opens and daily after.

import * as vscode from 'vscode';
import { FilterError } from '../../core/model/errors.ts';
import { parseTraceFilter } from '../../core/tracing/traceFilter.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import type { TracesNode, TracesTree } from '../views/tracesTree.ts';
import { TracePanel } from '../webviews/tracePanel.ts';
import type { TracePanelDeps } from '../webviews/tracePanel.ts';
import type { CommandContext } from './context.ts';
import { writableStore } from './context.ts';
import { registerCommand, UserError } from './register.ts';

export interface TraceContext extends CommandContext {
  traces: TracesTree;
  panels: TracePanelDeps;
}

const DAY_MS = 86_400_000;

/** The trace a command was given: a tree node, a trace id, or the view's selection. */
function traceIdOf(ctx: TraceContext, arg: unknown): string {
  if (typeof arg === 'string') return arg;
  const node = (arg as TracesNode | undefined) ?? ctx.traces.view.selection[0];
  if (node?.kind === 'trace') return node.trace.traceId;
  throw new UserError('Pick a trace in the Traces view first.');
}

function selectedTraces(
  ctx: TraceContext,
  arg: unknown,
  all: readonly TracesNode[] | undefined,
): string[] {
  const nodes = all && all.length > 0 ? all : [arg as TracesNode | undefined].filter(Boolean);
  const ids = (nodes as TracesNode[])
    .filter((n): n is Extract<TracesNode, { kind: 'trace' }> => n?.kind === 'trace')
    .map((n) => n.trace.traceId);
  if (ids.length === 0) return [traceIdOf(ctx, arg)];
  return ids;
}

/** Deletes traces older than the mlops.traces.retentionDays setting (0: keep them all). */
export async function applyRetention(ctx: CommandContext): Promise<number> {
  const days = vscode.workspace.getConfiguration('mlops').get<number>('traces.retentionDays') ?? 0;
  if (!(days > 0) || ctx.store.readOnly) return 0;
  const t = await ctx.store.getIfExists();
  if (!t) return 0;
  const n = await t.traces.prune(days * DAY_MS);
  if (n > 0) ctx.log.info(`[traces] retention: deleted ${n} traces older than ${days} days`);
  return n;
}

export function registerTraceCommands(ctx: TraceContext): vscode.Disposable[] {
  const { log } = ctx;
  const retention = setInterval(
    () => void applyRetention(ctx).catch((e) => log.error(e as Error)),
    DAY_MS,
  );
  retention.unref();
  // Once the store is there (it may open later, on first use).
  let applied = false;
  const onStore = ctx.store.onDidChange(() => {
    if (applied) return;
    applied = true;
    void applyRetention(ctx).catch((e) => log.error(e as Error));
  });
  return [
    { dispose: () => clearInterval(retention) },
    onStore,
    TracePanel.register(ctx.panels),
    registerCommand(COMMAND_IDS.openTrace, log, async (arg?: unknown) => {
      let id: string;
      if (arg === undefined && ctx.traces.view.selection.length === 0) {
        const typed = await vscode.window.showInputBox({
          title: 'Open Trace',
          prompt: 'A trace id: 32 hex digits, tr-<hex>, or a unique prefix of 6 or more',
          validateInput: (v) =>
            /^(tr-)?[0-9a-f]{6,32}$/i.test(v.trim()) ? undefined : 'Not a trace id.',
        });
        if (!typed) return;
        id = (await ctx.store.get()).traces.resolveId(typed.trim());
      } else id = traceIdOf(ctx, arg);
      TracePanel.show(ctx.panels, id);
    }),
    registerCommand(COMMAND_IDS.copyTraceId, log, async (arg?: unknown) => {
      const id = traceIdOf(ctx, arg);
      await vscode.env.clipboard.writeText(id);
      void vscode.window.setStatusBarMessage(`Copied trace id ${id}`, 3000);
    }),
    registerCommand(
      COMMAND_IDS.deleteTrace,
      log,
      async (arg?: TracesNode, all?: readonly TracesNode[]) => {
        const ids = selectedTraces(ctx, arg, all);
        const ok = await vscode.window.showWarningMessage(
          ids.length === 1
            ? `Delete trace ${ids[0]!.slice(0, 12)} with its spans, tags and feedback? This cannot be undone.`
            : `Delete ${ids.length} traces with their spans, tags and feedback? This cannot be undone.`,
          { modal: true },
          'Delete',
        );
        if (ok !== 'Delete') return;
        const t = await writableStore(ctx);
        const n = await t.traces.delete(ids);
        for (const p of TracePanel.panels) if (ids.includes(p.traceId)) p.dispose();
        void vscode.window.setStatusBarMessage(`Deleted ${n} trace${n === 1 ? '' : 's'}`, 3000);
      },
    ),
    registerCommand(COMMAND_IDS.filterTraces, log, async () => {
      const value = await vscode.window.showInputBox({
        title: 'Filter Traces',
        value: ctx.traces.filter,
        prompt:
          "MLflow's trace filter, e.g. trace.status = 'ERROR', trace.execution_time_ms > 2000, span.type = 'TOOL', tags.env = 'prod' (AND, OR, IN, parentheses)",
        validateInput: (v) => {
          try {
            parseTraceFilter(v);
            return undefined;
          } catch (e) {
            return e instanceof FilterError ? e.message.split('\n')[0] : String(e);
          }
        },
      });
      if (value === undefined) return;
      ctx.traces.setFilter(value);
    }),
    registerCommand(COMMAND_IDS.clearTraceFilter, log, () => ctx.traces.setFilter('')),
    registerCommand(COMMAND_IDS.groupTracesBySession, log, () => ctx.traces.toggleGrouping()),
    registerCommand(COMMAND_IDS.groupTracesByExperiment, log, () => ctx.traces.toggleGrouping()),
    registerCommand(
      COMMAND_IDS.loadMoreTraces,
      log,
      (node: Extract<TracesNode, { kind: 'more' }>) => ctx.traces.loadMore(node),
    ),
    registerCommand(COMMAND_IDS.refreshTraces, log, () => ctx.traces.refresh()),
    registerCommand(COMMAND_IDS.pruneTraces, log, async () => {
      const picked = await vscode.window.showQuickPick(
        [
          { label: 'Older than 7 days', days: 7 },
          { label: 'Older than 30 days', days: 30 },
          { label: 'Older than 90 days', days: 90 },
        ],
        { title: 'Delete old traces' },
      );
      if (!picked) return;
      const t = await writableStore(ctx);
      const n = await t.traces.prune(picked.days * DAY_MS, { dryRun: true });
      if (n === 0) {
        void vscode.window.showInformationMessage(`No traces are ${picked.label.toLowerCase()}.`);
        return;
      }
      const ok = await vscode.window.showWarningMessage(
        `Delete ${n} trace${n === 1 ? '' : 's'} ${picked.label.toLowerCase()}? This cannot be undone.`,
        { modal: true },
        'Delete',
      );
      if (ok !== 'Delete') return;
      const deleted = await t.traces.prune(picked.days * DAY_MS);
      void vscode.window.showInformationMessage(
        `Deleted ${deleted} trace${deleted === 1 ? '' : 's'}.`,
      );
    }),
  ];
}
