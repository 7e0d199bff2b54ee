// `mlops log param|metric|tag|artifact|dataset`: logging from a shell script or
// any language. The run is --run, or $MLOPS_RUN_ID. Every write is durable on exit.

import * as path from 'node:path';
import type { CommandSpec } from '../context.ts';
import { EXIT_OK } from '../context.ts';
import { parseMetricValue } from '../format.ts';
import { runArg } from './shared.ts';

const RUN_OPTION = { run: { type: 'string', short: 'r' } } as const;
const RUN_DETAILS = '  -r, --run <id>   the run (default: $MLOPS_RUN_ID)';

export const logCommands: CommandSpec[] = [
  {
    name: 'log param',
    usage: 'mlops log param <key> <value> [--run <id>]',
    summary:
      'Log a param. Params are immutable: the same value again is fine, a different one is an error.',
    details: RUN_DETAILS,
    options: RUN_OPTION,
    async run(ctx) {
      const key = ctx.arg(0, 'key');
      const value = ctx.arg(1, 'value');
      const t = await ctx.open();
      await t.logParam(runArg(ctx, t), key, value);
      return EXIT_OK;
    },
  },
  {
    name: 'log metric',
    usage: 'mlops log metric <key> <value> [--step n] [--timestamp ms] [--run <id>]',
    summary: 'Log a metric point (nan, inf and -inf are accepted).',
    details: `${RUN_DETAILS}\n  --step <n>        default 0\n  --timestamp <ms>  milliseconds since the epoch (default: now)`,
    options: { ...RUN_OPTION, step: { type: 'string' }, timestamp: { type: 'string' } },
    async run(ctx) {
      const key = ctx.arg(0, 'key');
      const raw = ctx.arg(1, 'value');
      const value = parseMetricValue(raw);
      if (value === undefined)
        throw ctx.usage(`<value> must be a number, nan, inf or -inf (got '${raw}')`);
      const step = ctx.int('step');
      const timestamp = ctx.int('timestamp');
      const t = await ctx.open();
      await t.logBatch(runArg(ctx, t), { metrics: [{ key, value, step, timestamp }] });
      return EXIT_OK;
    },
  },
  {
    name: 'log tag',
    usage: 'mlops log tag <key> <value> [--run <id>]',
    summary: 'Set a tag on a run (the last value wins).',
    details: RUN_DETAILS,
    options: RUN_OPTION,
    async run(ctx) {
      const key = ctx.arg(0, 'key');
      const value = ctx.arg(1, 'value');
      const t = await ctx.open();
      await t.setTag(runArg(ctx, t), key, value);
      return EXIT_OK;
    },
  },
  {
    name: 'log artifact',
    usage: 'mlops log artifact <file-or-folder> [--path <artifact-dir>] [--run <id>] [--json]',
    summary: "Copy a file (or a folder's contents) into the run's artifacts.",
    details: `${RUN_DETAILS}\n  --path <dir>   where under the run's artifacts (relative; '..' is refused)`,
    options: { ...RUN_OPTION, path: { type: 'string' } },
    async run(ctx) {
      const local = path.resolve(ctx.io.cwd, ctx.arg(0, 'file-or-folder'));
      const t = await ctx.open();
      const written = t.logArtifact(runArg(ctx, t), local, ctx.str('path') ?? '');
      ctx.print({ artifacts: written }, () => written.map((p) => `${p}\n`).join(''));
      return EXIT_OK;
    },
  },
  {
    name: 'log dataset',
    usage:
      'mlops log dataset <file-or-folder> [--name <name>] [--context train|eval|...] [--run <id>] [--json]',
    summary:
      'Record the sha256 digest, size and row count (CSV, TSV, JSONL, Parquet) of data a run used.',
    details: `${RUN_DETAILS}\n  --name <name>      default: the file name\n  --context <text>   what the run used it for, e.g. train`,
    options: { ...RUN_OPTION, name: { type: 'string' }, context: { type: 'string' } },
    async run(ctx) {
      const source = path.resolve(ctx.io.cwd, ctx.arg(0, 'file-or-folder'));
      const t = await ctx.open();
      const runId = runArg(ctx, t);
      await t.logDataset(runId, source, { name: ctx.str('name'), context: ctx.str('context') });
      const ds = t.getRun(runId).datasets.at(-1)!;
      ctx.print(
        ds,
        () =>
          `${ds.name} sha256:${ds.digest}${ds.rowCount === null ? '' : ` (${ds.rowCount} rows)`}\n`,
      );
      return EXIT_OK;
    },
  },
];
