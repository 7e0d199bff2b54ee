// `mlops import <path>`: brings an MLflow mlruns/ folder or mlflow.db into the store,
// prints what was created, what was already there and what was skipped, and why.

import * as path from 'node:path';
import {
  IMPORT_COUNT_KEYS,
  ImportCancelledError,
  importMlflow,
} from '../../core/import/mlflowImport.ts';
import type { ImportCountKey, ImportReport } from '../../core/import/mlflowImport.ts';
import { MlflowSourceError } from '../../core/import/source.ts';
import type { CommandSpec } from '../context.ts';
import { EXIT_OK, EXIT_USAGE } from '../context.ts';
import { table } from '../format.ts';

const LABELS: Record<ImportCountKey, string> = {
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

export function formatImportReport(report: ImportReport): string {
  const what = report.format === 'mlruns' ? 'mlruns folder' : 'MLflow database';
  let out = `Imported the ${what} ${report.source}\n\n`;
  out += table(
    ['', 'CREATED', 'ALREADY PRESENT'],
    IMPORT_COUNT_KEYS.map((k) => [
      LABELS[k],
      String(report.counts[k].created),
      String(report.counts[k].present),
    ]),
  );
  if (report.skipped.length > 0) {
    out += `\nSkipped (${report.skipped.length}):\n`;
    for (const s of report.skipped) out += `  ${s.item}: ${s.reason}\n`;
  }
  if (report.notes.length > 0) {
    out += '\nNotes:\n';
    for (const n of report.notes) out += `  ${n}\n`;
  }
  return out;
}

export const importCommand: CommandSpec = {
  name: 'import',
  usage: 'mlops import <path> [--json]',
  summary:
    'Import an MLflow mlruns/ folder or mlflow.db: experiments, runs, metrics, artifacts and registered models.',
  details:
    '  <path>   an mlruns/ folder, an mlflow.db file, a folder holding either, or a tracking\n' +
    '           URI (file:///.../mlruns, sqlite:///mlflow.db)\n' +
    '  --json   print the report as JSON\n\n' +
    'Importing again adds only what is new: runs are matched by their MLflow run id, model\n' +
    'versions by their MLflow version number. Items that cannot be imported are listed with\n' +
    'the reason; the rest is imported. Ctrl+C stops after the current item; what was imported\n' +
    'stays, and running the import again continues.',
  options: {},
  async run(ctx) {
    const arg = ctx.arg(0, 'path');
    if (ctx.positionals.length > 1) throw ctx.usage('give one path to import');
    // Tracking URIs are taken as they are; a plain path is relative to the working folder.
    const source = /^(file|sqlite):/i.test(arg) ? arg : path.resolve(ctx.io.cwd, arg);
    const t = await ctx.open();
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    let lastShown = 0;
    let report: ImportReport;
    try {
      report = await importMlflow(t, source, {
        signal: abort.signal,
        onProgress: (done, total, what) => {
          // A line per tenth, not per run: CI logs stay readable.
          if (done === total || done - lastShown >= Math.max(1, Math.ceil(total / 10))) {
            lastShown = done;
            ctx.io.err(`[import] ${done}/${total} ${what}\n`);
          }
        },
      });
    } catch (e) {
      if (e instanceof MlflowSourceError) {
        ctx.io.err(`mlops import: ${e.message}\n`);
        return EXIT_USAGE;
      }
      if (e instanceof ImportCancelledError) {
        ctx.io.err(`mlops import: ${e.message}\n`);
        ctx.print(e.report, () => formatImportReport(e.report));
        return EXIT_USAGE;
      }
      throw e;
    } finally {
      process.removeListener('SIGINT', onSignal);
    }
    ctx.print(report, () => formatImportReport(report));
    return EXIT_OK;
  },
};
