// "Add to eval dataset": an LLM span becomes a case of an eval suite's dataset. Its template
// variables when it recorded them (our evals and the gateway do, as `mlops.prompt.variables`),
// else the conversation: `input` (the last user message) and `messages` (all of them). Its
// output is the reference answer. A case whose variables are already in the dataset is not
// added twice. JSONL files get a line, CSV files a row (when its columns fit), and inline
// cases in the suite file a new entry (comments and layout kept).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { isSeq, parseDocument } from 'yaml';
import { ValidationError } from '../model/errors.ts';
import type { EvalCase } from '../evals/suite.ts';
import { loadCases, parseSuite } from '../evals/suite.ts';
import { parseMaybeJson } from './conventions.ts';
import type { TraceSpan } from './traces.ts';

export interface DatasetAddition {
  /** false: a case with the same variables was there already; nothing was written. */
  added: boolean;
  case: EvalCase;
  /** The file written (or that already held the case). */
  file: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The case an LLM span gives. */
export function caseFromSpan(span: TraceSpan): EvalCase {
  const m = span.meaning;
  const recorded = parseMaybeJson(span.attributes['mlops.prompt.variables']);
  let vars: Record<string, unknown>;
  if (isObject(recorded)) vars = recorded;
  else if (m.inputMessages.length > 0) {
    const lastUser = [...m.inputMessages].reverse().find((x) => x.role === 'user');
    vars = {
      input: lastUser?.content ?? '',
      messages: m.inputMessages.map(({ role, content }) => ({ role, content })),
    };
  } else if (isObject(m.inputs) && !('messages' in m.inputs)) vars = m.inputs;
  else if (typeof m.inputs === 'string') vars = { input: m.inputs };
  else {
    throw new ValidationError(
      `Span ${span.name} (${span.spanId}) recorded no input messages or variables to make a case of.`,
    );
  }
  const answer =
    m.outputMessages.find((x) => x.role === 'assistant')?.content ??
    (typeof m.outputs === 'string' ? m.outputs : undefined);
  return {
    id: `trace-${span.traceId.slice(0, 8)}-${span.spanId.slice(0, 8)}`,
    vars,
    ...(answer !== undefined && answer !== '' ? { expected: answer } : {}),
  };
}

/** Key order does not make two variable sets different. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** Adds `c` to the dataset of the suite in `suiteFile`, unless its variables are there. */
export function addCaseToSuite(suiteFile: string, c: EvalCase): DatasetAddition {
  const suite = parseSuite(suiteFile);
  const existing = loadCases(suite, suiteFile);
  const key = canonical(c.vars);
  const inline = 'cases' in suite.dataset;
  const file = inline
    ? suiteFile
    : path.resolve(path.dirname(suiteFile), (suite.dataset as { path: string }).path);
  if (existing.some((e) => canonical(e.vars) === key)) return { added: false, case: c, file };
  if (inline) {
    const text = fs.readFileSync(suiteFile, 'utf8');
    if (/\.json$/i.test(suiteFile)) {
      const json = JSON.parse(text) as { dataset: { cases: unknown[] } };
      json.dataset.cases.push(c);
      fs.writeFileSync(suiteFile, JSON.stringify(json, null, 2) + '\n');
    } else {
      const doc = parseDocument(text);
      const cases = doc.getIn(['dataset', 'cases'], true);
      if (!isSeq(cases)) throw new ValidationError(`${suiteFile}: dataset.cases is not a list.`);
      cases.add(doc.createNode(c));
      fs.writeFileSync(suiteFile, doc.toString());
    }
    return { added: true, case: c, file };
  }
  if (/\.jsonl$/i.test(file)) {
    const text = fs.readFileSync(file, 'utf8');
    const row = {
      ...(c.id ? { id: c.id } : {}),
      vars: c.vars,
      ...(c.expected !== undefined ? { expected: c.expected } : {}),
    };
    fs.appendFileSync(
      file,
      `${text === '' || text.endsWith('\n') ? '' : '\n'}${JSON.stringify(row)}\n`,
    );
    return { added: true, case: c, file };
  }
  // CSV: one column per variable; a case only fits when its variables are the file's columns.
  const text = fs.readFileSync(file, 'utf8');
  const [header] = parseCsv(text, { to_line: 1, bom: true }) as string[][];
  const columns = header ?? [];
  const wanted = {
    ...(c.id ? { id: c.id } : {}),
    ...c.vars,
    ...(c.expected !== undefined ? { expected: c.expected } : {}),
  };
  const extra = Object.keys(wanted).filter((k) => !columns.includes(k));
  if (extra.length > 0 || Object.values(c.vars).some((v) => typeof v === 'object' && v !== null)) {
    throw new ValidationError(
      `${file} has the columns ${columns.join(', ')}; this case has ${Object.keys(wanted).join(', ')}` +
        (extra.length ? ` (no column for ${extra.join(', ')})` : ' (a variable that is not text)') +
        '. Add it to a suite whose dataset is a .jsonl file, or add the columns.',
    );
  }
  const row = columns.map((k) => {
    const v = (wanted as Record<string, unknown>)[k];
    return v === undefined || v === null ? '' : String(v);
  });
  fs.appendFileSync(
    file,
    `${text === '' || text.endsWith('\n') ? '' : '\n'}${stringifyCsv([row])}`,
  );
  return { added: true, case: c, file };
}

/** Whether a suite's dataset can take a case without a file chooser (for pickers). */
export function suiteDatasetLabel(suiteFile: string): string {
  const suite = parseSuite(suiteFile);
  return 'cases' in suite.dataset ? 'inline cases' : (suite.dataset as { path: string }).path;
}
