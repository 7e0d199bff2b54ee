// Code criteria: a JavaScript or TypeScript function from the workspace grades each output.
// It runs in worker threads, never in the caller's thread, under a time and a memory limit,
// and only in a trusted workspace.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ValidationError } from '../model/errors.ts';
import type { GradeResult } from './graders.ts';
import type { Criterion, EvalCase } from './suite.ts';

export type CodeCriterion = Extract<Criterion, { type: 'code' }>;

/** What the user's function receives, as its one argument. */
export interface CodeGradeInput {
  output: string;
  case: EvalCase;
  vars: Record<string, unknown>;
}

export interface CodeGraderOptions {
  /** How many grades the caller runs at once (default 4); the pool has at most MAX_CODE_WORKERS. */
  concurrency?: number;
  /** The old-generation heap limit of each worker, in MB (default 256). */
  memoryLimitMb?: number;
  /** How long loading the file may take (default: the call timeout, at least 10 s). */
  loadTimeoutMs?: number;
}

export interface CodeGrader {
  /**
   * The raw verdict of the user's function (`not` and `weight` are the runner's). Never
   * rejects for what the user's code does: a throw, a timeout, a wrong return value or a
   * crashed worker is a failing verdict whose reason says so.
   */
  grade(input: CodeGradeInput): Promise<GradeResult>;
  /** Fails the grades still waiting and terminates the workers. */
  close(): Promise<void>;
}

export const DEFAULT_CODE_TIMEOUT_MS = 5000;

/** Workers per grader: each serves one call at a time, so a timeout kills only its own call. */
export const MAX_CODE_WORKERS = 4;

const DEFAULT_MEMORY_LIMIT_MB = 256;

// Loading may import a few node modules: allow it more than one call, but not forever (a
// top-level endless loop must still fail the run instead of hanging it).
const MIN_LOAD_TIMEOUT_MS = 10_000;

const EXPECTED_SHAPE =
  'expected true or false, a number from 0 to 1, or { pass: boolean, score?: number, reason?: string }';

/** Reasons quote at most this many characters of a returned value. */
const PREVIEW_CHARS = 80;

/** A reason given by the user's function is kept up to this many characters. */
const REASON_CHARS = 1000;

/**
 * Refuses code criteria in an untrusted workspace, before anything runs: they execute
 * workspace code with the extension's rights.
 */
export function assertCodeGradersAllowed(criteria: readonly Criterion[], trusted: boolean): void {
  if (trusted) return;
  const names = criteria.filter((c) => c.type === 'code').map((c) => `"${c.name}"`);
  if (names.length === 0) return;
  const which = names.length === 1 ? `criterion ${names[0]}` : `criteria ${names.join(', ')}`;
  throw new ValidationError(
    `code graders run workspace code; they run only in a trusted workspace. Trust the workspace ` +
      `(Workspaces: Manage Workspace Trust) or remove the code ${which} from the suite.`,
  );
}

/**
 * Loads the criterion's file in a worker and checks that it exports a function, so that a
 * missing file, a syntax error or a wrong export name fails with a ValidationError before
 * any case runs. `suiteFile` is the suite's path: `criterion.file` is relative to it.
 */
export async function createCodeGrader(
  criterion: CodeCriterion,
  suiteFile: string,
  options: CodeGraderOptions = {},
): Promise<CodeGrader> {
  const setup = await prepare(criterion, suiteFile);
  const pool = new WorkerPool(criterion, setup, options);
  const problem = await pool.open();
  if (problem !== null) {
    await pool.close();
    throw new ValidationError(`criterion "${criterion.name}": ${problem}`);
  }
  return pool;
}

// ---- loading -----------------------------------------------------------------------

/** How the worker loads the file: import(), require, or transpiled TypeScript run as CommonJS. */
type ModuleKind = 'esm' | 'cjs' | 'transpiled';

interface WorkerSetup {
  file: string;
  kind: ModuleKind;
  /** The CommonJS that sucrase made of a TypeScript file. */
  code?: string;
  exportName?: string;
}

const KINDS: Record<string, ModuleKind> = {
  '.js': 'esm',
  '.mjs': 'esm',
  '.cjs': 'cjs',
  '.ts': 'transpiled',
  '.mts': 'transpiled',
  '.cts': 'transpiled',
};

