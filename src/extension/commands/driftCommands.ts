// Drift and feature commands: "Check Drift..." (a file against a reference file or a
// stored baseline), "Set as Baseline", the retraining hand-off, "Check Temporal
// Leakage" and "Point-in-Time Join...". Long reads show cancellable progress.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import * as vscode from 'vscode';
import {
  listBaselines,
  loadDriftReport,
  MONITORING_EXPERIMENT,
  recordDriftCheck,
  runDriftCheck,
  setBaseline,
  TRIGGER_TAG,
  VERDICT_TAG,
} from '../../core/drift/monitoring.ts';
import type { Progress as DriftProgress } from '../../core/drift/monitoring.ts';
import { readTable, tableToRecords } from '../../core/drift/readers.ts';
import type { Table } from '../../core/drift/readers.ts';
import { checkLeakage } from '../../core/features/leakage.ts';
import {
  featureTimestampPairs,
  leakageMarkdown,
  parseDuration,
  timestampCandidates,
} from '../../core/features/report.ts';
import { asOfJoin } from '../../core/features/pointInTime.ts';
import type { FeatureTableSpec } from '../../core/features/pointInTime.ts';
import type { Tracking } from '../../core/tracking/tracking.ts';
import { COMMAND_IDS } from '../commandIds.ts';
import { DriftPanel } from '../webviews/driftPanel.ts';
import type { DriftPanelDeps } from '../webviews/driftPanel.ts';
import type { CommandContext } from './context.ts';
import { writableStore } from './context.ts';
import { registerCommand, UserError } from './register.ts';

export const DATASET_FILE = /\.(csv|tsv|jsonl|ndjson|parquet)$/i;

function root(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** A path as the store records it: workspace-relative, forward slashes. */
function relLabel(file: string): string {
  const r = root();
  const rel = r ? path.relative(r, file) : file;
  return (rel.startsWith('..') ? file : rel).split(path.sep).join('/');
}

async function pickDataset(arg: unknown, title: string): Promise<string | undefined> {
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (uri?.scheme === 'file' && DATASET_FILE.test(uri.fsPath)) return uri.fsPath;
  const picked = await vscode.window.showOpenDialog({
    title,
    canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: { Datasets: ['csv', 'tsv', 'jsonl', 'ndjson', 'parquet'] },
  });
  return picked?.[0]?.fsPath;
}

function cancelled(e: unknown): boolean {
  return (e as Error)?.name === 'AbortError';
}

/** Runs `work` under a cancellable progress notification, feeding it an AbortSignal. */
async function withProgress<T>(
  title: string,
  work: (report: (p: DriftProgress) => void, signal: AbortSignal) => Promise<T>,
): Promise<T | undefined> {
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        let last = 0;
        try {
          return await work((p) => {
            const now = Math.round((p.fraction ?? 0) * 100);
            progress.report({ message: p.message, increment: Math.max(0, now - last) });
            last = Math.max(last, now);
          }, abort.signal);
        } finally {
          sub.dispose();
        }
      },
    );
  } catch (e) {
    if (cancelled(e)) {
      void vscode.window.showInformationMessage(`${title}: cancelled; nothing was recorded.`);
      return undefined;
    }
    throw e;
  }
}

