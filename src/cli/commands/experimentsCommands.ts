// `mlops experiments list|create|rename|delete|restore`.

import type { CommandSpec } from '../context.ts';
import { EXIT_OK } from '../context.ts';
import { formatTime, table } from '../format.ts';
import { findExperiment } from './shared.ts';

export const experimentsCommands: CommandSpec[] = [
  {
    name: 'experiments list',
    usage: 'mlops experiments list [--all | --deleted] [--json]',
    summary: 'List experiments with their run counts.',
    details: '  --all       include deleted experiments\n  --deleted   only deleted experiments',
    options: { all: { type: 'boolean' }, deleted: { type: 'boolean' } },
    async run(ctx) {
      const t = await ctx.open();
      const view = ctx.bool('all') ? 'ALL' : ctx.bool('deleted') ? 'DELETED_ONLY' : 'ACTIVE_ONLY';
      const experiments = t.listExperiments(view);
      const counts = t.runCounts('ACTIVE_ONLY');
      ctx.print(
        experiments.map((e) => ({ ...e, runCount: counts.get(e.experimentId) ?? 0 })),
        () =>
          experiments.length === 0
            ? 'No experiments yet. Create one with `mlops experiments create <name>` or start a run with `mlops run start`.\n'
            : table(
                ['ID', 'NAME', 'RUNS', 'CREATED', 'STAGE'],
                experiments.map((e) => [
                  e.experimentId,
                  e.name,
                  String(counts.get(e.experimentId) ?? 0),
                  formatTime(e.creationTime),
                  e.lifecycleStage,
                ]),
              ),
      );
      return EXIT_OK;
    },
  },
  {
    name: 'experiments create',
    usage: 'mlops experiments create <name> [--tag key=value]... [--json]',
    summary: 'Create an experiment and print its id.',
    options: { tag: { type: 'string', multiple: true } },
    async run(ctx) {
      const name = ctx.arg(0, 'name');
      const tags = ctx.pairs('tag');
      const t = await ctx.open();
      const id = await t.createExperiment(name, { tags });
      ctx.print({ experimentId: id }, () => `${id}\n`);
      return EXIT_OK;
    },
  },
  {
    name: 'experiments rename',
    usage: 'mlops experiments rename <id|name> <new-name>',
    summary: 'Rename an experiment.',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      const exp = findExperiment(t, ctx.arg(0, 'id|name'));
      await t.renameExperiment(exp.experimentId, ctx.arg(1, 'new-name'));
      return EXIT_OK;
    },
  },
  {
    name: 'experiments delete',
    usage: 'mlops experiments delete <id|name>',
    summary: 'Mark an experiment deleted (it can be restored; nothing is erased).',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      const exp = findExperiment(t, ctx.arg(0, 'id|name'));
      await t.deleteExperiment(exp.experimentId);
      ctx.io.err(
        `Deleted experiment ${exp.experimentId} (${exp.name}); undo with \`mlops experiments restore ${exp.experimentId}\`.\n`,
      );
      return EXIT_OK;
    },
  },
  {
    name: 'experiments restore',
    usage: 'mlops experiments restore <id|name>',
    summary: 'Restore a deleted experiment.',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      const exp = findExperiment(t, ctx.arg(0, 'id|name'));
      await t.restoreExperiment(exp.experimentId);
      return EXIT_OK;
    },
  },
];