async function prepare(criterion: CodeCriterion, suiteFile: string): Promise<WorkerSetup> {
  const file = path.resolve(path.dirname(suiteFile), criterion.file);
  const refuse = (problem: string): never => {
    throw new ValidationError(`criterion "${criterion.name}": ${problem}`);
  };
  const kind = KINDS[path.extname(file).toLowerCase()];
  if (!kind) {
    refuse(
      `${criterion.file} is not a JavaScript or TypeScript file: a code grader's "file" must end ` +
        `in ${Object.keys(KINDS).join(', ')}.`,
    );
  }
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    refuse(
      `the grader file ${criterion.file} does not exist (looked for ${file}; "file" is relative ` +
        `to the suite file). Create it or fix "file".`,
    );
  }
  if (!stat!.isFile()) refuse(`${criterion.file} is not a file (${file}). Point "file" at a file.`);
  const setup: WorkerSetup = { file, kind: kind!, exportName: criterion.function };
  if (kind === 'transpiled') {
    const source = fs.readFileSync(file, 'utf8');
    // sucrase is loaded on first use: most suites have no TypeScript grader.
    const { transform } = await import('sucrase');
    try {
      // Modern syntax stays as written: the worker's Node runs it as it is.
      setup.code = transform(source, {
        transforms: ['typescript', 'imports'],
        filePath: file,
        disableESTransforms: true,
      }).code;
    } catch (e) {
      const s = sucraseSyntaxError(e);
      if (!s) throw e;
      refuse(
        `${criterion.file}:${s.line}:${s.column} has a syntax error: ${s.message}. Fix it, then ` +
          `run the suite again.`,
      );
    }
  }
  return setup;
}

/** Sucrase's syntax errors read "Error transforming <file>: Unexpected token (3:5)". */
function sucraseSyntaxError(e: unknown): { line: number; column: number; message: string } | null {
  const loc = (e as { loc?: { line?: unknown; column?: unknown } }).loc;
  if (!(e instanceof Error) || typeof loc?.line !== 'number' || typeof loc.column !== 'number')
    return null;
  const message = e.message.replace(/^Error transforming [^:]*: /, '').replace(/ \(\d+:\d+\)$/, '');
  return { line: loc.line, column: loc.column, message };
}

/**
 * Where a syntax error in a JavaScript file is. Node's ES module loader does not put it in
 * the error (it prints it only when the error is uncaught), so the file is parsed again.
 */
async function syntaxErrorPlace(file: string): Promise<string | undefined> {
  try {
    const source = fs.readFileSync(file, 'utf8');
    const { transform } = await import('sucrase');
    transform(source, { transforms: ['imports'], filePath: file, disableESTransforms: true });
  } catch (e) {
    const s = sucraseSyntaxError(e);
    if (s) return `${s.line}:${s.column}`;
  }
  // Sucrase is lenient and accepts some code that V8 refuses.
  return undefined;
}

// ---- the worker ----------------------------------------------------------------------

interface ErrorInfo {
  name: string;
  message: string;
  stack: string;
  code?: string;
}

type FromWorker =
  | { type: 'ready' }
  | { type: 'load-error'; error: ErrorInfo }
  | { type: 'not-a-function'; found: string; exports: string[] }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'unclonable'; id: number; shown: string }
  | { type: 'threw'; id: number; error: ErrorInfo };

// The extension is bundled into one file, so the worker's code travels as a string
// (`eval: true`). It is plain CommonJS for the host's Node: it is not compiled or bundled.
// TypeScript arrives already transpiled (sucrase lives in the bundle, not in the worker).
const WORKER_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const { pathToFileURL } = require('node:url');
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const vm = require('node:vm');

const { file, kind, code, exportName } = workerData;

function errorInfo(e) {
  if (util.types.isNativeError(e) || (e && typeof e.message === 'string')) {
    return {
      name: String(e.name || 'Error'),
      message: String(e.message),
      stack: String(e.stack || ''),
      code: typeof e.code === 'string' ? e.code : undefined,
    };
  }
  const message = typeof e === 'string' ? e : util.inspect(e, { depth: 2, breakLength: Infinity });
  return { name: 'Error', message, stack: '' };
}

