// The `mlops` command: finds the subcommand, parses its flags, runs it, and maps
// errors to one line on stderr and an exit code (0 ok, 1 check failed, 2 error).

import { parseArgs } from 'node:util';
import type { Logger } from '../core/log.ts';
import {
  AlreadyExistsError,
  NotFoundError,
  StoreError,
  ValidationError,
} from '../core/model/errors.ts';
import { FilterError } from '../core/model/errors.ts';
import { experimentsCommands } from './commands/experimentsCommands.ts';
import { driftCommands } from './commands/driftCommands.ts';
import { evalCommand } from './commands/evalCommand.ts';
import { exportCommand } from './commands/exportCommand.ts';
import { importCommand } from './commands/importCommand.ts';
import { featuresCommands } from './commands/featuresCommands.ts';
import { logCommands } from './commands/logCommands.ts';
import { modelsCommands } from './commands/modelsCommands.ts';
import { promptsCommands } from './commands/promptsCommands.ts';
import { runsCommands } from './commands/runsCommands.ts';
import { serveCommand } from './commands/serveCommand.ts';
import { storeCommands } from './commands/storeCommands.ts';
import { tracesCommands } from './commands/tracesCommands.ts';
import { CommandContext, EXIT_USAGE, GLOBAL_OPTIONS, UsageError } from './context.ts';
import type { CommandSpec, Io } from './context.ts';

export const COMMANDS: CommandSpec[] = [
  ...experimentsCommands,
  ...runsCommands,
  ...logCommands,
  exportCommand,
  importCommand,
  ...modelsCommands,
  ...promptsCommands,
  evalCommand,
  ...driftCommands,
  ...featuresCommands,
  ...tracesCommands,
  ...storeCommands,
  serveCommand,
];

const GLOBAL_HELP = `Global options:
  --store <dir>   the store folder (default: $MLOPS_STORE, else the nearest .mlops folder
                  in this folder or a parent, else ./.mlops)
  --json          machine-readable output on read commands
  -h, --help      help for any command`;

function overview(): string {
  const groups = new Map<string, CommandSpec[]>();
  for (const c of COMMANDS) {
    const g = c.name.split(' ')[0]!;
    groups.set(g, [...(groups.get(g) ?? []), c]);
  }
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  let out =
    'mlops: experiment tracking for the MLOps Workbench store\n\nUsage: mlops <command> [options]\n\n';
  for (const list of groups.values()) {
    for (const c of list) out += `  ${c.name.padEnd(width)}  ${c.summary}\n`;
  }
  return `${out}\n${GLOBAL_HELP}\n\nExit codes: 0 ok, 1 a check failed, 2 bad usage or error.\nRun \`mlops <command> --help\` for a command's options.\n`;
}

function commandHelp(c: CommandSpec): string {
  return `${c.summary}\n\nUsage: ${c.usage}\n${c.details ? `\n${c.details}\n` : ''}\n${GLOBAL_HELP}\n`;
}

function stderrLogger(io: Io, verbose: boolean): Logger {
  const write = (level: string) => (m: string | Error) =>
    io.err(`[${level}] ${m instanceof Error ? m.message : m}\n`);
  return {
    trace: () => {},
    debug: verbose ? write('debug') : () => {},
    info: verbose ? write('info') : () => {},
    warn: write('warn'),
    error: write('error'),
  };
}

function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const spec = COMMANDS.find((c) => c.name === name);
    if (spec) return { spec, rest: argv.slice(words) };
  }
  return undefined;
}

export async function main(argv: string[], io: Io): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(overview());
    return argv.length === 0 ? EXIT_USAGE : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `));
    if (group.length > 0 && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
      io.out(group.map((c) => `  ${c.usage}\n      ${c.summary}\n`).join(''));
      return argv.length === 1 ? EXIT_USAGE : 0;
    }
    io.err(
      `mlops: unknown command '${argv.slice(0, 2).join(' ')}'; run \`mlops --help\` for the list.\n`,
    );
    return EXIT_USAGE;
  }
  const { spec, rest } = found;
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: { ...spec.options, ...GLOBAL_OPTIONS, verbose: { type: 'boolean', short: 'v' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    io.err(
      `mlops ${spec.name}: ${(e as Error).message.split('\n')[0]}; see \`mlops ${spec.name} --help\`.\n`,
    );
    return EXIT_USAGE;
  }
  if (values.help) {
    io.out(commandHelp(spec));
    return 0;
  }
  const ctx = new CommandContext(
    spec,
    values,
    positionals,
    io,
    stderrLogger(io, values.verbose === true),
  );
  try {
    return await spec.run(ctx);
  } catch (e) {
    io.err(`${describeError(spec, e)}\n`);
    return EXIT_USAGE;
  } finally {
    try {
      await ctx.close();
    } catch (e) {
      io.err(`mlops ${spec.name}: ${(e as Error).message}\n`);
    }
  }
}

/** One line (or, for filters, the filter with a caret) that says what to do. */
function describeError(spec: CommandSpec, e: unknown): string {
  const prefix = `mlops ${spec.name}:`;
  if (e instanceof UsageError) return `${prefix} ${e.message}; see \`mlops ${spec.name} --help\`.`;
  if (
    e instanceof FilterError ||
    e instanceof ValidationError ||
    e instanceof NotFoundError ||
    e instanceof AlreadyExistsError ||
    e instanceof StoreError
  ) {
    return `${prefix} ${e.message}`;
  }
  const err = e as Error;
  return `${prefix} ${err.message ?? String(e)} (unexpected; rerun with --verbose and report it)`;
}