export function registerDriftCommands(
  ctx: CommandContext,
  extensionUri: vscode.Uri,
): vscode.Disposable[] {
  const { log } = ctx;
  const deps: DriftPanelDeps = { store: ctx.store, log, extensionUri };

  const checkDrift = async (arg?: unknown): Promise<string | undefined> => {
    const current = await pickDataset(arg, 'The data to check for drift');
    if (!current) return undefined;
    const t = await writableStore(ctx);
    type RefItem = vscode.QuickPickItem & { baseline?: string; file?: boolean };
    const items: RefItem[] = listBaselines(t).map((b) => ({
      label: `$(database) ${b.name}`,
      description: `baseline · ${b.rows} rows`,
      detail: `${b.source} · set ${new Date(b.createdAt).toLocaleString()}`,
      baseline: b.name,
    }));
    items.push({ label: '$(file) Choose a reference file...', file: true });
    const choice =
      items.length === 1
        ? items[0]
        : await vscode.window.showQuickPick(items, {
            title: `Check drift of ${relLabel(current)} against`,
            placeHolder: 'A stored baseline, or a reference file',
          });
    if (!choice) return undefined;
    let reference: { baseline: string } | { file: string; label: string };
    if (choice.baseline) reference = { baseline: choice.baseline };
    else {
      const file = await pickDataset(
        undefined,
        'The reference data (what the model was trained on)',
      );
      if (!file) return undefined;
      if (file === current)
        throw new UserError('Pick a reference other than the file being checked.');
      reference = { file, label: relLabel(file) };
    }
    const settings = vscode.workspace.getConfiguration('mlops.drift');
    const report = await withProgress(`Drift check of ${relLabel(current)}`, (progress, signal) =>
      runDriftCheck(t, {
        reference,
        current: { file: current, label: relLabel(current) },
        options: {
          driftShare: settings.get<number>('driftShare'),
          bins: settings.get<number>('bins'),
        },
        signal,
        onProgress: progress,
      }),
    );
    if (!report) return undefined;
    const runId = await recordDriftCheck(t, report, {
      reference: 'file' in reference ? reference.file : undefined,
      current,
    });
    DriftPanel.show(deps, runId);
    log.info(
      `[drift] ${report.current.source}: ${report.driftedColumns}/${report.checkedColumns} columns drifted (${report.datasetVerdict}); run ${runId}`,
    );
    const summary = `${report.driftedColumns} of ${report.checkedColumns} columns drifted`;
    if (report.datasetVerdict === 'none') {
      void vscode.window.showInformationMessage(
        `No drift in ${report.current.source}: ${summary}.`,
      );
    } else {
      const what = report.datasetVerdict === 'drift' ? 'Drift found' : 'Possible drift';
      void vscode.window
        .showWarningMessage(
          `${what} in ${report.current.source}: ${summary}.`,
          'Retrain',
          'Open Report',
        )
        .then((c) => {
          if (c === 'Retrain') void vscode.commands.executeCommand(COMMAND_IDS.retrain, runId);
          if (c === 'Open Report') DriftPanel.show(deps, runId);
        });
    }
    return runId;
  };

  const retrain = async (driftRunId?: unknown): Promise<void> => {
    const t = await writableStore(ctx);
    const runId = typeof driftRunId === 'string' ? driftRunId : await pickDriftRun(t);
    if (!runId) return;
    loadDriftReport(t, runId); // fails clearly when the run is not a drift check
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new UserError('Open a folder to retrain in.');
    const command = vscode.workspace
      .getConfiguration('mlops.retrain')
      .get<string>('command')
      ?.trim();
    const env = {
      MLOPS_DRIFT_RUN: runId,
      MLOPS_DRIFT_REPORT: t.artifactPath(runId, 'drift/report.json'),
    };
    let task: vscode.Task | undefined;
    if (command) {
      task = new vscode.Task(
        { type: 'mlops', task: 'retrain' },
        folder,
        'retrain',
        'mlops',
        new vscode.ShellExecution(command, { cwd: folder.uri.fsPath, env }),
      );
    } else {
      const tasks = await vscode.tasks.fetchTasks();
      task = tasks.find((x) => x.name === 'mlops: retrain');
    }
    if (!task) {
      const c = await vscode.window.showWarningMessage(
        'No retraining is set up: set "mlops.retrain.command" (for example "python train.py") or add a task labelled "mlops: retrain" to .vscode/tasks.json.',
        'Open Settings',
        'Configure Tasks',
      );
      if (c === 'Open Settings') {
        void vscode.commands.executeCommand(
          'workbench.action.openSettings',
          'mlops.retrain.command',
        );
      }
      if (c === 'Configure Tasks')
        void vscode.commands.executeCommand('workbench.action.tasks.configureTaskRunner');
      return;
    }
    const started = Date.now();
    const execution = await vscode.tasks.executeTask(task);
    log.info(`[drift] retrain started for drift run ${runId}: ${command ?? task.name}`);
    const exitCode = await new Promise<number | undefined>((resolve) => {
      const sub = vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution !== execution) return;
        sub.dispose();
        resolve(e.exitCode);
      });
    });
    const tagged = await tagRetrainRuns(t, runId, started, Date.now());
    const msg = `Retrain ${exitCode === 0 ? 'finished' : `ended with exit code ${exitCode ?? 'unknown'}`}; ${tagged} run${tagged === 1 ? '' : 's'} tagged ${TRIGGER_TAG}=${runId.slice(0, 8)}.`;
    if (exitCode === 0) void vscode.window.showInformationMessage(msg);
    else void vscode.window.showWarningMessage(msg);
  };

  const setAsBaseline = async (arg?: unknown): Promise<void> => {
    const file = await pickDataset(arg, 'The dataset to keep as a baseline');
    if (!file) return;
    const t = await writableStore(ctx);
    const label = relLabel(file);
    const name = await vscode.window.showInputBox({
      title: `Baseline name for ${label}`,
      value: label,
      prompt: 'Later drift checks compare against it by this name.',
      validateInput: (v) => (v.trim() ? undefined : 'A name is needed.'),
    });
    if (!name) return;
    const existing = listBaselines(t).find((b) => b.name === name.trim());
    if (existing) {
      const ok = await vscode.window.showWarningMessage(
        `A baseline named ${existing.name} exists (${existing.source}, ${existing.rows} rows). Replace it? The old one stays in the Monitoring experiment.`,
        { modal: true },
        'Replace',
      );
      if (ok !== 'Replace') return;
    }
    const summary = await withProgress(`Baseline ${name.trim()}`, (progress, signal) =>
      setBaseline(t, { file, label }, { name: name.trim(), signal, onProgress: progress }),
    );
    if (!summary) return;
    void vscode.window.showInformationMessage(
      `Baseline ${summary.name} set: ${summary.rows} rows, ${summary.columns} columns (digest ${summary.digest.slice(0, 12)}).`,
    );
  };

  const readWithProgress = (file: string): Promise<Table | undefined> =>
    withProgress(`Reading ${relLabel(file)}`, (progress, signal) =>
      readTable(file, {
        signal,
        onProgress: (done, total) =>
          progress({ message: relLabel(file), fraction: total ? done / total : 0 }),
      }),
    );

  const pickColumn = async (
    table: Table,
    title: string,
    preferred: string[],
    optional: boolean,
  ): Promise<string | null | undefined> => {
    const items: (vscode.QuickPickItem & { column: string | null })[] = [
      ...preferred.map((c) => ({ label: c, description: 'looks like a time', column: c })),
      ...table.columns
        .filter((c) => !preferred.includes(c.name))
        .map((c) => ({ label: c.name, description: c.kind, column: c.name })),
    ];
    if (optional) items.unshift({ label: '(none)', column: null });
    const picked = await vscode.window.showQuickPick(items, { title });
    return picked ? picked.column : undefined;
  };

  const leakage = async (arg?: unknown): Promise<void> => {
    const file = await pickDataset(arg, 'The training set to check for leakage');
    if (!file) return;
    const table = await readWithProgress(file);
    if (!table) return;
    const times = timestampCandidates(table);
    const event = await pickColumn(
      table,
      'Event time: when each prediction would be made',
      times,
      false,
    );
    if (!event) return;
    const label = await pickColumn(table, 'Label column (optional)', [], true);
    if (label === undefined) return;
    const labelTime = await pickColumn(
      table,
      'Time the label became known (optional)',
      times.filter((c) => c !== event),
      true,
    );
    if (labelTime === undefined) return;
    const rows = tableToRecords(table, undefined, 'iso');
    const pairs = featureTimestampPairs(
      table.columns.map((c) => c.name),
      [event, labelTime ?? '', label ?? ''],
    );
    const report = checkLeakage({
      rows,
      eventTimestampColumn: event,
      ...(label ? { labelColumn: label } : {}),
      ...(labelTime ? { labelTimestampColumn: labelTime } : {}),
      featureTimestamps: pairs,
    });
    const doc = await vscode.workspace.openTextDocument({
      language: 'markdown',
      content: leakageMarkdown(report, {
        file: relLabel(file),
        event,
        label: label ?? null,
        labelTime: labelTime ?? null,
        featureTimestamps: pairs,
      }),
    });
    await vscode.window.showTextDocument(doc, { preview: false });
    const n = report.findings.length;
    void (n
      ? vscode.window.showWarningMessage(
          `${relLabel(file)}: ${n} possible leak${n === 1 ? '' : 's'} found.`,
        )
      : vscode.window.showInformationMessage(`${relLabel(file)}: no leakage found.`));
  };

  const join = async (arg?: unknown): Promise<void> => {
    const entityFile = await pickDataset(arg, 'The entity table (keys, event time, label)');
    if (!entityFile) return;
    const featureUris = await vscode.window.showOpenDialog({
      title: 'Feature tables to join as of each event',
      canSelectMany: true,
      defaultUri: vscode.Uri.file(path.dirname(entityFile)),
      filters: { Datasets: ['csv', 'tsv', 'jsonl', 'ndjson', 'parquet'] },
    });
    if (!featureUris?.length) return;
    const entity = await readWithProgress(entityFile);
    if (!entity) return;
    const event = await pickColumn(
      entity,
      'Event time column of the entity table',
      timestampCandidates(entity),
      false,
    );
    if (!event) return;
    const features: { table: Table; file: string }[] = [];
    for (const u of featureUris) {
      const table = await readWithProgress(u.fsPath);
      if (!table) return;
      features.push({ table, file: u.fsPath });
    }
    const common = entity.columns
      .map((c) => c.name)
      .filter(
        (n) => n !== event && features.every((f) => f.table.columns.some((c) => c.name === n)),
      );
    if (!common.length) {
      throw new UserError(
        `The entity table and the feature tables share no key column (entity columns: ${entity.columns.map((c) => c.name).join(', ')}).`,
      );
    }
    const keys = await vscode.window.showQuickPick(
      common.map((c) => ({ label: c, picked: /(^id$|_id$|key)/i.test(c) })),
      { title: 'Entity key columns', canPickMany: true },
    );
    if (!keys?.length) return;
    const keyNames = keys.map((k) => k.label);
    const specs: FeatureTableSpec[] = [];
    for (const f of features) {
      const name = path.basename(f.file).replace(/\.[^.]+$/, '');
      const candidates = timestampCandidates(f.table).filter((c) => !keyNames.includes(c));
      const ts = await pickColumn(f.table, `${name}: feature time column`, candidates, false);
      if (!ts) return;
      const created = await pickColumn(
        f.table,
        `${name}: row written at (optional; excludes backfills)`,
        candidates.filter((c) => c !== ts),
        true,
      );
      if (created === undefined) return;
      const ttl = await vscode.window.showInputBox({
        title: `${name}: time to live (optional)`,
        prompt:
          'Feature rows older than this before the event are not used: 30d, 12h, 90m, or empty for no limit.',
        validateInput: (v) => {
          if (!v.trim()) return undefined;
          try {
            parseDuration(v);
            return undefined;
          } catch (e) {
            return (e as Error).message;
          }
        },
      });
      if (ttl === undefined) return;
      specs.push({
        name,
        rows: tableToRecords(f.table, undefined, 'iso'),
        keys: keyNames,
        timestampColumn: ts,
        ...(created ? { createdColumn: created } : {}),
        ...(ttl.trim() ? { ttlMs: parseDuration(ttl) } : {}),
      });
    }
    const out = await vscode.window.showSaveDialog({
      title: 'Write the joined training set to',
      defaultUri: vscode.Uri.file(entityFile.replace(/(\.[^.]+)$/, '.joined.csv')),
      filters: { CSV: ['csv'] },
    });
    if (!out) return;
    const result = asOfJoin({
      entityRows: tableToRecords(entity, undefined, 'iso'),
      eventTimestampColumn: event,
      keys: keyNames,
      featureTables: specs,
    });
    fs.writeFileSync(out.fsPath, stringify(result.rows, { header: true, columns: result.columns }));
    await vscode.window.showTextDocument(out, { preview: false });
    const stats = result.stats
      .map(
        (s) =>
          `${s.table}: ${s.matched} matched, ${s.missedNoRow} without a row, ${s.missedTtl} past TTL, ${s.excludedBackfill} only backfilled`,
      )
      .join('; ');
    void vscode.window.showInformationMessage(
      `Joined ${result.rows.length} rows as of their event time. ${stats}.`,
    );
  };

  return [
    registerCommand(COMMAND_IDS.checkDrift, log, checkDrift),
    registerCommand(COMMAND_IDS.setBaseline, log, setAsBaseline),
    registerCommand(COMMAND_IDS.retrain, log, retrain),
    registerCommand(COMMAND_IDS.openDriftReport, log, async (arg?: unknown) => {
      const t = await ctx.store.get();
      const runId = typeof arg === 'string' ? arg : (runIdOf(arg) ?? (await pickDriftRun(t)));
      if (runId) DriftPanel.show(deps, runId);
    }),
    registerCommand(COMMAND_IDS.checkLeakage, log, leakage),
    registerCommand(COMMAND_IDS.pointInTimeJoin, log, join),
  ];
}

