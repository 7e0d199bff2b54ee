// `mlops store info|check|repair|compact`: where the store is and whether it is sound.

import * as fs from 'node:fs';
import { repairStore } from '../../core/store/repair.ts';
import type { CommandSpec } from '../context.ts';
import { EXIT_CHECK_FAILED, EXIT_OK } from '../context.ts';

export const storeCommands: CommandSpec[] = [
  {
    name: 'store info',
    usage: 'mlops store info [--json]',
    summary: 'Show where the store is, its size and what it holds.',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      const info = {
        dir: t.store.dir,
        exists: fs.existsSync(t.store.dir),
        ...t.store.stats,
        ...t.store.reader.counts(),
      };
      ctx.print(
        info,
        () =>
          [
            `Store        ${info.dir}${info.exists ? '' : ' (not created yet)'}`,
            `Experiments  ${info.experiments}`,
            `Runs         ${info.runs}`,
            `Metric points ${info.metricPoints}`,
            `Snapshot     ${info.snapshotBytes} bytes, generation ${info.generation}`,
            `Journal      ${info.journalBytes} bytes`,
          ].join('\n') + '\n',
      );
      return EXIT_OK;
    },
  },
  {
    name: 'store check',
    usage: 'mlops store check [--json]',
    summary: 'Open the store and verify its database; exit 1 if anything is wrong.',
    options: {},
    async run(ctx) {
      let problems: string[];
      try {
        const t = await ctx.open();
        problems = t.store.reader.integrityCheck().filter((line) => line !== 'ok');
      } catch (e) {
        problems = [(e as Error).message];
      }
      ctx.print({ ok: problems.length === 0, problems }, () =>
        problems.length === 0
          ? 'The store is sound.\n'
          : problems.map((p) => `problem: ${p}\n`).join(''),
      );
      return problems.length === 0 ? EXIT_OK : EXIT_CHECK_FAILED;
    },
  },
  {
    name: 'store repair',
    usage: 'mlops store repair [--json]',
    summary:
      'Rebuild a damaged store from its snapshots and journals, after copying every store file to a backup folder.',
    options: {},
    async run(ctx) {
      const report = await repairStore(ctx.storeDir(), ctx.logger);
      ctx.print(
        report,
        () =>
          [
            `Backed up the store files to ${report.backupDir}`,
            `Started from ${report.base}; replayed ${report.recordsReplayed} records`,
            report.recordsDropped
              ? `Dropped ${report.recordsDropped} damaged records`
              : 'No damaged records',
            report.tornBytesDropped
              ? `Dropped ${report.tornBytesDropped} bytes of an incomplete last record`
              : '',
            report.missingGenerations.length
              ? `Could not recover journal generations ${report.missingGenerations.join(', ')} (their files were missing)`
              : '',
          ]
            .filter(Boolean)
            .join('\n') + '\n',
      );
      return report.recordsDropped || report.missingGenerations.length
        ? EXIT_CHECK_FAILED
        : EXIT_OK;
    },
  },
  {
    name: 'store compact',
    usage: 'mlops store compact',
    summary:
      'Fold the journal into a new snapshot now (it also happens on its own as the journal grows).',
    options: {},
    async run(ctx) {
      const t = await ctx.open();
      await t.store.compact();
      return EXIT_OK;
    },
  },
];
