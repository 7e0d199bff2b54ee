// Writes the demo workspace's datasets (examples/demo/datasets), deterministically:
//   node scripts/demo-data.mjs
// - train.csv / live.csv: what a churn model was trained on and what it sees now
//   (income and plan have drifted, age has not), for "Check Drift...";
// - events.csv / balances.csv: an entity table and a feature table with backfills,
//   for "Point-in-Time Join...";
// - churn_training.csv: a training set with a leaked feature and a label proxy, for
//   "Check Temporal Leakage".

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const out = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'examples',
  'demo',
  'datasets',
);
fs.mkdirSync(out, { recursive: true });

// mulberry32: a small seeded generator, so the files are the same on every machine.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const normal = (r) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const pick = (r, items, weights) => {
  let x = r() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < items.length; i++) if ((x -= weights[i]) < 0) return items[i];
  return items[items.length - 1];
};
const csv = (rows) =>
  rows
    .map((r) =>
      r
        .map((v) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v))
        .join(','),
    )
    .join('\n') + '\n';

const PHRASES = [
  'the app is fast and easy to use',
  'support answered quickly and fixed my problem',
  'too expensive for what it offers',
  'billing was confusing this month',
  'love the new dashboard',
  'the export keeps failing on large files',
];
const NEW_PHRASES = [
  'cancelled after the price increase',
  'competitor offers better pricing tiers',
  'renewal charge surprised me',
];

function customers(seed, n, drifted) {
  const r = rng(seed);
  const rows = [['age', 'income', 'plan', 'tenure_months', 'churned', 'review']];
  for (let i = 0; i < n; i++) {
    const age = Math.max(18, Math.round(40 + 12 * normal(r)));
    const income = Math.round((drifted ? 61000 : 52000) + 15000 * normal(r));
    const plan = drifted
      ? pick(r, ['free', 'basic', 'pro', 'enterprise'], [0.45, 0.3, 0.2, 0.05])
      : pick(r, ['free', 'basic', 'pro', 'enterprise'], [0.25, 0.4, 0.28, 0.07]);
    const tenure = Math.max(0, Math.round(24 + 14 * normal(r)));
    const churned = r() < (drifted ? 0.22 : 0.15) ? 1 : 0;
    const phrases = drifted && r() < 0.35 ? NEW_PHRASES : PHRASES;
    const review = phrases[Math.floor(r() * phrases.length)];
    rows.push([age, income, plan, tenure, churned, review]);
  }
  return rows;
}
fs.writeFileSync(path.join(out, 'train.csv'), csv(customers(1, 3000, false)));
fs.writeFileSync(path.join(out, 'live.csv'), csv(customers(2, 2000, true)));

// Events (entity rows) and a balance feature table updated daily, with some rows
// backfilled later (created_at after the day they describe).
{
  const r = rng(3);
  const day = 86_400_000;
  const start = Date.UTC(2026, 0, 1);
  const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const balances = [['customer_id', 'balance', 'as_of', 'created_at']];
  for (let c = 1; c <= 50; c++) {
    for (let d = 0; d < 60; d += 1 + Math.floor(r() * 4)) {
      const asOf = start + d * day;
      const late = r() < 0.1;
      balances.push([
        c,
        Math.round(1000 + 500 * normal(r)),
        iso(asOf),
        iso(asOf + (late ? 5 * day : 3_600_000)),
      ]);
    }
  }
  const events = [['customer_id', 'event_time', 'churned']];
  for (let i = 0; i < 300; i++) {
    events.push([
      1 + Math.floor(r() * 50),
      iso(start + Math.floor(r() * 60 * day)),
      r() < 0.2 ? 1 : 0,
    ]);
  }
  fs.writeFileSync(path.join(out, 'balances.csv'), csv(balances));
  fs.writeFileSync(path.join(out, 'events.csv'), csv(events));

  // A training set with two mistakes: some balances observed after the event, and
  // "closed_account" (recorded when the customer left) standing in for the label.
  const train = [
    [
      'customer_id',
      'event_time',
      'balance',
      'balance_ts',
      'support_calls',
      'closed_account',
      'churned',
    ],
  ];
  for (let i = 0; i < 400; i++) {
    const ev = start + Math.floor(r() * 60 * day);
    const leaked = r() < 0.08;
    const churned = r() < 0.2 ? 1 : 0;
    train.push([
      1 + Math.floor(r() * 50),
      iso(ev),
      Math.round(1000 + 500 * normal(r)),
      iso(ev + (leaked ? 2 * day : -Math.floor(r() * 3 * day))),
      Math.max(0, Math.round(2 + 2 * normal(r) + churned)),
      churned ? (r() < 0.97 ? 1 : 0) : 0,
      churned,
    ]);
  }
  fs.writeFileSync(path.join(out, 'churn_training.csv'), csv(train));
}
console.log(
  `wrote ${fs.readdirSync(out).join(', ')} in ${path.relative(process.cwd(), out) || out}`,
);
