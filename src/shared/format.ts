// How the workbench writes metric values, ages and "which metric matters" — pure
// functions shared by the extension, the CLI and (later) the webviews.

export function formatMetricValue(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  return abs !== 0 && (abs < 1e-4 || abs >= 1e6)
    ? v.toExponential(4)
    : String(Number(v.toPrecision(6)));
}

export function formatAge(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** Metrics shown beside a run when no key metric is configured, in order of preference. */
const KEY_METRIC_GUESSES = ['val_accuracy', 'accuracy', 'val_acc', 'acc', 'f1', 'val_loss', 'loss'];

/** The metric to show for a run: the configured one if the run has it, else a guess. */
export function keyMetricOf(metricKeys: readonly string[], configured: string): string | undefined {
  if (configured && metricKeys.includes(configured)) return configured;
  for (const k of KEY_METRIC_GUESSES) if (metricKeys.includes(k)) return k;
  return [...metricKeys].sort()[0];
}

/** Lower is better for losses, errors, latency and cost; higher for everything else. */
export function lowerIsBetter(metric: string): boolean {
  return /loss|error|err$|mse|mae|rmse|perplexity|latency|cost|time/i.test(metric);
}
