// `mlops features join`: a point-in-time correct join of an entity table with feature
// tables; `mlops features leakage`: flags future feature values and label proxies in a
// training set (exit 1 when it finds any).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { readTable, tableToRecords } from '../../core/drift/readers.ts';
import { checkLeakage } from '../../core/features/leakage.ts';
import { asOfJoin } from '../../core/features/pointInTime.ts';
import type { FeatureTableSpec } from '../../core/features/pointInTime.ts';
import {
  featureTimestampPairs,
  leakageMarkdown,
  parseDuration,
  timestampCandidates,
} from '../../core/features/report.ts';
import type { CommandContext, CommandSpec } from '../context.ts';
import { EXIT_CHECK_FAILED, EXIT_OK } from '../context.ts';

function splitList(ctx: CommandContext, name: string): string[] {
  return ctx
    .list(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** `file=features.csv,timestamp=ts,created=written_at,ttl=30d,columns=a;b` */
function parseFeatureSpec(ctx: CommandContext, raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      if (!out.file && !part.includes('=')) {
        out.file = part.trim();
        continue;
      }
      throw ctx.usage(`--features takes file=...,timestamp=...; '${part}' has no '='`);
    }
    const key = part.slice(0, eq).trim();
    if (!['file', 'timestamp', 'created', 'ttl', 'columns', 'name'].includes(key)) {
      throw ctx.usage(
        `--features: unknown field '${key}' (fields: file, timestamp, created, ttl, columns, name)`,
      );
    }
    out[key] = part.slice(eq + 1).trim();
  }
  if (!out.file) throw ctx.usage(`--features ${raw}: no file=`);
  return out;
}

const joinCommand: CommandSpec = {
  name: 'features join',
  usage:
    'mlops features join <entity> --event-time col --keys a,b --features file=f.csv[,timestamp=ts][,created=c][,ttl=30d][,columns=x;y]... [-o out.csv] [--json]',
  summary: 'Join feature tables to each entity row as of its event time (no future values).',
  details:
    '  Per entity row and feature table: the latest feature row with equal keys and a\n' +
    '  timestamp at or before the event time, within the TTL; ties go to the latest created\n' +
    '  time; rows created after the event (backfills) are left out. timestamp defaults to the\n' +
    "  table's only time column. Writes CSV to -o (or stdout); --json prints the match counts.",
  options: {
    'event-time': { type: 'string' },
    keys: { type: 'string', multiple: true },
    features: { type: 'string', multiple: true },
    output: { type: 'string', short: 'o' },
  },
  async run(ctx) {
    const entityArg = ctx.arg(0, 'entity');
    const event = ctx.str('event-time');
    if (!event) throw ctx.usage('--event-time names the entity column with the event time');
    const keys = splitList(ctx, 'keys');
    if (!keys.length)
      throw ctx.usage('--keys names the entity key columns (e.g. --keys customer_id)');
    const specsRaw = ctx.list('features');
    if (!specsRaw.length) throw ctx.usage('--features file=... names at least one feature table');
    const entity = await readTable(path.resolve(ctx.io.cwd, entityArg));
    const tables: FeatureTableSpec[] = [];
    for (const raw of specsRaw) {
      const spec = parseFeatureSpec(ctx, raw);
      const file = path.resolve(ctx.io.cwd, spec.file!);
      const table = await readTable(file);
      let ts = spec.timestamp;
      if (!ts) {
        const candidates = timestampCandidates(table).filter((c) => !keys.includes(c));
        if (candidates.length !== 1) {
          throw ctx.usage(
            `--features ${spec.file}: say which column is the feature time (timestamp=...); ${candidates.length ? `candidates: ${candidates.join(', ')}` : `columns: ${table.columns.map((c) => c.name).join(', ')}`}`,
          );
        }
        ts = candidates[0]!;
      }
      tables.push({
        name: spec.name ?? path.basename(file).replace(/\.[^.]+$/, ''),
        rows: tableToRecords(table, undefined, 'iso'),
        keys,
        timestampColumn: ts,
        ...(spec.created ? { createdColumn: spec.created } : {}),
        ...(spec.ttl ? { ttlMs: parseDuration(spec.ttl) } : {}),
        ...(spec.columns ? { features: spec.columns.split(';').filter(Boolean) } : {}),
      });
    }
    const result = asOfJoin({
      entityRows: tableToRecords(entity, undefined, 'iso'),
      eventTimestampColumn: event,
      keys,
      featureTables: tables,
    });
    const csv = stringify(result.rows, { header: true, columns: result.columns });
    const out = ctx.str('output');
    if (out) fs.writeFileSync(path.resolve(ctx.io.cwd, out), csv);
    else if (!ctx.json) ctx.io.out(csv);
    const summary = {
      rows: result.rows.length,
      columns: result.columns,
      tables: result.stats,
      output: out ?? null,
    };
    if (ctx.json) ctx.io.out(`${JSON.stringify(summary, null, 2)}\n`);
    for (const s of result.stats) {
      ctx.io.err(
        `${s.table}: ${s.matched} matched, ${s.missedNoRow} without a row, ${s.missedTtl} past the TTL, ${s.excludedBackfill} only backfilled\n`,
      );
    }
    return EXIT_OK;
  },
};

const leakageCommand: CommandSpec = {
  name: 'features leakage',
  usage:
    'mlops features leakage <file> --event-time col [--label col] [--label-time col] [--feature-time feature=ts_col]... [--threshold 0.98] [--json]',
  summary:
    'Flag feature values from after the event (or label) time, and columns that give the label away.',
  details:
    '  Without --feature-time, a feature is paired with a column named <feature>_ts, _time,\n' +
    '  _timestamp, _at or _date. Exit 1 when anything is flagged.',
  options: {
    'event-time': { type: 'string' },
    label: { type: 'string' },
    'label-time': { type: 'string' },
    'feature-time': { type: 'string', multiple: true },
    threshold: { type: 'string' },
  },
  async run(ctx) {
    const fileArg = ctx.arg(0, 'file');
    const event = ctx.str('event-time');
    if (!event) throw ctx.usage('--event-time names the column with the event (prediction) time');
    const thresholdRaw = ctx.str('threshold');
    const threshold = thresholdRaw === undefined ? undefined : Number(thresholdRaw);
    if (threshold !== undefined && !(threshold > 0.5 && threshold <= 1)) {
      throw ctx.usage(`--threshold takes a number above 0.5 and at most 1 (got '${thresholdRaw}')`);
    }
    const table = await readTable(path.resolve(ctx.io.cwd, fileArg));
    const label = ctx.str('label');
    const labelTime = ctx.str('label-time');
    const given = ctx.pairs('feature-time');
    const pairs = Object.keys(given).length
      ? given
      : featureTimestampPairs(
          table.columns.map((c) => c.name),
          [event, labelTime ?? '', label ?? ''],
        );
    const report = checkLeakage({
      rows: tableToRecords(table, undefined, 'iso'),
      eventTimestampColumn: event,
      ...(label ? { labelColumn: label } : {}),
      ...(labelTime ? { labelTimestampColumn: labelTime } : {}),
      featureTimestamps: pairs,
      ...(threshold !== undefined ? { separationThreshold: threshold } : {}),
    });
    ctx.print({ ...report, featureTimestamps: pairs }, () =>
      leakageMarkdown(report, {
        file: fileArg,
        event,
        label: label ?? null,
        labelTime: labelTime ?? null,
        featureTimestamps: pairs,
      }),
    );
    return report.findings.length ? EXIT_CHECK_FAILED : EXIT_OK;
  },
};

export const featuresCommands: CommandSpec[] = [joinCommand, leakageCommand];
