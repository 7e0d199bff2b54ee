// Writes src/core/evals/prices.json, the price table the eval runner ships with, from
// the price data of @pydantic/genai-prices (a devDependency: only this script reads it):
//   node --import tsx scripts/prices.ts
// Re-run it after upgrading that package, and update VERSION and PUBLISHED below.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { findProvider } from '@pydantic/genai-prices';

/** The data this table is built from; checked against the installed package. */
const VERSION = '0.1.8';

/**
 * When @pydantic/genai-prices 0.1.8 was published, from `npm view @pydantic/genai-prices
 * time --json` ("0.1.8": "2026-09-23T10:11:04.622Z"): the date its prices were current.
 * Prices that change on a date (o3 in June 2025) are taken as of this day.
 */
const PUBLISHED = '2026-09-23';

/**
 * Providers whose models are commonly reached through OpenAI-compatible endpoints, in
 * order: a model name two providers share keeps the first one's price.
 */
const PROVIDERS = ['openai', 'anthropic', 'google', 'deepseek', 'mistral', 'x-ai'];

// __dirname, not import.meta.dirname: this file runs (and type-checks) as CommonJS.
const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'src', 'core', 'evals', 'prices.json');

interface ModelPrice {
  input: number;
  cachedInput?: number;
  output: number;
}

type Raw = Record<string, unknown>;
type Match = { equals?: string; or?: Match[] } & Raw;

/** A flat price, or the base of a tiered one (long-context tiers are not applied). */
function rate(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (v && typeof v === 'object' && 'base' in v) return rate((v as { base: unknown }).base);
  return undefined;
}

/** The prices in force on PUBLISHED, for a model with prices that change on dates. */
function current(prices: unknown): Raw | undefined {
  if (!Array.isArray(prices)) return prices as Raw;
  let chosen: Raw | undefined;
  for (const p of prices as {
    constraint?: { type?: string; start_date?: string };
    prices: Raw;
  }[]) {
    const c = p.constraint;
    if (!c) chosen ??= p.prices;
    else if (c.type === 'start_date' && c.start_date && c.start_date <= PUBLISHED)
      chosen = p.prices;
  }
  return chosen;
}

/** The exact names a model answers to (its id and every `equals` of its match). */
function names(id: string, match: Match | undefined): string[] {
  const out = new Set([id]);
  const walk = (m: Match | undefined): void => {
    if (!m) return;
    if (typeof m.equals === 'string') out.add(m.equals);
    for (const x of m.or ?? []) walk(x);
  };
  walk(match);
  return [...out];
}

function main(): void {
  const pkgFile = path.join(ROOT, 'node_modules', '@pydantic', 'genai-prices', 'package.json');
  const installed = (JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { version: string }).version;
  if (installed !== VERSION) {
    throw new Error(
      `@pydantic/genai-prices ${installed} is installed but this script records ${VERSION}: set ` +
        'VERSION and PUBLISHED (npm view @pydantic/genai-prices time --json) in scripts/prices.ts, then re-run.',
    );
  }
  const models: Record<string, ModelPrice> = {};
  const shared: string[] = [];
  for (const providerId of PROVIDERS) {
    const provider = findProvider({ providerId });
    if (!provider) throw new Error(`@pydantic/genai-prices has no provider "${providerId}"`);
    for (const m of provider.models) {
      const p = current(m.prices);
      const input = rate(p?.input_mtok);
      const output = rate(p?.output_mtok);
      if (input === undefined || output === undefined) continue;
      const cachedInput = rate(p?.cache_read_mtok);
      const price: ModelPrice =
        cachedInput !== undefined ? { input, cachedInput, output } : { input, output };
      // Model names as a request carries them; not match prefixes such as "ft:gpt-3.5-turbo-".
      for (const name of names(m.id, m.match as Match).filter((n) => /^[\w.-]*\w$/.test(n))) {
        if (models[name]) {
          if (JSON.stringify(models[name]) !== JSON.stringify(price))
            shared.push(`${providerId}/${name}`);
          continue;
        }
        models[name] = price;
      }
    }
  }
  const sorted = Object.keys(models).sort();
  // One model per line, in the layout prettier keeps, so the file passes format:check.
  const lines = sorted.map((name, i) => {
    const fields = Object.entries(models[name]!).map(([k, v]) => `"${k}": ${JSON.stringify(v)}`);
    return `    ${JSON.stringify(name)}: { ${fields.join(', ')} }${i < sorted.length - 1 ? ',' : ''}`;
  });
  const source = `@pydantic/genai-prices ${VERSION} (${PROVIDERS.join(', ')}; USD per 1M tokens)`;
  const text = [
    '{',
    `  "source": ${JSON.stringify(source)},`,
    `  "date": ${JSON.stringify(PUBLISHED)},`,
    '  "models": {',
    ...lines,
    '  }',
    '}',
    '',
  ].join('\n');
  fs.writeFileSync(OUT, text);
  console.log(`wrote ${path.relative(process.cwd(), OUT)}: ${sorted.length} model names`);
  if (shared.length > 0) console.log(`kept the first provider's price for: ${shared.join(', ')}`);
}

main();
