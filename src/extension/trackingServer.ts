// The MLflow-compatible endpoint inside VS Code: started in trusted workspaces (unless
// `mlops.server.enabled` is off) on 127.0.0.1, its port in the status bar, and its URI
// (and token, when one is set) given to the integrated terminals through the
// environment variable collection, so `python train.py` in a terminal logs here with
// no change to the script. The HTTP listener starts at once; the store opens on the
// first request.

import * as vscode from 'vscode';
import { startMlflowServer } from '../server/mlflowServer.ts';
import type { MlflowServer } from '../server/mlflowServer.ts';
import { COMMAND_IDS } from './commandIds.ts';
import { UserError } from './commands/register.ts';
import type { WorkspaceStore } from './workspaceStore.ts';

const SECTION = 'mlops.server';

export class TrackingServerController implements vscode.Disposable {
  private server: MlflowServer | undefined;
  private token: string | undefined;
  private why = '';
  private readonly status: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  /** Serialises start / stop, which settings and trust changes can ask for together. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: WorkspaceStore,
    private readonly env: vscode.EnvironmentVariableCollection,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.status = vscode.window.createStatusBarItem('mlops.server', vscode.StatusBarAlignment.Left);
    this.status.name = 'MLOps Workbench: MLflow tracking server';
    this.status.command = COMMAND_IDS.copyTrackingUri;
    this.disposables.push(
      this.status,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SECTION)) this.restart('settings changed');
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.restart('workspace trusted')),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.restart('workspace folders changed')),
    );
    this.restart('activation');
  }

  /** The running server's URL, if any (for tests and the store summary). */
  get url(): string | undefined {
    return this.server?.url;
  }

  private restart(reason: string): void {
    this.queue = this.queue.then(async () => {
      await this.stop();
      await this.start(reason);
    });
  }

  private async start(reason: string): Promise<void> {
    const config = vscode.workspace.getConfiguration(SECTION);
    if (!vscode.workspace.isTrusted) return this.off('the workspace is not trusted');
    if (!config.get<boolean>('enabled', true)) return this.off('mlops.server.enabled is off');
    if (!vscode.workspace.workspaceFolders?.length) return this.off('no folder is open');
    const port = config.get<number>('port', 5000);
    const token = config.get<string>('token', '').trim() || process.env.MLOPS_TOKEN || undefined;
    try {
      this.server = await startMlflowServer({
        tracking: () => this.store.get(),
        port,
        portFallback: true,
        token,
        logger: this.log,
      });
    } catch (e) {
      this.log.error(e as Error);
      this.why = `did not start: ${(e as Error).message}`;
      this.env.clear();
      this.show('$(warning) MLflow: off', `The MLflow-compatible server ${this.why}`);
      return;
    }
    this.token = token;
    const url = this.server.url;
    this.env.replace('MLFLOW_TRACKING_URI', url);
    // OpenTelemetry SDKs in terminals export their traces here too (OTLP/HTTP, protobuf).
    this.env.replace('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', `${url}/v1/traces`);
    this.env.replace('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'http/protobuf');
    if (token) {
      this.env.replace('MLFLOW_TRACKING_TOKEN', token);
      this.env.replace(
        'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
        `Authorization=${encodeURIComponent(`Bearer ${token}`)}`,
      );
    } else {
      this.env.delete('MLFLOW_TRACKING_TOKEN');
      this.env.delete('OTEL_EXPORTER_OTLP_TRACES_HEADERS');
    }
    this.log.info(
      `[server] ${reason}: MLflow-compatible server on ${url}${this.server.port !== port ? ` (port ${port} was taken)` : ''}${token ? ' with a token' : ''}`,
    );
    this.show(
      `$(radio-tower) MLflow :${this.server.port}`,
      `MLflow-compatible tracking server on ${url}${this.server.port !== port ? ` (port ${port} was taken)` : ''}. Integrated terminals get MLFLOW_TRACKING_URI${token ? ' and MLFLOW_TRACKING_TOKEN' : ''}, and OTEL_EXPORTER_OTLP_TRACES_ENDPOINT for OpenTelemetry traces. Click to copy the URI.`,
    );
  }

  private off(why: string): void {
    this.why = why;
    this.env.clear();
    this.status.hide();
    this.log.info(`[server] not started: ${why}`);
  }

  private show(text: string, tooltip: string): void {
    this.status.text = text;
    this.status.tooltip = tooltip;
    this.status.show();
  }

  private async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.token = undefined;
    if (server) await server.close();
  }

  /** "Copy MLflow Tracking URI" (the status bar item's click). */
  async copyUri(): Promise<void> {
    await this.queue;
    if (!this.server) {
      throw new UserError(
        `The MLflow-compatible server is not running: ${this.why || 'it has not started'}.`,
      );
    }
    await vscode.env.clipboard.writeText(this.server.url);
    void vscode.window.showInformationMessage(
      `Copied ${this.server.url}. Set MLFLOW_TRACKING_URI to it${this.token ? ' (and MLFLOW_TRACKING_TOKEN to the token in mlops.server.token)' : ''} to log MLflow runs here from outside VS Code.`,
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    void this.queue.then(() => this.stop());
  }
}
