// `mlops runs list|show|search|delete|restore` and `mlops run start|end`.

import type { ViewType } from '../../core/model/tracking.ts';
import type { Tracking } from '../../core/tracking/tracking.ts';
import type { CommandContext, CommandSpec } from '../context.ts';
import { EXIT_CHECK_FAILED, EXIT_OK } from '../context.ts';
import { formatDuration, formatTime, table } from '../format.ts';
import { formatMetricValue } from '../../shared/format.ts';
import { findExperiment, runArg, runJson, runTable } from './shared.ts';

const SEARCH_OPTIONS = {
  experiment: { type: 'string', multiple: true, short: 'e' },
  'order-by': { type: 'string', multiple: true },
  max: { type: 'string' },
  'page-token': { type: 'string' },
  all: { type: 'boolean' },
  deleted: { type: 'boolean' },
  'fail-if-empty': { type: 'boolean' },
} as const;

const SEARCH_DETAILS = `  -e, --experiment <id|name>  limit to these experiments (repeatable; default: all)
  --order-by "<key> [ASC|DESC]"  e.g. "metrics.acc DESC" (repeatable)
  --max <n>            at most n runs (default 100)
  --page-token <t>     continue from a previous --json page's nextPageToken
  --all | --deleted    include deleted runs / only deleted runs
  --fail-if-empty      exit 1 when nothing matches (for CI)`;

async function search(ctx: CommandContext, filter: string): Promise<number> {
  const t = await ctx.open();
  const experimentIds = ctx.list('experiment').map((ref) => findExperiment(t, ref).experimentId);
  const viewType: ViewType = ctx.bool('all')
    ? 'ALL'
    : ctx.bool('deleted')
      ? 'DELETED_ONLY'
      : 'ACTIVE_ONLY';
  const page = t.searchRuns({
    experimentIds,
    filter,
    orderBy: ctx.list('order-by'),
    maxResults: ctx.int('max') ?? 100,
    pageToken: ctx.str('page-token'),
    viewType,
  });
  ctx.print(
    { runs: page.items.map(runJson), nextPageToken: page.nextPageToken ?? null },
    () =>
      runTable(page.items) +
      (page.nextPageToken ? `(more runs: --page-token ${page.nextPageToken})\n` : ''),
  );
  return page.items.length === 0 && ctx.bool('fail-if-empty') ? EXIT_CHECK_FAILED : EXIT_OK;
}

function showRun(t: Tracking, runId: string): string {
  const run = t.getRun(runId);
  const exp = t.getExperiment(run.info.experimentId);
  const lines = [
    `Run        ${run.info.runId}`,
    `Name       ${run.info.runName}`,
    `Experiment ${exp.name} (${exp.experimentId})`,
    `Status     ${run.info.status}${run.info.lifecycleStage === 'deleted' ? ' (deleted)' : ''}`,
    `User       ${run.info.userId}`,
    `Started    ${formatTime(run.info.startTime)}`,
    `Ended      ${formatTime(run.info.endTime)} ${formatDuration(run.info.startTime, run.info.endTime)}`.trimEnd(),
  ];
  if (run.info.parentRunId) lines.push(`Parent     ${run.info.parentRunId}`);
  const note = run.tags['mlflow.note.content'];
  if (note) lines.push(`Note       ${note}`);
  let out = lines.join('\n') + '\n';
  const params = Object.entries(run.params);
  if (params.length)
    out +=
      '\nParams\n' +
      table(
        ['KEY', 'VALUE'],
        params.map(([k, v]) => [k, v]),
      );
  const metrics = Object.values(run.metrics);
  if (metrics.length) {
    out +=
      '\nMetrics\n' +
      table(
        ['KEY', 'LATEST', 'MIN', 'MAX', 'STEP', 'POINTS'],
        metrics.map((m) => [
          m.key,
          formatMetricValue(m.value),
          formatMetricValue(m.min),
          formatMetricValue(m.max),
          String(m.step),
          String(m.count),
        ]),
      );
  }
  const tags = Object.entries(run.tags).filter(([k]) => k !== 'mlflow.note.content');
  if (tags.length)
    out +=
      '\nTags\n' +
      table(
        ['KEY', 'VALUE'],
        tags.map(([k, v]) => [k, v]),
      );
  if (run.datasets.length) {
    out +=
      '\nDatasets\n' +
      table(
        ['NAME', 'DIGEST', 'ROWS', 'BYTES', 'CONTEXT', 'SOURCE'],
        run.datasets.map((d) => [
          d.name,
          d.digest.slice(0, 12),
          d.rowCount === null ? '' : String(d.rowCount),
          String(d.sizeBytes ?? ''),
          d.context ?? '',
          d.source,
        ]),
      );
  }
  const artifacts = t.listArtifacts(runId);
  if (artifacts.length) {
    out +=
      '\nArtifacts\n' +
      table(
        ['PATH', 'BYTES'],
        artifacts.map((a) => [
          a.isDir ? `${a.path}/` : a.path,
          a.sizeBytes === null ? '' : String(a.sizeBytes),
        ]),
      );
  }
  const checkpoints = t.listCheckpoints(runId);
  if (checkpoints.length) {
    out +=
      '\nCheckpoints\n' +
      table(
        ['STEP', 'PATH', 'METRICS'],
        checkpoints.map((c) => [
          String(c.step),
          c.artifactPath,
          Object.entries(c.metrics)
            .map(([k, v]) => `${k}=${formatMetricValue(v)}`)
            .join(' '),
        ]),
      );
  }
  return out;
}

