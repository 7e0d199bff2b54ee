// `mlops models list|show|register|alias`: the model registry from the command line.

import type { CommandSpec } from '../context.ts';
import { EXIT_OK } from '../context.ts';
import { formatTime, table } from '../format.ts';

function aliasText(aliases: Record<string, number> | string[]): string {
  const names = Array.isArray(aliases)
    ? aliases
    : Object.entries(aliases).map(([a, v]) => `${a}=v${v}`);
  return names.map((a) => `@${a}`).join(' ');
}

export const modelsCommands: CommandSpec[] = [
  {
    name: 'models list',
    usage: 'mlops models list [--json]',
    summary: 'List registered models with their latest version and aliases.',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      const models = t.registry.list('model');
      ctx.print(models, () =>
        models.length === 0
          ? 'No registered models yet. Register one with `mlops models register <name> <source> [--run <id>]`.\n'
          : table(
              ['NAME', 'VERSIONS', 'LATEST', 'ALIASES', 'UPDATED'],
              models.map((m) => [
                m.name,
                String(m.versionCount),
                m.latestVersion === null ? '' : String(m.latestVersion),
                aliasText(m.aliases),
                formatTime(m.lastUpdateTime),
              ]),
            ),
      );
      return EXIT_OK;
    },
  },
  {
    name: 'models show',
    usage: 'mlops models show <name | models:/name/N | models:/name@alias> [--history] [--json]',
    summary: 'Show a model and its versions (or one version), and with --history every alias move.',
    options: { history: { type: 'boolean' } },
    async run(ctx) {
      const t = await ctx.open();
      const what = ctx.arg(0, 'name');
      if (what.startsWith('models:/')) {
        const v = t.registry.resolveModelUri(what);
        ctx.print(v, () =>
          [
            `${v.name} version ${v.version}${v.aliases.length ? ` ${aliasText(v.aliases)}` : ''}`,
            `source:  ${v.source}`,
            `run:     ${v.runId ?? '-'}`,
            `status:  ${v.status}`,
            `created: ${formatTime(v.creationTime)} by ${v.userId}`,
            ...(v.description ? [`about:   ${v.description}`] : []),
            ...Object.entries(v.tags).map(([k, val]) => `tag:     ${k}=${val}`),
            '',
          ].join('\n'),
        );
        return EXIT_OK;
      }
      const model = t.registry.get('model', what);
      const versions = t.registry.modelVersions(what);
      const history = ctx.bool('history') ? t.registry.aliasHistory('model', what) : undefined;
      ctx.print({ ...model, versions, ...(history ? { aliasHistory: history } : {}) }, () => {
        let out = `${model.name}${model.description ? `: ${model.description}` : ''}\n`;
        for (const [k, v] of Object.entries(model.tags)) out += `tag ${k}=${v}\n`;
        out += table(
          ['VERSION', 'ALIASES', 'RUN', 'SOURCE', 'CREATED'],
          versions.map((v) => [
            String(v.version),
            aliasText(v.aliases),
            v.runId?.slice(0, 8) ?? '',
            v.source,
            formatTime(v.creationTime),
          ]),
        );
        if (history) {
          out += '\nAlias moves:\n';
          out += table(
            ['WHEN', 'ALIAS', 'FROM', 'TO', 'WHO', 'WHY'],
            history.map((h) => [
              formatTime(h.time),
              `@${h.alias}`,
              h.from === null ? '-' : String(h.from),
              h.to === null ? '(removed)' : String(h.to),
              h.userId,
              h.reason ?? '',
            ]),
          );
        }
        return out;
      });
      return EXIT_OK;
    },
  },
  {
    name: 'models register',
    usage:
      'mlops models register <name> <source> [--run <id>] [--description text] [--tag k=v]... [--json]',
    summary:
      'Register a new version of a model (created if needed) from an artifact path or URI; prints the version.',
    details:
      "  <source>   where the model is: runs:/<run>/<path>, a path in the run's artifacts, or any URI\n" +
      '  --run      the run it came from (a prefix of its id is enough)',
    options: {
      run: { type: 'string' },
      description: { type: 'string' },
      tag: { type: 'string', multiple: true },
    },
    async run(ctx) {
      const t = await ctx.open();
      const runOpt = ctx.str('run');
      const runId = runOpt ? t.resolveRunId(runOpt) : null;
      const v = await t.registry.createModelVersion(ctx.arg(0, 'name'), {
        source: ctx.arg(1, 'source'),
        runId,
        description: ctx.str('description'),
        tags: ctx.pairs('tag'),
        create: true,
      });
      ctx.print(v, () => `${v.name} version ${v.version}\n`);
      return EXIT_OK;
    },
  },
  {
    name: 'models alias',
    usage: 'mlops models alias <name> <alias> <version> [--reason text] | --remove',
    summary: 'Point an alias (champion, challenger, ...) at a version, moving it; or --remove it.',
    details:
      '  --reason   why, kept in the alias history (mlops models show <name> --history)\n' +
      '  --remove   remove the alias instead (no <version>)',
    options: { reason: { type: 'string' }, remove: { type: 'boolean' } },
    async run(ctx) {
      const t = await ctx.open();
      const name = ctx.arg(0, 'name');
      const alias = ctx.arg(1, 'alias').replace(/^@/, '');
      if (ctx.bool('remove')) {
        const from = await t.registry.removeAlias('model', name, alias, {
          reason: ctx.str('reason'),
        });
        ctx.io.err(`Removed @${alias} from ${name} (it pointed at version ${from}).\n`);
        return EXIT_OK;
      }
      const raw = ctx.arg(2, 'version');
      if (!/^\d+$/.test(raw)) throw ctx.usage(`<version> must be a number (got '${raw}')`);
      const moved = await t.registry.setAlias('model', name, alias, Number(raw), {
        reason: ctx.str('reason'),
      });
      ctx.io.err(
        moved.from === moved.to
          ? `@${alias} already points at ${name} version ${moved.to}.\n`
          : `@${alias} now points at ${name} version ${moved.to}${moved.from === null ? '' : ` (was ${moved.from})`}.\n`,
      );
      return EXIT_OK;
    },
  },
];
