// Lookups several command groups share: an experiment by id or name, a run by id,
// prefix or $MLOPS_RUN_ID, and the run summary the list commands print.

import { NotFoundError } from '../../core/model/errors.ts';
import type { Experiment, Run } from '../../core/model/tracking.ts';
import type { Tracking } from '../../core/tracking/tracking.ts';
import type { CommandContext } from '../context.ts';
import { formatDuration, formatTime, table } from '../format.ts';
import { formatMetricValue } from '../../shared/format.ts';

export function findExperiment(t: Tracking, ref: string): Experiment {
  if (/^\d+$/.test(ref)) {
    try {
      return t.getExperiment(ref);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
  const byName = t.getExperimentByName(ref);
  if (!byName) {
    throw new NotFoundError(
      `No experiment with id or name '${ref}'; see \`mlops experiments list\`.`,
    );
  }
  return byName;
}

/** The run named by the positional at `index`, --run, or $MLOPS_RUN_ID. */
export function runArg(ctx: CommandContext, t: Tracking, index?: number): string {
  const ref =
    (index !== undefined ? ctx.positionals[index] : undefined) ??
    ctx.str('run') ??
    ctx.io.env.MLOPS_RUN_ID;
  if (!ref) {
    throw ctx.usage(
      'which run? Pass --run <id>, or set MLOPS_RUN_ID (`mlops run start` prints the id)',
    );
  }
  return t.resolveRunId(ref);
}

/** Runs as printed by `runs list` and `runs search`. */
export function runTable(runs: Run[]): string {
  if (runs.length === 0) return 'No runs.\n';
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort().slice(0, 4);
  return table(
    ['RUN ID', 'NAME', 'STATUS', 'STARTED', 'DURATION', ...metricKeys],
    runs.map((r) => [
      r.info.runId,
      r.info.runName,
      r.info.status,
      formatTime(r.info.startTime),
      formatDuration(r.info.startTime, r.info.endTime),
      ...metricKeys.map((k) => formatMetricValue(r.metrics[k]?.value)),
    ]),
  );
}

/** The stable JSON shape of a run (documented in the README). */
export function runJson(run: Run): unknown {
  return {
    info: run.info,
    params: run.params,
    tags: run.tags,
    metrics: run.metrics,
    datasets: run.datasets,
  };
}