function typeScriptImport(id) {
  const e = new Error(
    'it imports ' + id + ', a TypeScript file: a TypeScript grader can import node modules and ' +
      'JavaScript files, not other TypeScript files. Move that code into the grader file or ' +
      'write it as JavaScript.',
  );
  e.code = 'ERR_CODE_GRADER_TS_IMPORT';
  return e;
}

// The transpiled file's require: Node's own, except that a TypeScript file is refused
// with a clear error instead of a syntax error or "Cannot find module".
function guardedRequire() {
  const req = createRequire(file);
  const dir = path.dirname(file);
  function guarded(id) {
    if (typeof id === 'string' && /\.[cm]?tsx?$/i.test(id)) throw typeScriptImport(id);
    try {
      return req(id);
    } catch (e) {
      const relative = typeof id === 'string' && (id.startsWith('.') || path.isAbsolute(id));
      if (e && e.code === 'MODULE_NOT_FOUND' && relative) {
        for (const ext of ['.ts', '.mts', '.cts', '/index.ts']) {
          if (fs.existsSync(path.resolve(dir, id + ext))) throw typeScriptImport(id + ext);
        }
      }
      throw e;
    }
  }
  guarded.resolve = req.resolve;
  guarded.cache = req.cache;
  guarded.main = req.main;
  guarded.extensions = req.extensions;
  return guarded;
}

async function load() {
  if (kind === 'esm') return import(pathToFileURL(file).href);
  if (kind === 'cjs') return createRequire(file)(file);
  const module = { exports: {}, id: file, filename: file, loaded: false, children: [], paths: [] };
  const options = { filename: file };
  const loader = vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (loader) options.importModuleDynamically = loader;
  const params = ['exports', 'require', 'module', '__filename', '__dirname'];
  const run = vm.compileFunction(code, params, options);
  run.call(module.exports, module.exports, guardedRequire(), module, file, path.dirname(file));
  module.loaded = true;
  return module.exports;
}

function isObject(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function');
}

// import() of a CommonJS file gives { default: module.exports, ...named }; a file compiled
// from ES modules to CommonJS marks module.exports with __esModule.
function pick(ns) {
  const esm = kind === 'esm';
  if (exportName) {
    if (!isObject(ns)) return undefined;
    if (ns[exportName] !== undefined) return ns[exportName];
    return esm && isObject(ns.default) ? ns.default[exportName] : undefined;
  }
  if (esm) {
    const d = ns.default;
    return isObject(d) && d.__esModule ? d.default : d;
  }
  return isObject(ns) && ns.__esModule ? ns.default : ns;
}

function exportNames(ns) {
  const names = new Set();
  const add = (o) => {
    if (isObject(o)) for (const k of Object.keys(o)) if (k !== '__esModule') names.add(k);
  };
  add(ns);
  if (kind === 'esm' && isObject(ns)) add(ns.default);
  return [...names];
}

async function call(grader, message) {
  let value;
  try {
    value = await grader(message.input);
  } catch (e) {
    parentPort.postMessage({ type: 'threw', id: message.id, error: errorInfo(e) });
    return;
  }
  try {
    parentPort.postMessage({ type: 'result', id: message.id, value });
  } catch {
    const shown = util.inspect(value, { depth: 2, breakLength: Infinity });
    parentPort.postMessage({ type: 'unclonable', id: message.id, shown });
  }
}

