// What the compare view is sent about runs: summaries (params, latest metrics with
// their range, tags, datasets, checkpoints), never metric histories.

import type { CompareRun } from '../../shared/protocol.ts';
import { encodeNumber } from '../../shared/protocol.ts';
import type { Run } from '../model/tracking.ts';
import type { Tracking } from './tracking.ts';

export function compareRunOf(
  t: Tracking,
  run: Run,
  experimentNames: Map<string, string>,
): CompareRun {
  const info = run.info;
  const metrics: CompareRun['metrics'] = {};
  for (const m of Object.values(run.metrics)) {
    metrics[m.key] = {
      last: encodeNumber(m.value),
      min: m.min,
      max: m.max,
      step: m.step,
      count: m.count,
    };
  }
  return {
    runId: info.runId,
    runName: info.runName,
    experimentId: info.experimentId,
    experimentName: experimentNames.get(info.experimentId) ?? info.experimentId,
    status: info.status,
    startTime: info.startTime,
    endTime: info.endTime,
    userId: info.userId,
    gitCommit: run.tags['mlflow.source.git.commit'] ?? null,
    params: { ...run.params },
    metrics,
    tags: { ...run.tags },
    datasets: run.datasets.map((d) => ({
      name: d.name,
      digest: d.digest,
      context: d.context,
      rowCount: d.rowCount,
    })),
    checkpoints: t.listCheckpoints(info.runId).map((c) => {
      const values: Record<string, number | string> = {};
      for (const [k, v] of Object.entries(c.metrics)) values[k] = encodeNumber(v);
      return { step: c.step, artifactPath: c.artifactPath, metrics: values };
    }),
  };
}

/** The runs that still exist, as compare summaries, plus the ids that do not. */
export function loadCompareRuns(
  t: Tracking,
  runIds: readonly string[],
): { runs: CompareRun[]; missing: string[] } {
  const names = new Map(t.listExperiments('ALL').map((e) => [e.experimentId, e.name]));
  const runs: CompareRun[] = [];
  const missing: string[] = [];
  for (const id of runIds) {
    let run: Run;
    try {
      run = t.getRun(id);
    } catch {
      missing.push(id);
      continue;
    }
    runs.push(compareRunOf(t, run, names));
  }
  return { runs, missing };
}

/** Metric keys of the runs, in a stable order: the key metric first, then by name. */
export function metricKeysOf(runs: readonly CompareRun[], first?: string): string[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.metrics)) keys.add(k);
  return [...keys].sort((a, b) => (a === first ? -1 : b === first ? 1 : a.localeCompare(b)));
}
