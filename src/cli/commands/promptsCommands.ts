// `mlops prompts list|show|register|diff|alias|render`: the prompt registry from the
// command line. A prompt is named by a URI (prompts:/name/3, prompts:/name@champion)
// or, where a file makes sense, by a prompt file's path.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { summarizePromptChange, promptText } from '../../core/registry/promptDiff.ts';
import { isPromptFile, parsePromptFile } from '../../core/registry/promptFile.ts';
import type { PromptContent } from '../../core/registry/registry.ts';
import { renderChat, renderTemplate } from '../../core/registry/template.ts';
import type { Tracking } from '../../core/tracking/tracking.ts';
import type { CommandContext, CommandSpec } from '../context.ts';
import { EXIT_OK } from '../context.ts';
import { formatTime, table } from '../format.ts';

type Side = Pick<PromptContent, 'template' | 'messages' | 'modelSettings'> & { label: string };

/** A prompt version by URI, or a prompt file by path. */
function side(ctx: CommandContext, t: Tracking, ref: string): Side {
  if (ref.startsWith('prompts:/')) {
    const v = t.registry.resolvePromptUri(ref);
    return { ...v, label: `prompts:/${v.name}/${v.version}` };
  }
  const file = path.resolve(ctx.io.cwd, ref);
  if (!fs.existsSync(file)) {
    throw ctx.usage(`${ref} is neither a prompts:/ URI nor an existing prompt file`);
  }
  const parsed = parsePromptFile(ref, fs.readFileSync(file, 'utf8'));
  return { ...parsed, label: ref };
}

