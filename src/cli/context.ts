// What every CLI command gets: parsed arguments, the store location, output helpers
// and the exit-code convention (0 ok, 1 a check failed, 2 bad usage or error).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import type { Logger } from '../core/log.ts';
import { Tracking } from '../core/tracking/tracking.ts';

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;

/** A mistake in how the command was called; printed with a pointer to --help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
  }
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const GLOBAL_OPTIONS = {
  store: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec {
  /** e.g. "runs search" */
  name: string;
  usage: string;
  summary: string;
  /** Lines describing options and examples, shown by --help. */
  details?: string;
  options: OptionSpec;
  run(ctx: CommandContext): Promise<number>;
}

export class CommandContext {
  private tracking: Tracking | undefined;

  constructor(
    readonly spec: CommandSpec,
    readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>,
    readonly positionals: string[],
    readonly io: Io,
    readonly logger: Logger,
  ) {}

  get json(): boolean {
    return this.values.json === true;
  }

  usage(message: string): UsageError {
    return new UsageError(message, this.spec.name);
  }

  /** The positional at `index`, or a usage error naming it. */
  arg(index: number, name: string): string {
    const v = this.positionals[index];
    if (v === undefined) throw this.usage(`missing <${name}>`);
    return v;
  }

  str(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }

  bool(name: string): boolean {
    return this.values[name] === true;
  }

  list(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
  }

  /** An integer option, or a usage error naming it. */
  int(name: string): number | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw this.usage(`--${name} takes a whole number (got '${v}')`);
    return Number(v);
  }

  /** `key=value` pairs from a repeatable option. */
  pairs(name: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const item of this.list(name)) {
      const eq = item.indexOf('=');
      if (eq <= 0) throw this.usage(`--${name} takes key=value (got '${item}')`);
      out[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return out;
  }

  storeDir(): string {
    return resolveStoreDir(this.str('store'), this.io.env, this.io.cwd);
  }

  async open(): Promise<Tracking> {
    this.tracking ??= await Tracking.open({
      dir: this.storeDir(),
      logger: this.logger,
      watch: false,
      codeRoot: this.io.cwd,
    });
    return this.tracking;
  }

  async close(): Promise<void> {
    await this.tracking?.close();
  }

  print(value: unknown, human: () => string): void {
    this.io.out(this.json ? `${JSON.stringify(value, jsonReplacer, 2)}\n` : human());
  }
}

/** JSON has no NaN or Infinity; the CLI prints them as strings, as MLflow's REST API does. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/**
 * --store, then MLOPS_STORE, then the nearest `.mlops` folder in the working folder
 * or one of its parents (as git finds `.git`), else `./.mlops`.
 */
export function resolveStoreDir(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): string {
  if (flag) return path.resolve(cwd, flag);
  if (env.MLOPS_STORE) return path.resolve(cwd, env.MLOPS_STORE);
  let dir = path.resolve(cwd);
  for (;;) {
    const candidate = path.join(dir, '.mlops');
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.join(path.resolve(cwd), '.mlops');
}