/** A run id from an Experiments view node. */
function runIdOf(node: unknown): string | undefined {
  const n = node as { kind?: string; run?: { info?: { runId?: string } } } | undefined;
  return n?.kind === 'run' ? n.run?.info?.runId : undefined;
}

async function pickDriftRun(t: Tracking): Promise<string | undefined> {
  const exp = t.getExperimentByName(MONITORING_EXPERIMENT);
  const runs = exp
    ? t.searchRuns({
        experimentIds: [exp.experimentId],
        filter: `tags.\`${VERDICT_TAG}\` != ''`,
        orderBy: ['attributes.start_time DESC'],
        maxResults: 50,
      }).items
    : [];
  if (!runs.length)
    throw new UserError('No drift checks yet: run "Check Drift..." on a dataset first.');
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => ({
      label: r.info.runName,
      description: r.tags[VERDICT_TAG],
      detail: new Date(r.info.startTime).toLocaleString(),
      runId: r.info.runId,
    })),
    { title: 'A drift check' },
  );
  return picked?.runId;
}

/** Tags the runs started during a retrain with the drift check that triggered it. */
export async function tagRetrainRuns(
  t: Tracking,
  driftRunId: string,
  from: number,
  to: number,
): Promise<number> {
  const monitoring = t.getExperimentByName(MONITORING_EXPERIMENT)?.experimentId;
  const ids = t
    .listExperiments()
    .map((e) => e.experimentId)
    .filter((id) => id !== monitoring);
  if (!ids.length) return 0;
  let n = 0;
  let pageToken: string | undefined;
  do {
    const page = t.searchRuns({
      experimentIds: ids,
      filter: `attributes.start_time >= ${from} and attributes.start_time <= ${to}`,
      maxResults: 1000,
      pageToken,
    });
    for (const r of page.items) {
      if (r.tags[TRIGGER_TAG]) continue;
      await t.setTag(r.info.runId, TRIGGER_TAG, driftRunId);
      n++;
    }
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return n;
}
