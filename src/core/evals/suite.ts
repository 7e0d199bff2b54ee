// Eval suites: the `*.eval.json` / `*.eval.yaml` file that names a dataset, a
// prompt, a provider and the criteria. One zod schema validates a suite, reports
// an error at its place in the file (line and column, and the path), and is
// exported as JSON Schema for completion and errors while editing.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { LineCounter, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { ValidationError } from '../model/errors.ts';

const name = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][\w .-]*$/, 'a name of letters, digits, spaces, ".", "_" and "-"');

const common = {
  name,
  /** Inverts the verdict: "must not contain", "must not be valid JSON". */
  not: z.boolean().optional(),
  /** Weight in the weighted score of a case (default 1). */
  weight: z.number().positive().optional(),
};

const text = z.union([z.string(), z.array(z.string()).min(1)]);
const piiKinds = z.enum(['email', 'phone', 'card', 'iban', 'national_id', 'ip', 'secret']);

export const criterionSchema = z.discriminatedUnion('type', [
  z.object({
    ...common,
    type: z.literal('equals'),
    value: z.string().optional(),
    ignoreCase: z.boolean().optional(),
    trim: z.boolean().optional(),
  }),
  z.object({
    ...common,
    type: z.literal('contains'),
    value: text,
    mode: z.enum(['any', 'all']).optional(),
  }),
  z.object({
    ...common,
    type: z.literal('icontains'),
    value: text,
    mode: z.enum(['any', 'all']).optional(),
  }),
  z.object({
    ...common,
    type: z.literal('starts-with'),
    value: z.string(),
    ignoreCase: z.boolean().optional(),
  }),
  z.object({
    ...common,
    type: z.literal('regex'),
    pattern: z.string().min(1),
    flags: z
      .string()
      .regex(/^[dgimsuvy]*$/)
      .optional(),
  }),
  z.object({
    ...common,
    type: z.literal('levenshtein'),
    value: z.string().optional(),
    threshold: z.number().min(0).max(1),
  }),
  z.object({
    ...common,
    type: z.literal('token-overlap'),
    value: z.string().optional(),
    threshold: z.number().min(0).max(1),
  }),
  z.object({ ...common, type: z.literal('is-json') }),
  z.object({
    ...common,
    type: z.literal('json-schema'),
    schema: z.record(z.string(), z.unknown()),
  }),
  z.object({ ...common, type: z.literal('has-fields'), fields: z.array(z.string().min(1)).min(1) }),
  z.object({ ...common, type: z.literal('max-cost'), usd: z.number().nonnegative() }),
  z.object({ ...common, type: z.literal('max-latency'), ms: z.number().positive() }),
  z.object({ ...common, type: z.literal('max-ttft'), ms: z.number().positive() }),
  z.object({ ...common, type: z.literal('pii'), kinds: z.array(piiKinds).min(1).optional() }),
  z.object({
    ...common,
    type: z.literal('code'),
    /** A JavaScript or TypeScript file in the workspace, relative to the suite. */
    file: z.string().min(1),
    /** The exported function (default: the default export). */
    function: z.string().optional(),
    timeoutMs: z.number().int().positive().max(60_000).optional(),
  }),
  z.object({
    ...common,
    type: z.literal('judge'),
    rubric: z.string().min(1),
    threshold: z.number().min(0).max(1).optional(),
  }),
  z.object({ ...common, type: z.literal('toxicity') }),
  z.object({ ...common, type: z.literal('off-topic'), topic: z.string().min(1) }),
  z.object({ ...common, type: z.literal('policy'), policy: z.string().min(1) }),
  z.object({ ...common, type: z.literal('groundedness') }),
]);

export type Criterion = z.infer<typeof criterionSchema>;

const providerSchema = z.object({
  /** An OpenAI-compatible base URL, e.g. https://api.openai.com/v1 or http://127.0.0.1:8080/v1. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().optional(),
  /** Extra request headers (never the API key: that comes from SecretStorage or the environment). */
  headers: z.record(z.string(), z.string()).optional(),
  /** The environment variable holding the API key (default OPENAI_API_KEY). */
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional(),
  timeoutMs: z.number().int().positive().max(600_000).optional(),
});

export type ProviderConfig = z.infer<typeof providerSchema>;

const caseSchema = z.object({
  id: z.string().optional(),
  vars: z.record(z.string(), z.unknown()),
  expected: z.unknown().optional(),
  context: z.string().optional(),
});

export type EvalCase = z.infer<typeof caseSchema>;

