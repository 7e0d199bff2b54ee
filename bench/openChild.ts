// Child process of the "open" benchmark: a fresh process opens the store and
// lists its runs, then reports its times and peak memory as JSON.

import { loadSqlJs } from '../src/core/store/sqlite.ts';
import { Tracking } from '../src/core/tracking/tracking.ts';

async function main(): Promise<void> {
  const baseRssMb = process.memoryUsage().rss / 1048576;
  let t0 = performance.now();
  await loadSqlJs();
  const loadMs = performance.now() - t0;
  t0 = performance.now();
  const t = await Tracking.open({ dir: process.argv[2]!, watch: false, readOnly: true });
  const openMs = performance.now() - t0;
  t0 = performance.now();
  const runs = t.searchRuns({ maxResults: 1000 }).items.length;
  const listMs = performance.now() - t0;
  await t.close();
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ loadMs, openMs, listMs, runs, maxRssMb, baseRssMb }));
}

void main();
