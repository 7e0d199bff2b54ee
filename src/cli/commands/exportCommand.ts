// `mlops export <run> --format json|csv`: a run with every metric point, for
// notebooks, spreadsheets and other tools.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tracking } from '../../core/tracking/tracking.ts';
import type { CommandSpec } from '../context.ts';
import { EXIT_OK, jsonReplacer } from '../context.ts';
import { runArg, runJson } from './shared.ts';

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function exportCsv(t: Tracking, runId: string): string {
  const run = t.getRun(runId);
  const rows = ['run_id,key,step,timestamp,value'];
  for (const key of Object.keys(run.metrics)) {
    for (const p of t.metricHistory(runId, key)) {
      rows.push(
        [runId, csvCell(key), String(p.step), String(p.timestamp), String(p.value)].join(','),
      );
    }
  }
  return rows.join('\n') + '\n';
}

export function exportJson(t: Tracking, runId: string): string {
  const run = t.getRun(runId);
  const history: Record<string, { step: number; timestamp: number; value: number }[]> = {};
  for (const key of Object.keys(run.metrics)) {
    history[key] = t
      .metricHistory(runId, key)
      .map(({ step, timestamp, value }) => ({ step, timestamp, value }));
  }
  return (
    JSON.stringify(
      {
        ...(runJson(run) as object),
        metricHistory: history,
        artifacts: t.listArtifacts(runId),
        checkpoints: t.listCheckpoints(runId),
      },
      jsonReplacer,
      2,
    ) + '\n'
  );
}

export const exportCommand: CommandSpec = {
  name: 'export',
  usage: 'mlops export <run-id> [--format json|csv] [--output <file>]',
  summary:
    'Export a run with its full metric history (JSON: everything; CSV: one row per metric point).',
  details:
    '  --format json|csv   default json\n  --output <file>     write there instead of stdout',
  options: {
    format: { type: 'string' },
    output: { type: 'string', short: 'o' },
    run: { type: 'string' },
  },
  async run(ctx) {
    const format = ctx.str('format') ?? 'json';
    if (format !== 'json' && format !== 'csv')
      throw ctx.usage(`--format must be json or csv (got '${format}')`);
    const t = await ctx.open();
    const runId = runArg(ctx, t, 0);
    const text = format === 'csv' ? exportCsv(t, runId) : exportJson(t, runId);
    const output = ctx.str('output');
    if (output) fs.writeFileSync(path.resolve(ctx.io.cwd, output), text);
    else ctx.io.out(text);
    return EXIT_OK;
  },
};