function readVariables(ctx: CommandContext): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  const file = ctx.str('vars');
  if (file) {
    const text = fs.readFileSync(path.resolve(ctx.io.cwd, file), 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw ctx.usage(`--vars ${file} is not JSON: ${(e as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw ctx.usage(`--vars ${file} must hold a JSON object of variable names to values`);
    }
    Object.assign(vars, parsed);
  }
  Object.assign(vars, ctx.pairs('var'));
  return vars;
}

export const promptsCommands: CommandSpec[] = [
  {
    name: 'prompts list',
    usage: 'mlops prompts list [--json]',
    summary: 'List registered prompts with their latest version and aliases.',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      const prompts = t.registry.list('prompt');
      ctx.print(prompts, () =>
        prompts.length === 0
          ? 'No registered prompts yet. Register one with `mlops prompts register <file>`.\n'
          : table(
              ['NAME', 'VERSIONS', 'LATEST', 'ALIASES', 'UPDATED'],
              prompts.map((p) => [
                p.name,
                String(p.versionCount),
                p.latestVersion === null ? '' : String(p.latestVersion),
                Object.entries(p.aliases)
                  .map(([a, v]) => `@${a}=v${v}`)
                  .join(' '),
                formatTime(p.lastUpdateTime),
              ]),
            ),
      );
      return EXIT_OK;
    },
  },
  {
    name: 'prompts show',
    usage: 'mlops prompts show <name | prompts:/name/N | prompts:/name@alias> [--history] [--json]',
    summary: 'Show a prompt and its versions, or one version with its text.',
    options: { history: { type: 'boolean' } },
    async run(ctx) {
      const t = await ctx.open();
      const what = ctx.arg(0, 'name');
      if (what.startsWith('prompts:/')) {
        const v = t.registry.resolvePromptUri(what);
        ctx.print(v, () =>
          [
            `${v.name} version ${v.version}${v.aliases.map((a) => ` @${a}`).join('')}`,
            `message: ${v.commitMessage ?? '-'}`,
            `created: ${formatTime(v.creationTime)} by ${v.userId}`,
            ...(v.sourceFile ? [`file:    ${v.sourceFile}`] : []),
            '',
            promptText(v),
          ].join('\n'),
        );
        return EXIT_OK;
      }
      const prompt = t.registry.get('prompt', what);
      const versions = t.registry.promptVersions(what);
      const history = ctx.bool('history') ? t.registry.aliasHistory('prompt', what) : undefined;
      ctx.print({ ...prompt, versions, ...(history ? { aliasHistory: history } : {}) }, () => {
        let out = `${prompt.name}${prompt.description ? `: ${prompt.description}` : ''}\n`;
        out += table(
          ['VERSION', 'ALIASES', 'MESSAGE', 'CREATED'],
          versions.map((v) => [
            String(v.version),
            v.aliases.map((a) => `@${a}`).join(' '),
            v.commitMessage ?? '',
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
    name: 'prompts register',
    usage: 'mlops prompts register <file> [--message text] [--json]',
    summary:
      'Register a prompt file (*.prompty, *.prompt.md, *.prompt.txt) as a new version; unchanged text registers nothing.',
    details:
      '  The prompt is named by the front matter `name`, else by the file name.\n' +
      '  --message   what changed, kept with the version',
    options: { message: { type: 'string', short: 'm' } },
    async run(ctx) {
      const ref = ctx.arg(0, 'file');
      if (!isPromptFile(ref)) {
        throw ctx.usage(`${ref} is not a prompt file: use *.prompty, *.prompt.md or *.prompt.txt`);
      }
      const file = path.resolve(ctx.io.cwd, ref);
      if (!fs.existsSync(file)) throw ctx.usage(`${ref} does not exist`);
      const text = fs.readFileSync(file, 'utf8');
      const parsed = parsePromptFile(ref, text);
      const t = await ctx.open();
      const result = await t.registry.registerPrompt(
        parsed.name,
        {
          template: parsed.template,
          messages: parsed.messages,
          modelSettings: parsed.modelSettings,
          commitMessage: ctx.str('message') ?? null,
          sourceFile: path.relative(ctx.io.cwd, file).split(path.sep).join('/'),
          sourceDigest: createHash('sha256').update(text).digest('hex'),
        },
        { description: parsed.description ?? undefined, tags: parsed.tags },
      );
      ctx.print({ ...result.version, created: result.created }, () => `${result.message}\n`);
      return EXIT_OK;
    },
  },
  {
    name: 'prompts diff',
    usage: 'mlops prompts diff <a> <b> [--json]',
    summary:
      'Diff two prompt versions (prompts:/name/1, prompts:/name@champion) or a file and a version.',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      const a = side(ctx, t, ctx.arg(0, 'a'));
      const b = side(ctx, t, ctx.arg(1, 'b'));
      const summary = summarizePromptChange(a, b);
      const patch = createTwoFilesPatch(a.label, b.label, promptText(a), promptText(b), '', '', {
        context: 3,
      });
      ctx.print({ a: a.label, b: b.label, ...summary, patch }, () =>
        summary.identical
          ? `${a.label} and ${b.label} are the same.\n`
          : `${summary.text}\n${patch}`,
      );
      return EXIT_OK;
    },
  },
  {
    name: 'prompts alias',
    usage: 'mlops prompts alias <name> <alias> <version> [--reason text] | --remove',
    summary: 'Point an alias (champion, ...) at a prompt version, moving it; or --remove it.',
    options: { reason: { type: 'string' }, remove: { type: 'boolean' } },
    async run(ctx) {
      const t = await ctx.open();
      const name = ctx.arg(0, 'name');
      const alias = ctx.arg(1, 'alias').replace(/^@/, '');
      if (ctx.bool('remove')) {
        const from = await t.registry.removeAlias('prompt', name, alias, {
          reason: ctx.str('reason'),
        });
        ctx.io.err(`Removed @${alias} from ${name} (it pointed at version ${from}).\n`);
        return EXIT_OK;
      }
      const raw = ctx.arg(2, 'version');
      if (!/^\d+$/.test(raw)) throw ctx.usage(`<version> must be a number (got '${raw}')`);
      const moved = await t.registry.setAlias('prompt', name, alias, Number(raw), {
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
  {
    name: 'prompts render',
    usage:
      'mlops prompts render <prompts:/name@alias | file> [--var name=value]... [--vars file.json] [--json]',
    summary:
      'Fill a prompt version (or file) with variables; a missing or unknown variable is an error that names it.',
    options: { var: { type: 'string', multiple: true }, vars: { type: 'string' } },
    async run(ctx) {
      const t = await ctx.open();
      const s = side(ctx, t, ctx.arg(0, 'prompt'));
      const vars = readVariables(ctx);
      if (s.messages) {
        const messages = renderChat(s.messages, vars);
        ctx.print(messages, () => messages.map((m) => `${m.role}:\n${m.content}\n`).join('\n'));
      } else {
        const text = renderTemplate(s.template, vars);
        ctx.print({ text }, () => (text.endsWith('\n') ? text : `${text}\n`));
      }
      return EXIT_OK;
    },
  },
];