load().then(
  (ns) => {
    const grader = pick(ns);
    if (typeof grader !== 'function') {
      const found = grader === null ? 'null' : typeof grader;
      parentPort.postMessage({ type: 'not-a-function', found, exports: exportNames(ns) });
      return;
    }
    parentPort.on('message', (message) => void call(grader, message));
    parentPort.postMessage({ type: 'ready' });
  },
  (e) => parentPort.postMessage({ type: 'load-error', error: errorInfo(e) }),
);
`;

interface Job {
  input: CodeGradeInput;
  resolve: (result: GradeResult) => void;
}

interface Slot {
  worker: Worker;
  state: 'starting' | 'idle' | 'busy' | 'dead';
  /** While starting: settles the start with null (ready) or the problem. */
  started?: (problem: string | null) => void;
  /** While busy. */
  job?: Job & { id: number; timer: NodeJS.Timeout };
  /** The worker's 'error' event, kept for its 'exit' event. */
  crash?: Error;
}

/**
 * Up to `size` workers, each serving one call at a time; calls beyond that wait in a
 * queue. A worker that times out or dies is dropped and a fresh one started on demand.
 */
class WorkerPool implements CodeGrader {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly exiting = new Set<Promise<unknown>>();
  private readonly shown: string;
  private readonly timeoutMs: number;
  private readonly loadTimeoutMs: number;
  private readonly memoryLimitMb: number;
  private size: number;
  private nextId = 1;
  private closed = false;

  constructor(
    criterion: CodeCriterion,
    private readonly setup: WorkerSetup,
    options: CodeGraderOptions,
  ) {
    this.shown = criterion.file;
    this.timeoutMs = criterion.timeoutMs ?? DEFAULT_CODE_TIMEOUT_MS;
    this.loadTimeoutMs = options.loadTimeoutMs ?? Math.max(this.timeoutMs, MIN_LOAD_TIMEOUT_MS);
    this.memoryLimitMb = options.memoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB;
    this.size = Math.max(1, Math.min(Math.floor(options.concurrency ?? 4), MAX_CODE_WORKERS));
  }

  /** Starts the first worker: null when the file loaded and exports a function, else why not. */
  async open(): Promise<string | null> {
    const { slot, started } = this.start();
    const problem = await started;
    if (problem === null) this.idle(slot);
    return problem;
  }

  grade(input: CodeGradeInput): Promise<GradeResult> {
    if (this.closed) return Promise.reject(new Error(`the code grader of ${this.shown} is closed`));
    return new Promise((resolve) => {
      this.queue.push({ input, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const job of this.queue.splice(0)) {
        job.resolve(fail('the code grader was closed before it graded this case'));
      }
      for (const slot of [...this.slots]) {
        if (slot.job)
          this.finish(slot, fail('the code grader was closed while it graded this case'));
        slot.started?.('the code grader was closed');
        this.kill(slot);
      }
    }
    await Promise.all([...this.exiting]);
  }

  /** Hands waiting calls to idle workers, and starts workers while calls wait for one. */
  private pump(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.state === 'idle') this.dispatch(slot, this.queue.shift()!);
    }
    const starting = this.slots.filter((s) => s.state === 'starting').length;
    for (let n = this.queue.length - starting; n > 0 && this.slots.length < this.size; n--) {
      const { slot, started } = this.start();
      void started.then((problem) => this.afterStart(slot, problem));
    }
  }

  private afterStart(slot: Slot, problem: string | null): void {
    if (this.closed) return;
    if (problem === null) {
      this.idle(slot);
      this.pump();
      return;
    }
    // It loaded once, at creation; the file may have changed or broken since.
    this.kill(slot);
    if (this.slots.length > 0) {
      // The workers still alive serve the queue; stop trying to grow.
      this.size = Math.max(1, this.slots.length);
      return;
    }
    for (const job of this.queue.splice(0)) {
      job.resolve(fail(`the code grader could not be started again: ${problem}`));
    }
  }

  private start(): { slot: Slot; started: Promise<string | null> } {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: this.setup,
      // Not the caller's flags (a test runner's --import tsx, an --inspect port): the
      // worker runs the file as the host's Node would.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: this.memoryLimitMb },
    });
    const slot: Slot = { worker, state: 'starting' };
    this.slots.push(slot);
    const started = new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => {
        settle(
          `${this.shown} did not finish loading within ${this.loadTimeoutMs} ms: does it run a ` +
            `long task or an endless loop when it is loaded?`,
        );
        this.kill(slot);
      }, this.loadTimeoutMs);
      const settle = (problem: string | null): void => {
        clearTimeout(timer);
        slot.started = undefined;
        resolve(problem);
      };
      slot.started = settle;
    });
    worker.on('message', (m: FromWorker) => void this.onMessage(slot, m));
    worker.on('error', (e) => {
      slot.crash = e;
    });
    worker.on('exit', (code) => this.onExit(slot, code));
    return { slot, started };
  }

  private async onMessage(slot: Slot, m: FromWorker): Promise<void> {
    switch (m.type) {
      case 'ready':
        slot.started?.(null);
        return;
      case 'not-a-function':
        slot.started?.(this.notAFunction(m.found, m.exports));
        return;
      case 'load-error': {
        // Taken now: the worker exits (code 0) while the problem is being described, and
        // onExit must not settle the start with that exit instead.
        const settle = slot.started;
        slot.started = undefined;
        settle?.(await this.loadProblem(m.error));
        return;
      }
      case 'result':
      case 'unclonable':
      case 'threw': {
        if (!slot.job || slot.job.id !== m.id) return;
        const result =
          m.type === 'result'
            ? verdictOf(m.value)
            : m.type === 'unclonable'
              ? wrongShape(`${clip(m.shown)}, which cannot be passed back from the worker`)
              : fail(`the code grader threw: ${this.describeThrow(m.error)}`);
        this.finish(slot, result);
        this.idle(slot);
        this.pump();
        return;
      }
    }
  }

  private onExit(slot: Slot, code: number): void {
    const why = this.deathReason(slot, code);
    slot.started?.(`${this.shown} could not be loaded: ${why}`);
    if (slot.job) this.finish(slot, fail(`${why}; it was restarted for the next case`));
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.state = 'dead';
    this.pump();
  }

  private deathReason(slot: Slot, code: number): string {
    const crash = slot.crash as (Error & { code?: string }) | undefined;
    if (crash?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return `the code grader ran out of memory (its limit is ${this.memoryLimitMb} MB)`;
    }
    // An error thrown outside the call, e.g. in a timer the function started.
    if (crash) return `the code grader's worker crashed: ${firstLine(crash.message)}`;
    return `the code grader's worker exited with code ${code} (does the grader call process.exit?)`;
  }

  private dispatch(slot: Slot, job: Job): void {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.finish(slot, fail(`the code grader did not answer within ${this.timeoutMs} ms`));
      // Terminating is the only way to stop a function that never yields (while (true) {}).
      this.kill(slot);
      this.pump();
    }, this.timeoutMs);
    slot.state = 'busy';
    slot.job = { ...job, id, timer };
    slot.worker.ref();
    try {
      slot.worker.postMessage({ id, input: job.input });
    } catch (e) {
      this.finish(
        slot,
        fail(`the case cannot be sent to the code grader: ${(e as Error).message}`),
      );
      this.idle(slot);
    }
  }

  private finish(slot: Slot, result: GradeResult): void {
    const job = slot.job;
    if (!job) return;
    clearTimeout(job.timer);
    slot.job = undefined;
    job.resolve(result);
  }

  private idle(slot: Slot): void {
    slot.state = 'idle';
    // An idle worker must not keep the process alive; busy and starting ones do, so that
    // a CLI awaiting a grade does not exit under it.
    slot.worker.unref();
  }

  private kill(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.state = 'dead';
    const exited: Promise<unknown> = slot.worker.terminate().catch(() => undefined);
    this.exiting.add(exited);
    void exited.then(() => this.exiting.delete(exited));
  }

  private notAFunction(found: string, exports: string[]): string {
    const name = this.setup.exportName;
    const has = exports.length > 0 ? `it exports ${exports.join(', ')}` : 'it exports nothing';
    if (name === undefined) {
      return found === 'undefined'
        ? `${this.shown} has no default export (${has}). Export the grader function as the ` +
            `default export, or set "function" to its name.`
        : `the default export of ${this.shown} is ${article(found)}, not a function (${has}). ` +
            `Export the grader function as the default export, or set "function" to its name.`;
    }
    return found === 'undefined'
      ? `${this.shown} has no export named "${name}" (${has}). Set "function" to the name of ` +
          `an exported function, or export "${name}".`
      : `the export "${name}" of ${this.shown} is ${article(found)}, not a function. Set ` +
          `"function" to the name of an exported function.`;
  }

  private async loadProblem(error: ErrorInfo): Promise<string> {
    if (error.code === 'ERR_CODE_GRADER_TS_IMPORT') {
      return `${this.shown} could not be loaded: ${error.message}`;
    }
    if (error.name === 'SyntaxError') {
      const place =
        this.place(error.stack) ??
        (this.setup.kind === 'transpiled' ? undefined : await syntaxErrorPlace(this.setup.file));
      const where = place ? `${this.shown}:${place}` : this.shown;
      return `${where} has a syntax error: ${firstLine(error.message)}. Fix it, then run the suite again.`;
    }
    const place = this.place(error.stack);
    const at = place ? ` (at ${this.shown}:${place})` : '';
    return (
      `${this.shown} could not be loaded: ${error.name}: ${firstLine(error.message)}${at}. Fix ` +
      `the file, then run the suite again.`
    );
  }

  private describeThrow(error: ErrorInfo): string {
    const place = this.place(error.stack);
    const message = clip(firstLine(error.message), REASON_CHARS);
    return place ? `${message} (at ${this.shown}:${place})` : message;
  }

  /** "line" or "line:column" of the user's file in a stack, when it is there. */
  private place(stack: string): string | undefined {
    const file = this.setup.file;
    const names = [file, pathToFileURL(file).href];
    // A CommonJS syntax error's stack starts with "<file>:<line>".
    const head = stack.split('\n', 1)[0] ?? '';
    for (const n of names) {
      const m = head.startsWith(`${n}:`) ? /^(\d+)$/.exec(head.slice(n.length + 1)) : null;
      if (m) return m[1];
    }
    for (const line of stack.split('\n')) {
      for (const n of names) {
        const i = line.indexOf(`${n}:`);
        const m = i >= 0 ? /^(\d+):(\d+)/.exec(line.slice(i + n.length + 1)) : null;
        if (m) return `${m[1]}:${m[2]}`;
      }
    }
    return undefined;
  }
}

