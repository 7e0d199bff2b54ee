// The workspace's store as the extension sees it: where it is (setting, else
// `.mlops` in the first folder), opened on first use, read-only until the
// workspace is trusted, reopened when the setting or trust changes. Raises one
// debounced change event for writes by this or any other process.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StoreChange } from '../core/store/mutations.ts';
import { Tracking } from '../core/tracking/tracking.ts';
import { Disposable } from './disposable.ts';

export type StoreState = 'noFolder' | 'loading' | 'empty' | 'ready' | 'error';

/** What a view or document says while the store's folder does not exist yet. */
export const NO_STORE =
  "There is no MLOps store here yet: its folder (the mlops.storePath setting, default '.mlops') does not exist. The first run logged creates it.";

export class WorkspaceStore extends Disposable {
  private opening: Promise<Tracking> | undefined;
  private tracking: Tracking | undefined;
  private storeListener: { dispose(): void } | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private pending: StoreChange | undefined;
  private readonly changed = this.register(new vscode.EventEmitter<StoreChange | undefined>());
  private _state: StoreState = 'loading';
  private _error: Error | undefined;
  private folderPoll: NodeJS.Timeout | undefined;

  /** Fires (at most every 100 ms) after the store changed; undefined = reloaded. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('mlops.storePath'))
          void this.reopen('the mlops.storePath setting changed');
      }),
    );
    this.register(
      vscode.workspace.onDidGrantWorkspaceTrust(
        () => void this.reopen('the workspace is now trusted'),
      ),
    );
    this.register(
      vscode.workspace.onDidChangeWorkspaceFolders(
        () => void this.reopen('the workspace folders changed'),
      ),
    );
    this.register({ dispose: () => void this.close() });
    this.register({ dispose: () => clearInterval(this.folderPoll) });
  }

  get state(): StoreState {
    return this._state;
  }

  get error(): Error | undefined {
    return this._error;
  }

  get readOnly(): boolean {
    return !vscode.workspace.isTrusted;
  }

  /** The store folder, or undefined without a workspace folder. */
  get dir(): string | undefined {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const configured = vscode.workspace.getConfiguration('mlops').get<string>('storePath')?.trim();
    if (configured) return path.resolve(root ?? '', configured);
    return root ? path.join(root, '.mlops') : undefined;
  }

  /** The open store; opens it on first use. Throws what opening threw. */
  get(): Promise<Tracking> {
    if (this.tracking) return Promise.resolve(this.tracking);
    this.opening ??= this.open().finally(() => (this.opening = undefined));
    return this.opening;
  }

  /**
   * The store, or undefined while its folder does not exist: there is nothing to read,
   * so sql.js is not even loaded. The folder is then checked twice a second, and the
   * store opens (and the views refresh) as soon as a first run creates it.
   */
  async getIfExists(): Promise<Tracking | undefined> {
    const dir = this.dir;
    if (this.tracking || this.opening || !dir || fs.existsSync(dir)) return this.get();
    this.setState('empty');
    if (!this.folderPoll) {
      const poll = setInterval(() => {
        if (!fs.existsSync(dir)) return;
        clearInterval(poll);
        this.folderPoll = undefined;
        void this.get().then(
          () => this.changed.fire(undefined),
          () => this.changed.fire(undefined),
        );
      }, 500);
      this.folderPoll = poll;
    }
    return undefined;
  }

  /** The store if it is open already (for synchronous tree reads). */
  get current(): Tracking | undefined {
    return this.tracking;
  }

  private async open(): Promise<Tracking> {
    const dir = this.dir;
    if (!dir) {
      this.setState('noFolder');
      throw new Error('Open a folder to use its MLOps store.');
    }
    const started = performance.now();
    try {
      const tracking = await Tracking.open({
        dir,
        readOnly: this.readOnly,
        logger: this.log,
        codeRoot: path.dirname(dir),
      });
      this.tracking = tracking;
      this._error = undefined;
      this.storeListener = tracking.onDidChange((change) => this.queue(change));
      this.updateEmptiness();
      this.log.info(
        `[extension] store ${dir} open${this.readOnly ? ' read-only (untrusted workspace)' : ''} in ${Math.round(performance.now() - started)} ms`,
      );
      return tracking;
    } catch (e) {
      this._error = e as Error;
      this.log.error(e as Error);
      this.setState('error');
      throw e;
    }
  }

  /** Runs after every change event: a cheap query, not the totals (which count every point). */
  private updateEmptiness(): void {
    const t = this.tracking;
    if (!t) return;
    this.setState(t.store.reader.isEmpty() ? 'empty' : 'ready');
  }

  private setState(state: StoreState): void {
    this._state = state;
    void vscode.commands.executeCommand('setContext', 'mlops.storeState', state);
  }

  private queue(change: StoreChange): void {
    const p = (this.pending ??= {
      experiments: false,
      registry: false,
      runs: new Set(),
      metrics: new Set(),
      traces: new Set(),
      external: true,
    });
    p.experiments ||= change.experiments;
    p.registry ||= change.registry;
    p.external &&= change.external;
    for (const r of change.runs) p.runs.add(r);
    for (const r of change.metrics) p.metrics.add(r);
    for (const t of change.traces) p.traces.add(t);
    this.debounce ??= setTimeout(() => {
      this.debounce = undefined;
      const c = this.pending;
      this.pending = undefined;
      this.updateEmptiness();
      this.changed.fire(c);
    }, 100);
  }

  async reopen(reason: string): Promise<void> {
    this.log.info(`[extension] reopening the store: ${reason}`);
    await this.close();
    try {
      // As on first use: a folder that does not exist yet is watched for, not created.
      await this.getIfExists();
    } catch {
      // state and error are set; the views show them
    }
    this.changed.fire(undefined);
  }

  private async close(): Promise<void> {
    clearInterval(this.folderPoll);
    this.folderPoll = undefined;
    const t = this.tracking;
    this.tracking = undefined;
    this.storeListener?.dispose();
    this.storeListener = undefined;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = undefined;
    await t?.close();
  }
}