export const suiteSchema = z
  .object({
    $schema: z.string().optional(),
    name: name.optional(),
    description: z.string().optional(),
    /** A prompt file relative to the suite, or a registry URI such as prompts:/summarize@champion. */
    prompt: z.string().min(1),
    dataset: z.union([
      z.object({ path: z.string().min(1) }).strict(),
      z.object({ cases: z.array(caseSchema).min(1) }).strict(),
    ]),
    provider: providerSchema,
    /** The model that grades judge criteria; defaults to the provider. */
    judge: providerSchema.partial().optional(),
    criteria: z.array(criterionSchema).min(1),
    repeat: z.number().int().min(1).max(100).optional(),
    concurrency: z.number().int().min(1).max(64).optional(),
    /** Reuse earlier responses for the same model, settings and rendered prompt (default true). */
    cache: z.boolean().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.criteria.forEach((c, i) => {
      if (seen.has(c.name)) {
        ctx.addIssue({
          code: 'custom',
          message: `two criteria are named "${c.name}"`,
          path: ['criteria', i, 'name'],
        });
      }
      seen.add(c.name);
    });
  });

export type EvalSuite = z.infer<typeof suiteSchema>;

export function isSuiteFile(fileName: string): boolean {
  return /\.eval\.(json|ya?ml)$/i.test(fileName);
}

/** The JSON Schema contributed to the editor for `*.eval.json` and `*.eval.yaml`. */
export function suiteJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(suiteSchema, { target: 'draft-7', io: 'input' }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    title: 'MLOps Workbench eval suite',
    description:
      'A dataset of cases, a prompt, a provider and the criteria that grade each answer.',
  };
}

function describePath(p: readonly PropertyKey[]): string {
  return p.reduce<string>(
    (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : `${acc}.${String(k)}`),
    '$',
  );
}

/**
 * Reads a suite file (JSON or YAML). Errors name the file, the line and column,
 * the path in the suite and what is wrong.
 */
export function parseSuite(file: string, textIn?: string): EvalSuite {
  const text = textIn ?? fs.readFileSync(file, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = lines.linePos(e.pos[0]);
    throw new ValidationError(`${file}:${at.line}:${at.col}: ${e.message.split('\n')[0]}`);
  }
  const parsed = suiteSchema.safeParse(doc.toJS());
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  // The deepest node of the path that exists in the file: where the problem is.
  let node: YamlNode | undefined;
  for (let n = issue.path.length; n >= 0 && !node; n--) {
    const found = n === 0 ? doc.contents : doc.getIn(issue.path.slice(0, n), true);
    if (found && typeof found === 'object' && 'range' in found) node = found as YamlNode;
  }
  const at = node?.range ? lines.linePos(node.range[0]) : { line: 1, col: 1 };
  throw new ValidationError(
    `${file}:${at.line}:${at.col}: ${describePath(issue.path)}: ${issue.message}`,
  );
}

/** The cases of a suite: inline, or read from a JSONL or CSV file next to the suite. */
export function loadCases(suite: EvalSuite, suiteFile: string): EvalCase[] {
  if ('cases' in suite.dataset) return suite.dataset.cases;
  const file = path.resolve(path.dirname(suiteFile), suite.dataset.path);
  if (!fs.existsSync(file)) {
    throw new ValidationError(
      `${suiteFile}: dataset.path ${suite.dataset.path} does not exist (looked for ${file}).`,
    );
  }
  const text = fs.readFileSync(file, 'utf8');
  const rel = suite.dataset.path;
  if (/\.jsonl$/i.test(file)) return jsonlCases(rel, text);
  if (/\.csv$/i.test(file)) return csvCases(rel, text);
  throw new ValidationError(`${suiteFile}: dataset.path ${rel} must be a .jsonl or .csv file.`);
}

/** A row is `{vars, expected?, context?, id?}`, or flat: every field but those is a variable. */
function caseOf(row: Record<string, unknown>): EvalCase {
  if (row.vars && typeof row.vars === 'object' && !Array.isArray(row.vars)) {
    return caseSchema.parse(row);
  }
  const { expected, context, id, ...vars } = row;
  return {
    vars,
    ...(expected !== undefined ? { expected } : {}),
    ...(context !== undefined ? { context: String(context) } : {}),
    ...(id !== undefined ? { id: String(id) } : {}),
  };
}

function jsonlCases(file: string, text: string): EvalCase[] {
  const out: EvalCase[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new ValidationError(`${file}:${i + 1}: not valid JSON (${(e as Error).message}).`);
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) {
      throw new ValidationError(`${file}:${i + 1}: each line must be a JSON object of variables.`);
    }
    try {
      out.push(caseOf(row as Record<string, unknown>));
    } catch (e) {
      throw new ValidationError(`${file}:${i + 1}: ${(e as Error).message.split('\n')[0]}`);
    }
  });
  if (out.length === 0) throw new ValidationError(`${file} has no cases.`);
  return out;
}

function csvCases(file: string, text: string): EvalCase[] {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<
      string,
      string
    >[];
  } catch (e) {
    const err = e as Error & { lines?: number; column?: number };
    throw new ValidationError(`${file}${err.lines ? `:${err.lines}` : ''}: ${err.message}`);
  }
  if (rows.length === 0)
    throw new ValidationError(`${file} has no cases (a header and one row at least).`);
  return rows.map((r) => caseOf(r));
}
