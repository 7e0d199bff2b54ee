// `mlops drift`: checks a current dataset against a reference file or a stored
// baseline; exit 1 when the dataset drifts at the --fail-on level, 2 on errors.
// `mlops drift baseline <file>` stores a baseline, `mlops drift baselines` lists them.

import * as path from 'node:path';
import { DRIFT_TESTS, failsAt } from '../../core/drift/check.ts';
import type { DriftOptions, DriftReport, DriftTest } from '../../core/drift/check.ts';
import {
  listBaselines,
  recordDriftCheck,
  runDriftCheck,
  setBaseline,
} from '../../core/drift/monitoring.ts';
import { COLUMN_KINDS } from '../../core/drift/readers.ts';
import type { ColumnKind } from '../../core/drift/readers.ts';
import type { Binning } from '../../core/drift/stats.ts';
import type { CommandContext, CommandSpec } from '../context.ts';
import { EXIT_OK } from '../context.ts';

const EXIT_DRIFT = 1;
const BINNINGS: Binning[] = ['quantile', 'equal-width', 'sturges'];

/** A path as the user would write it, relative to where the command runs. */
function label(ctx: CommandContext, file: string): string {
  const rel = path.relative(ctx.io.cwd, path.resolve(ctx.io.cwd, file));
  return (rel.startsWith('..') ? path.resolve(ctx.io.cwd, file) : rel).split(path.sep).join('/');
}

function readOptions(ctx: CommandContext): {
  kinds?: Record<string, ColumnKind>;
  skipMalformed?: boolean;
} {
  const kinds: Record<string, ColumnKind> = {};
  for (const [col, kind] of Object.entries(ctx.pairs('kind'))) {
    if (!(COLUMN_KINDS as readonly string[]).includes(kind)) {
      throw ctx.usage(`--kind ${col}=${kind}: the kind is one of ${COLUMN_KINDS.join(', ')}`);
    }
    kinds[col] = kind as ColumnKind;
  }
  return { kinds, skipMalformed: ctx.bool('skip-malformed') };
}

/** `--test ks` for every column, `--test col=ks` for one (repeatable); the same for --threshold. */
function perColumn<T>(
  ctx: CommandContext,
  name: string,
  parse: (raw: string, where: string) => T,
): { global?: T; columns: Record<string, T> } {
  const out: { global?: T; columns: Record<string, T> } = { columns: {} };
  for (const item of ctx.list(name)) {
    const eq = item.lastIndexOf('=');
    if (eq < 0) out.global = parse(item, `--${name} ${item}`);
    else out.columns[item.slice(0, eq)] = parse(item.slice(eq + 1), `--${name} ${item}`);
  }
  return out;
}

function driftOptions(ctx: CommandContext): Omit<DriftOptions, 'signal'> {
  const tests = perColumn(ctx, 'test', (raw, where) => {
    if (!(DRIFT_TESTS as readonly string[]).includes(raw)) {
      throw ctx.usage(`${where}: the test is one of ${DRIFT_TESTS.join(', ')}`);
    }
    return raw as DriftTest;
  });
  const thresholds = perColumn(ctx, 'threshold', (raw, where) => {
    const v = Number(raw);
    if (!(raw.trim() !== '' && Number.isFinite(v) && v > 0)) {
      throw ctx.usage(`${where}: the threshold is a number above 0`);
    }
    return v;
  });
  const binning = ctx.str('binning');
  if (binning !== undefined && !BINNINGS.includes(binning as Binning)) {
    throw ctx.usage(`--binning is one of ${BINNINGS.join(', ')} (got '${binning}')`);
  }
  const shareRaw = ctx.str('drift-share');
  const driftShare = shareRaw === undefined ? undefined : Number(shareRaw);
  if (driftShare !== undefined && !(driftShare > 0 && driftShare <= 1)) {
    throw ctx.usage(`--drift-share takes a number above 0 and at most 1 (got '${shareRaw}')`);
  }
  const columns = ctx
    .list('columns')
    .flatMap((c) => c.split(','))
    .map((c) => c.trim())
    .filter(Boolean);
  return {
    columns: columns.length ? columns : undefined,
    test: tests.global,
    tests: tests.columns,
    threshold: thresholds.global,
    thresholds: thresholds.columns,
    bins: ctx.int('bins'),
    binning: binning as Binning | undefined,
    driftShare,
  };
}

