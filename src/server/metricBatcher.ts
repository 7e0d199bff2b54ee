// Group commit for `runs/log-metric`: the MLflow client sends one request per point
// and waits for each answer, so every request must be durable before it is answered.
// Points that arrive while a write is on its way to the disk are gathered and written
// together by the next one, so concurrent clients share fsyncs instead of queueing one
// each. A bad point is refused on its own before it joins a batch.

import type { Logger } from '../core/log.ts';
import { ValidationError } from '../core/model/errors.ts';
import {
  checkInteger,
  checkKey,
  checkMetricValue,
  MAX_BATCH_METRICS,
} from '../core/tracking/limits.ts';
import type { MetricInput, Tracking } from '../core/tracking/tracking.ts';

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface PendingRun {
  points: MetricInput[];
  waiters: Waiter[];
}

export class MetricBatcher {
  private pending = new Map<string, PendingRun>();
  private draining: Promise<void> | undefined;
  /** Batches written, for tests and the debug log. */
  writes = 0;

  constructor(
    private readonly tracking: Tracking,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the point is durable; rejects (and writes nothing) when it is invalid. */
  log(
    runId: string,
    point: { key: string; value: number; timestamp: number; step: number },
  ): Promise<void> {
    checkKey('metric', point.key);
    checkMetricValue(point.key, point.value);
    checkInteger(`The timestamp of metric '${point.key}'`, point.timestamp);
    checkInteger(`The step of metric '${point.key}'`, point.step);
    const info = this.tracking.getRunInfo(runId);
    if (info.lifecycleStage !== 'active') {
      throw new ValidationError(
        `The run ${runId} must be in the 'active' state to log to it; it is deleted (restore it first).`,
      );
    }
    return new Promise<void>((resolve, reject) => {
      let run = this.pending.get(runId);
      if (!run) this.pending.set(runId, (run = { points: [], waiters: [] }));
      run.points.push(point);
      run.waiters.push({ resolve, reject });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Requests parsed in the same turn of the event loop join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.size > 0) {
      const runs = this.pending;
      this.pending = new Map();
      await Promise.all([...runs].map(([runId, run]) => this.write(runId, run)));
    }
    this.draining = undefined;
  }

  private async write(runId: string, run: PendingRun): Promise<void> {
    try {
      for (let i = 0; i < run.points.length; i += MAX_BATCH_METRICS) {
        await this.tracking.logBatch(runId, {
          metrics: run.points.slice(i, i + MAX_BATCH_METRICS),
        });
        this.writes++;
      }
      if (run.points.length > 1) {
        this.logger.debug(
          `[server] wrote ${run.points.length} metric points of run ${runId} in one batch`,
        );
      }
      for (const w of run.waiters) w.resolve();
    } catch (e) {
      for (const w of run.waiters) w.reject(e);
    }
  }

  /** Waits until every accepted point is written. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }
}