export const runsCommands: CommandSpec[] = [
  {
    name: 'runs list',
    usage: 'mlops runs list [-e <experiment>]... [--order-by ...] [--max n] [--json]',
    summary: 'List runs, newest first.',
    details: SEARCH_DETAILS,
    options: SEARCH_OPTIONS,
    run: (ctx) => search(ctx, ''),
  },
  {
    name: 'runs search',
    usage: 'mlops runs search "<filter>" [-e <experiment>]... [--order-by ...] [--max n] [--json]',
    summary: "Find runs with MLflow's filter syntax, plus OR, parentheses and IN.",
    details:
      SEARCH_DETAILS +
      `\n\nExamples:\n  mlops runs search "metrics.acc > 0.9 and params.lr = '0.01'"\n  mlops runs search "(tags.team = 'nlp' or tags.team = 'cv') and attributes.status = 'FINISHED'"\n  mlops runs search "params.optimizer IN ('adam', 'sgd')" --order-by "metrics.loss ASC"`,
    options: SEARCH_OPTIONS,
    run: (ctx) => search(ctx, ctx.arg(0, 'filter')),
  },
  {
    name: 'runs show',
    usage: 'mlops runs show <run-id> [--json]',
    summary:
      'Show a run: params, metrics (latest, min, max), tags, datasets, artifacts, checkpoints.',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      const runId = runArg(ctx, t, 0);
      ctx.print(
        {
          ...(runJson(t.getRun(runId)) as object),
          artifacts: t.listArtifacts(runId),
          checkpoints: t.listCheckpoints(runId),
        },
        () => showRun(t, runId),
      );
      return EXIT_OK;
    },
  },
  {
    name: 'runs delete',
    usage: 'mlops runs delete <run-id>',
    summary: 'Mark a run deleted (it can be restored; nothing is erased).',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      const runId = runArg(ctx, t, 0);
      await t.deleteRun(runId);
      ctx.io.err(`Deleted run ${runId}; undo with \`mlops runs restore ${runId}\`.\n`);
      return EXIT_OK;
    },
  },
  {
    name: 'runs restore',
    usage: 'mlops runs restore <run-id>',
    summary: 'Restore a deleted run.',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      await t.restoreRun(runArg(ctx, t, 0));
      return EXIT_OK;
    },
  },
  {
    name: 'run start',
    usage:
      'mlops run start [-e <experiment>] [--name <name>] [--parent <run-id>] [--tag key=value]... [--source <file>] [--no-git] [--json]',
    summary: 'Start a run and print its id (use it as MLOPS_RUN_ID for `mlops log`).',
    details: `  -e, --experiment <id|name>  created when it does not exist (default: Default)
  --name <name>       the run name (default: a generated one)
  --parent <run-id>   make it a nested run
  --tag key=value     repeatable
  --source <file>     the training script, recorded as mlflow.source.name
  --no-git            do not record the git commit, branch and dirty flag

Example:
  export MLOPS_RUN_ID=$(mlops run start -e mnist --name baseline)
  mlops log param lr 0.01 && mlops log metric loss 0.42 --step 1
  mlops run end`,
    options: {
      experiment: { type: 'string', short: 'e' },
      name: { type: 'string' },
      parent: { type: 'string' },
      tag: { type: 'string', multiple: true },
      source: { type: 'string' },
      'no-git': { type: 'boolean' },
    },
    async run(ctx) {
      const tags = ctx.pairs('tag');
      const t = await ctx.open();
      const expRef = ctx.str('experiment');
      let experimentId: string | undefined;
      if (expRef !== undefined) {
        experimentId = /^\d+$/.test(expRef)
          ? expRef
          : (await t.getOrCreateExperiment(expRef)).experimentId;
      }
      const parent = ctx.str('parent');
      const info = await t.createRun({
        experimentId,
        runName: ctx.str('name'),
        parentRunId: parent === undefined ? undefined : t.resolveRunId(parent),
        tags,
        sourceName: ctx.str('source'),
        captureGit: !ctx.bool('no-git'),
      });
      ctx.print(info, () => `${info.runId}\n`);
      return EXIT_OK;
    },
  },
  {
    name: 'run end',
    usage: 'mlops run end [<run-id>] [--status FINISHED|FAILED|KILLED]',
    summary:
      'End a run (default status FINISHED). The run is the argument, --run, or $MLOPS_RUN_ID.',
    options: { status: { type: 'string' }, run: { type: 'string' } },
    async run(ctx) {
      const status = (ctx.str('status') ?? 'FINISHED').toUpperCase();
      if (!['FINISHED', 'FAILED', 'KILLED'].includes(status)) {
        throw ctx.usage(`--status must be FINISHED, FAILED or KILLED (got '${status}')`);
      }
      const t = await ctx.open();
      const info = await t.endRun(runArg(ctx, t, 0), status as 'FINISHED');
      ctx.print(info, () => '');
      return EXIT_OK;
    },
  },
];
