// MLflow commands: copy the local endpoint's URI (also the status bar item's click), and
// "Import MLflow Runs..." from an `mlruns/` folder or an `mlflow.db` file, with
// cancellable progress and a report of what was imported, found already, or skipped.

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  IMPORT_COUNT_KEYS,
  ImportCancelledError,
  importMlflow,
} from '../../core/import/mlflowImport.ts';
import type { ImportCountKey, ImportReport } from '../../core/import/mlflowImport.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import type { TrackingServerController } from '../trackingServer.ts';
import type { CommandContext } from './context.ts';
import { writableStore } from './context.ts';
import { registerCommand } from './register.ts';

const COUNT_LABELS: Record<ImportCountKey, string> = {
  experiments: 'experiments',
  runs: 'runs',
  params: 'params',
  metricPoints: 'metric points',
  tags: 'tags',
  artifactFiles: 'artifact files',
  models: 'registered models',
  versions: 'model versions',
  aliases: 'aliases',
};

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The import report as a Markdown document. */
export function importMarkdown(report: ImportReport, cancelled: boolean): string {
  const lines = [
    `# MLflow import: ${report.source}`,
    '',
    `Format: ${report.format}.${cancelled ? ' **Cancelled**: what is below was imported; importing again continues.' : ''}`,
    '',
    '| | imported | already in the store |',
    '| --- | ---: | ---: |',
    ...IMPORT_COUNT_KEYS.map(
      (k) => `| ${COUNT_LABELS[k]} | ${report.counts[k].created} | ${report.counts[k].present} |`,
    ),
  ];
  if (report.notes.length) {
    lines.push('', `## Imported differently (${report.notes.length})`, '');
    for (const n of report.notes) lines.push(`- ${n}`);
  }
  lines.push('', `## Skipped (${report.skipped.length})`, '');
  if (report.skipped.length === 0) lines.push('Nothing.');
  else {
    lines.push('| item | why |', '| --- | --- |');
    for (const s of report.skipped) lines.push(`| ${cell(s.item)} | ${cell(s.reason)} |`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerServerCommands(
  server: TrackingServerController,
  ctx: CommandContext,
): vscode.Disposable[] {
  const { log } = ctx;
  const importRuns = async (arg?: unknown): Promise<void> => {
    let source = arg instanceof vscode.Uri ? arg.fsPath : undefined;
    if (!source) {
      const picked = await vscode.window.showOpenDialog({
        title: 'Import MLflow runs from an mlruns folder or an mlflow.db file',
        openLabel: 'Import',
        canSelectFiles: true,
        canSelectFolders: true,
        canSelectMany: false,
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      source = picked?.[0]?.fsPath;
    }
    if (!source) return;
    const t = await writableStore(ctx);
    const label = path.basename(source);
    let report: ImportReport;
    let cancelled = false;
    try {
      report = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Importing MLflow data from ${label}`,
          cancellable: true,
        },
        (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          let last = 0;
          return importMlflow(t, source, {
            signal: abort.signal,
            onProgress: (done, total, what) => {
              const pct = total ? (done / total) * 100 : 0;
              progress.report({ message: `${done} of ${total}: ${what}`, increment: pct - last });
              last = pct;
            },
          });
        },
      );
    } catch (e) {
      if (!(e instanceof ImportCancelledError)) throw e;
      report = e.report;
      cancelled = true;
    }
    log.info(
      `[import] ${report.source}: ${report.counts.runs.created} runs imported, ${report.counts.runs.present} already there, ${report.skipped.length} skipped${cancelled ? ' (cancelled)' : ''}`,
    );
    const summary =
      `${cancelled ? 'Import cancelled' : 'Imported'} from ${label}: ` +
      `${report.counts.runs.created} runs, ${report.counts.metricPoints.created} metric points, ` +
      `${report.counts.versions.created} model versions` +
      (report.counts.runs.present
        ? `; ${report.counts.runs.present} runs were there already`
        : '') +
      (report.skipped.length ? `; ${report.skipped.length} items skipped` : '') +
      '.';
    const show = (
      report.skipped.length
        ? vscode.window.showWarningMessage
        : vscode.window.showInformationMessage
    )(summary, 'Show Report');
    void show.then(async (c) => {
      if (c !== 'Show Report') return;
      const doc = await vscode.workspace.openTextDocument({
        language: 'markdown',
        content: importMarkdown(report, cancelled),
      });
      await vscode.window.showTextDocument(doc, { preview: false });
    });
  };
  return [
    registerCommand(COMMAND_IDS.copyTrackingUri, log, () => server.copyUri()),
    registerCommand(COMMAND_IDS.importMlflow, log, importRuns),
  ];
}
