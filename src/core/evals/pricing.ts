// Model prices and what a call costs: the price table shipped in prices.json (generated
// by scripts/prices.ts), the user's overrides from the `mlops.evals.prices` setting, and
// the arithmetic from a response's token usage to USD.

import { z } from 'zod';
import { ValidationError } from '../model/errors.ts';
// A plain JSON import: this tsconfig compiles src as CommonJS, where TypeScript refuses
// `with { type: 'json' }` (TS2856); esbuild and tsx load the file either way.
import prices from './prices.json';

/** USD per 1M tokens. */
export interface ModelPrice {
  input: number;
  /** Input tokens served from the prompt cache; billed at `input` when absent. */
  cachedInput?: number;
  output: number;
}

export interface PriceTable {
  /** Where the prices come from, for the README and the run's report. */
  source: string;
  /** YYYY-MM-DD: when the prices were taken. */
  date: string;
  models: Record<string, ModelPrice>;
}

export interface PriceMatch {
  price: ModelPrice;
  /** `settings`: the user's overrides; `shipped`: prices.json. */
  source: 'settings' | 'shipped';
  /** The table key that matched, e.g. `gpt-4o` for `openai/gpt-4o-2024-08-06`. */
  matched: string;
  /** Where the price came from, for people: "settings", or the shipped table's source and date. */
  sourceLabel: string;
}

/** Token counts of one call, as OpenAI's usage reports them. */
export interface TokenUsage {
  /** All prompt tokens (prompt_tokens), cached ones included. */
  input: number;
  /** All completion tokens (completion_tokens), reasoning ones included. */
  output: number;
  /** The part of `input` read from the prompt cache (prompt_tokens_details.cached_tokens). */
  cached: number;
  /** The part of `output` spent on reasoning (completion_tokens_details.reasoning_tokens). */
  reasoning: number;
}

// Frozen because every caller shares it: an edit through one run would reprice the next.
const SHIPPED: PriceTable = freezeTable(prices);

/** The price table that ships with the extension. Read-only. */
export function shippedPrices(): PriceTable {
  return SHIPPED;
}

/**
 * The price of `model`, or null when neither the overrides nor the table know it (the
 * cost is then unknown, not zero). Names are tried from the most specific: the name as
 * given, then without a provider prefix (`openai/gpt-4o` → `gpt-4o`), then also without
 * a dated snapshot suffix (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`, `gpt-4-0613` →
 * `gpt-4`). For each name an override beats the shipped table; a more specific name in
 * the table beats an override of a less specific one, since a snapshot can be priced
 * apart from its alias.
 */
export function priceFor(
  model: string,
  overrides?: Record<string, ModelPrice>,
  table: PriceTable = shippedPrices(),
): PriceMatch | null {
  for (const name of candidateNames(model)) {
    // Own properties only: a model named "constructor" must not find Object.prototype's.
    if (overrides && Object.hasOwn(overrides, name)) {
      return {
        price: overrides[name]!,
        source: 'settings',
        matched: name,
        sourceLabel: 'settings',
      };
    }
    if (Object.hasOwn(table.models, name)) {
      const sourceLabel = `${table.source}, ${table.date}`;
      return { price: table.models[name]!, source: 'shipped', matched: name, sourceLabel };
    }
  }
  return null;
}

/** A dated snapshot suffix: -YYYY-MM-DD (gpt-4o-2024-08-06) or -MMDD (gpt-4-0613). */
const SNAPSHOT_SUFFIX =
  /-(?:\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])|(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))$/;

function candidateNames(model: string): string[] {
  const names = [model];
  const bare = model.slice(model.lastIndexOf('/') + 1);
  if (bare !== model) names.push(bare);
  const undated = bare.replace(SNAPSHOT_SUFFIX, '');
  if (undated !== bare && undated !== '') names.push(undated);
  return names;
}

/**
 * What a call cost in USD. The counts follow OpenAI's usage, where `input` already
 * includes the `cached` tokens and `output` already includes the `reasoning` tokens: the
 * cached part of the input is billed at `cachedInput` (at `input` when the price has no
 * cached rate) and the rest at `input`; reasoning tokens are billed as output once, as
 * part of `output`, not added again.
 */
export function costOf(usage: TokenUsage, price: ModelPrice): number {
  for (const field of ['input', 'output', 'cached', 'reasoning'] as const) {
    const n = usage[field];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
      throw new ValidationError(
        `usage.${field} must be a token count >= 0 (got ${show(n)}): check what the provider returned as usage.`,
      );
    }
  }
  if (usage.cached > usage.input) {
    throw new ValidationError(
      `usage.cached (${usage.cached}) is more than usage.input (${usage.input}): cached tokens are ` +
        'counted inside the input (OpenAI reports cached_tokens as part of prompt_tokens); the ' +
        "provider's usage does not follow that convention.",
    );
  }
  const uncached = usage.input - usage.cached;
  const cachedRate = price.cachedInput ?? price.input;
  // One division at the end keeps whole-dollar examples exact.
  return (uncached * price.input + usage.cached * cachedRate + usage.output * price.output) / 1e6;
}

const priceSchema = z.number().min(0);
const entrySchema = z.strictObject({
  input: priceSchema,
  cachedInput: priceSchema.optional(),
  output: priceSchema,
});

const FIELDS = 'the fields are "input", "output" and an optional "cachedInput"';

/**
 * Checks price overrides shaped `{ "<model>": { "input": n, "output": n, "cachedInput"?: n } }`
 * (USD per 1M tokens), from the `mlops.evals.prices` setting or, in the CLI, the
 * MLOPS_PRICES variable: `where` names the source in the error. Null and undefined mean
 * no overrides. Throws a ValidationError naming each bad model and field.
 */
export function validatePriceOverrides(
  value: unknown,
  where = 'mlops.evals.prices',
): Record<string, ModelPrice> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(
      `${where}: expected an object of prices by model, e.g. ` +
        `{ "my-model": { "input": 0.5, "output": 1.5 } } (USD per 1M tokens); got ${show(value)}.`,
    );
  }
  const problems: string[] = [];
  const entries: [string, ModelPrice][] = [];
  for (const [model, entry] of Object.entries(value)) {
    const at = `${where}[${JSON.stringify(model)}]`;
    if (model.trim() === '') {
      problems.push(`${at}: the model name is empty`);
      continue;
    }
    const parsed = entrySchema.safeParse(entry);
    if (parsed.success) {
      entries.push([model, parsed.data]);
      continue;
    }
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
        problems.push(`${at}: unknown field ${keys}; ${FIELDS}`);
      } else if (typeof field === 'string') {
        const got = (entry as Record<string, unknown>)[field];
        problems.push(
          `${at}.${field}: expected a number >= 0 (USD per 1M tokens), ${got === undefined ? 'missing' : `got ${show(got)}`}`,
        );
      } else {
        problems.push(
          `${at}: expected an object (USD per 1M tokens), got ${show(entry)}; ${FIELDS}`,
        );
      }
    }
  }
  if (problems.length > 0) throw new ValidationError(`${problems.join('; ')}.`);
  // fromEntries makes own properties even of names like "__proto__".
  return Object.fromEntries(entries);
}

function show(v: unknown): string {
  // String() for numbers, since JSON.stringify writes NaN and Infinity as null.
  const s = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

function freezeTable(table: PriceTable): PriceTable {
  for (const price of Object.values(table.models)) Object.freeze(price);
  Object.freeze(table.models);
  return Object.freeze(table);
}
