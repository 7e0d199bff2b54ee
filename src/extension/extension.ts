// Extension entry point. Activation stays cheap: sql.js loads on the first command
// that needs the store, and a failure in activate is shown rather than swallowed.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { Tracking } from '../core/tracking/tracking.ts';
import { setSqlWasmPath } from '../core/store/sqlite.ts';
import { COMMAND_IDS } from './commandIds.ts';

function storeDir(): string | undefined {
  const configured = vscode.workspace.getConfiguration('mlops').get<string>('storePath');
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (configured) return path.resolve(root ?? '', configured);
  return root ? path.join(root, '.mlops') : undefined;
}

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('MLOps Workbench', { log: true });
  context.subscriptions.push(log);
  try {
    setSqlWasmPath(path.join(context.extensionPath, 'dist', 'sql-wasm.wasm'));
    context.subscriptions.push(
      vscode.commands.registerCommand(COMMAND_IDS.showStoreSummary, async () => {
        const dir = storeDir();
        if (!dir) {
          void vscode.window.showWarningMessage('MLOps Workbench: open a folder to use its store.');
          return;
        }
        try {
          const tracking = await Tracking.open({
            dir,
            readOnly: !vscode.workspace.isTrusted,
            watch: false,
            logger: log,
          });
          try {
            const c = tracking.store.reader.counts();
            void vscode.window.showInformationMessage(
              `MLOps store ${dir}: ${c.experiments} experiments, ${c.runs} runs, ${c.metricPoints} metric points.`,
            );
          } finally {
            await tracking.close();
          }
        } catch (e) {
          log.error(e as Error);
          void vscode.window.showErrorMessage(`MLOps Workbench: ${(e as Error).message}`);
        }
      }),
    );
    log.info(`[extension] activated in ${Math.round(performance.now() - started)} ms`);
  } catch (e) {
    log.error(e as Error);
    void vscode.window.showErrorMessage(`MLOps Workbench failed to start: ${(e as Error).message}`);
  }
}

export function deactivate(): void {}