// ---- verdicts -------------------------------------------------------------------------

/** Reads what the user's function returned: a boolean, a 0..1 score or { pass, score?, reason? }. */
export function verdictOf(value: unknown): GradeResult {
  if (typeof value === 'boolean') {
    return { pass: value, score: value ? 1 : 0, reason: `the code grader returned ${value}` };
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return wrongShape(String(value));
    const score = clamp(value);
    const pass = score >= 0.5;
    return { pass, score, reason: `score ${round(value)} ${pass ? '>=' : '<'} 0.5` };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (typeof o.pass !== 'boolean')
      return wrongShape(preview(value), '"pass" must be true or false');
    if (o.score != null && (typeof o.score !== 'number' || !Number.isFinite(o.score))) {
      return wrongShape(preview(value), '"score" must be a number from 0 to 1');
    }
    if (o.reason != null && typeof o.reason !== 'string') {
      return wrongShape(preview(value), '"reason" must be a string');
    }
    const score = typeof o.score === 'number' ? clamp(o.score) : o.pass ? 1 : 0;
    const reason =
      typeof o.reason === 'string' && o.reason.trim() !== ''
        ? clip(o.reason, REASON_CHARS)
        : `the code grader returned pass: ${o.pass}${typeof o.score === 'number' ? `, score: ${round(o.score)}` : ''}`;
    return { pass: o.pass, score, reason };
  }
  const hint = value === undefined ? ' (does the function return its verdict?)' : '';
  return wrongShape(`${preview(value)}${hint}`);
}

function wrongShape(shown: string, problem?: string): GradeResult {
  const what = problem ? `: ${problem}` : '';
  return fail(`the code grader returned ${shown}${what}; ${EXPECTED_SHAPE}`);
}

function fail(reason: string): GradeResult {
  return { pass: false, score: 0, reason };
}

function clamp(n: number): number {
  return round(Math.min(1, Math.max(0, n)));
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function article(type: string): string {
  return type === 'null' || type === 'undefined'
    ? type
    : /^[aeiou]/.test(type)
      ? `an ${type}`
      : `a ${type}`;
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? '';
}

function clip(s: string, max = PREVIEW_CHARS): string {
  if (s.length <= max) return s;
  return `${Array.from(s.slice(0, max * 2))
    .slice(0, max - 1)
    .join('')}…`;
}

/** A returned value quoted for a reason: JSON where it can be, clipped. */
function preview(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  try {
    return clip(JSON.stringify(v) ?? String(v));
  } catch {
    return clip(String(v));
  }
}
