// Store commands: summary, log, and demo data for an empty store.

import * as vscode from 'vscode';
import { createDemoData } from '../../core/tracking/demoData.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import type { CommandContext } from './context.ts';
import { writableStore } from './context.ts';
import { registerCommand } from './register.ts';

export function registerStoreCommands(ctx: CommandContext): vscode.Disposable[] {
  const { log, store } = ctx;
  return [
    registerCommand(COMMAND_IDS.showLog, log, () => log.show()),
    registerCommand(COMMAND_IDS.showStoreSummary, log, async () => {
      const t = await store.get();
      const c = t.store.reader.counts();
      void vscode.window.showInformationMessage(
        `MLOps store ${t.store.dir}: ${c.experiments} experiments, ${c.runs} runs, ${c.metricPoints} metric points${store.readOnly ? ' (read-only)' : ''}.`,
      );
    }),
    registerCommand(COMMAND_IDS.createDemoData, log, async () => {
      const t = await writableStore(ctx);
      await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'Creating MLOps demo data',
          cancellable: true,
        },
        async (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          let last = 0;
          await createDemoData(t, {
            signal: abort.signal,
            onProgress: (message, fraction) => {
              progress.report({ message, increment: (fraction - last) * 100 });
              last = fraction;
            },
          });
        },
      );
      log.info('[command] created demo data (experiment demo-sweep)');
    }),
  ];
}