const fmt = (v: number | null, digits = 4): string =>
  v === null ? '-' : v !== 0 && Math.abs(v) < 1e-4 ? v.toExponential(2) : v.toFixed(digits);

const VERDICT_LABEL = { none: 'no drift', possible: 'possible drift', drift: 'DRIFT' } as const;

export function driftText(report: DriftReport): string {
  const { baseline, source } = report.reference;
  const ref = baseline
    ? baseline === source
      ? `baseline ${baseline}`
      : `baseline ${baseline} (${source})`
    : source;
  const lines = [
    `Drift: ${report.current.source} (${report.current.rows} rows) against ${ref} (${report.reference.rows} rows)`,
    `${report.driftedColumns} of ${report.checkedColumns} columns drifted (share ${fmt(report.driftedShare, 2)}, dataset drift at ${report.driftShareThreshold}): ${VERDICT_LABEL[report.datasetVerdict]}`,
  ];
  for (const side of [report.reference, report.current]) {
    if (side.skipped) {
      lines.push(
        `${side.source}: ${side.skipped} malformed row${side.skipped === 1 ? '' : 's'} skipped`,
      );
    }
  }
  lines.push('');
  const rows = [['column', 'kind', 'test', 'statistic', 'p-value', 'threshold', 'verdict']];
  for (const c of report.columns) {
    rows.push([
      c.column,
      c.kind,
      c.test,
      fmt(c.statistic),
      fmt(c.pValue),
      `${c.pValue !== null ? 'p < ' : '>= '}${c.threshold}`,
      c.error ? `not tested: ${c.error}` : VERDICT_LABEL[c.verdict],
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    lines.push(
      r
        .map((v, i) => v.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
  if (report.missingColumns.length) {
    lines.push('', `Missing from the current data: ${report.missingColumns.join(', ')}`);
  }
  if (report.newColumns.length) {
    lines.push(`Not in the reference (not checked): ${report.newColumns.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The `--json` shape the README documents. */
export function driftJson(report: DriftReport, runId: string | null): unknown {
  return {
    columns: report.columns.map((c) => ({
      column: c.column,
      kind: c.kind,
      test: c.test,
      statistic: c.statistic,
      pValue: c.pValue,
      threshold: c.threshold,
      drift: c.drift,
      verdict: c.verdict,
      bins: c.bins,
      ...(c.error ? { error: c.error } : {}),
    })),
    driftedShare: report.driftedShare,
    datasetDrift: report.datasetDrift,
    datasetVerdict: report.datasetVerdict,
    missingColumns: report.missingColumns,
    reference: report.reference,
    current: report.current,
    runId,
  };
}

const checkCommand: CommandSpec = {
  name: 'drift',
  usage:
    'mlops drift <reference|baseline:name> <current> [--columns a,b] [--test [col=]ks|psi|chi2|wasserstein|js|z]... [--threshold [col=]x]... [--bins N] [--binning quantile|equal-width|sturges] [--drift-share 0.5] [--fail-on drift|possible] [--kind col=kind]... [--skip-malformed] [--no-record] [--json]',
  summary: 'Check a dataset for drift against a reference file or a stored baseline.',
  details:
    '  Files: CSV (or TSV), JSONL, Parquet. The test per column is chosen as Evidently does\n' +
    '  (numerical: KS up to 1000 reference values, else normalised Wasserstein; categorical:\n' +
    '  chi-square or Z up to 1000, else Jensen-Shannon); --test overrides it for a column or all.\n' +
    '  --fail-on      exit 1 when the dataset verdict is at least this (default drift)\n' +
    '  --kind         column kind over inference: numerical, categorical, binary, text, datetime\n' +
    '  --no-record    do not store the check as a run of the "Monitoring" experiment',
  options: {
    columns: { type: 'string', multiple: true },
    test: { type: 'string', multiple: true },
    threshold: { type: 'string', multiple: true },
    bins: { type: 'string' },
    binning: { type: 'string' },
    'drift-share': { type: 'string' },
    'fail-on': { type: 'string' },
    kind: { type: 'string', multiple: true },
    'skip-malformed': { type: 'boolean' },
    'no-record': { type: 'boolean' },
  },
  async run(ctx) {
    const refArg = ctx.arg(0, 'reference');
    const curArg = ctx.arg(1, 'current');
    const failOn = ctx.str('fail-on') ?? 'drift';
    if (failOn !== 'drift' && failOn !== 'possible') {
      throw ctx.usage(`--fail-on is drift or possible (got '${failOn}')`);
    }
    const options = driftOptions(ctx);
    const read = readOptions(ctx);
    const baseline = refArg.startsWith('baseline:') ? refArg.slice('baseline:'.length) : null;
    const record = !ctx.bool('no-record');
    const t = baseline !== null || record ? await ctx.open() : undefined;
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    let report: DriftReport;
    const curFile = path.resolve(ctx.io.cwd, curArg);
    const refFile = baseline === null ? path.resolve(ctx.io.cwd, refArg) : undefined;
    try {
      report = await runDriftCheck(t, {
        reference:
          baseline !== null
            ? { baseline }
            : { file: refFile!, label: label(ctx, refArg), readOptions: read },
        current: { file: curFile, label: label(ctx, curArg), readOptions: read },
        options,
        signal: abort.signal,
      });
    } finally {
      process.removeListener('SIGINT', onSignal);
    }
    const runId =
      t && record
        ? await recordDriftCheck(t, report, { reference: refFile, current: curFile })
        : null;
    ctx.print(
      driftJson(report, runId),
      () =>
        driftText(report) + (runId ? `\nRecorded as run ${runId} (experiment Monitoring).\n` : ''),
    );
    return failsAt(report, failOn) ? EXIT_DRIFT : EXIT_OK;
  },
};

const baselineCommand: CommandSpec = {
  name: 'drift baseline',
  usage: 'mlops drift baseline <file> [--name n] [--kind col=kind]... [--skip-malformed]',
  summary: "Store a dataset's profile as a baseline, so later checks need no copy of the file.",
  details:
    '  The baseline keeps per column: counts, quantiles, at most 10,000 order statistics\n' +
    '  (numerical), category counts (categorical), the vocabulary (text). Check against it with\n' +
    '  mlops drift baseline:<name> <current>. The name defaults to the file path.',
  options: {
    name: { type: 'string' },
    kind: { type: 'string', multiple: true },
    'skip-malformed': { type: 'boolean' },
  },
  async run(ctx) {
    const fileArg = ctx.arg(0, 'file');
    const t = await ctx.open();
    const summary = await setBaseline(
      t,
      {
        file: path.resolve(ctx.io.cwd, fileArg),
        label: label(ctx, fileArg),
        readOptions: readOptions(ctx),
      },
      { name: ctx.str('name') },
    );
    ctx.print(
      summary,
      () =>
        `Baseline ${summary.name}: ${summary.rows} rows, ${summary.columns} columns, digest ${summary.digest.slice(0, 12)} (run ${summary.runId}).\n`,
    );
    return EXIT_OK;
  },
};

const baselinesCommand: CommandSpec = {
  name: 'drift baselines',
  usage: 'mlops drift baselines',
  summary: 'List the stored baselines.',
  options: {},
  async run(ctx) {
    const list = listBaselines(await ctx.open());
    ctx.print({ baselines: list }, () =>
      list.length
        ? list
            .map(
              (b) =>
                `${b.name}  ${b.rows} rows  ${b.digest.slice(0, 12)}  ${new Date(b.createdAt).toISOString()}  run ${b.runId}\n`,
            )
            .join('')
        : 'No baselines yet: mlops drift baseline <file>.\n',
    );
    return EXIT_OK;
  },
};

export const driftCommands: CommandSpec[] = [checkCommand, baselineCommand, baselinesCommand];
