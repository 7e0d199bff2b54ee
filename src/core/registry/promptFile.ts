// Prompt files in a workspace (*.prompty, *.prompt.md, *.prompt.txt): their front matter,
// template, chat messages and model settings, read the way Prompty reads them.
//
// Prompty rules followed here come from microsoft/prompty: the front matter schema in
// Prompty.yaml (model.api / configuration / parameters, inputs, sample, tags) and the chat
// parser in runtime/prompty/prompty/parsers.py (role boundary lines, text before the first
// boundary is a system message). Prompty 2's `model` (id, provider, options) follows
// AgentSchema's Model reference (microsoft.github.io/AgentSchema/reference/model).

import { LineCounter, parseDocument } from 'yaml';
import { ValidationError } from '../model/errors.ts';
import { templateVariables, unclosedBraceAt } from './template.ts';

export type PromptRole = 'system' | 'user' | 'assistant';

export interface PromptFileContent {
  name: string;
  description: string | null;
  template: string;
  messages: { role: PromptRole; content: string }[] | null;
  modelSettings: Record<string, string | number | boolean>;
  inputs: string[];
  variables: string[];
  tags: Record<string, string>;
}

const SUFFIXES = ['.prompty', '.prompt.md', '.prompt.txt'];

// The registry's name rule; MLflow's own (mlflow/prompt/constants.py) is looser, this one
// also keeps names usable as file and folder names.
const NAME_RULE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

// Prompty's boundary: an optional `#`, a role, optional `[key=value, ...]`, a colon, alone
// on its line, case-insensitive. `function` and `tools` are Prompty roles we cannot store.
const ROLE_LINE = /^\s*#?\s*(assistant|system|user|function|tools?)\s*(\[[^\]]*\])?\s*:\s*$/i;

// Settings a plain front matter may give at top level: the fields of MLflow's
// PromptModelConfig plus the OpenAI names Prompty's `parameters` use.
const TOP_LEVEL_SETTINGS = [
  'provider',
  'temperature',
  'max_tokens',
  'max_completion_tokens',
  'top_p',
  'top_k',
  'frequency_penalty',
  'presence_penalty',
  'stop',
  'stop_sequences',
  'seed',
  'response_format',
];

export function isPromptFile(fileName: string): boolean {
  return suffixOf(baseName(fileName)) !== null;
}

export function parsePromptFile(fileName: string, text: string): PromptFileContent {
  const base = baseName(fileName);
  const suffix = suffixOf(base);
  if (suffix === null) {
    throw new ValidationError(
      `${fileName} is not a prompt file; name it *.prompty, *.prompt.md or *.prompt.txt.`,
    );
  }
  const isPrompty = suffix === '.prompty';
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const front = readFrontMatter(fileName, lines);
  if (isPrompty && front === null) {
    throw new ValidationError(
      `${fileName} has no front matter; a .prompty file starts with a line "---", YAML ` +
        '(name, description, model...), and a closing "---" line before the prompt.',
    );
  }
  const meta = front?.data ?? {};
  const bodyStart = front ? front.endLine + 1 : 0;
  const bodyLines = lines.slice(bodyStart);
  const template = trimBlankLines(bodyLines).join('\n');

  if (template.trim() === '') {
    throw new ValidationError(
      `${fileName} has no prompt text${front ? ' after its front matter' : ''}; ` +
        'write the prompt below the closing "---" line.',
    );
  }
  const brace = unclosedBraceAt(bodyLines.join('\n'));
  if (brace) {
    throw new ValidationError(
      `${fileName}: line ${bodyStart + brace.line}, column ${brace.column}: "{{" is never ` +
        'closed; add the matching "}}".',
    );
  }

  const model = isRecord(meta.model) ? meta.model : null;
  // Prompty's completion API sends the body as one prompt; only its chat API (the default)
  // splits it into messages.
  const isChatApi = (model?.api ?? model?.apiType ?? 'chat') !== 'completion';
  const messages = isPrompty && isChatApi ? splitMessages(fileName, bodyLines, bodyStart) : null;

  const variables = messages
    ? [...new Set(messages.flatMap((m) => templateVariables(m.content)))]
    : templateVariables(template);

  return {
    name: promptName(fileName, base, suffix, meta, front),
    description: descriptionOf(fileName, meta.description),
    template,
    messages,
    modelSettings: modelSettingsOf(meta),
    inputs: inputsOf(meta),
    variables,
    tags: tagsOf(meta.tags),
  };
}

interface FrontMatter {
  data: Record<string, unknown>;
  /** 0-based index of the closing `---` line. */
  endLine: number;
  /** 1-based file line of a top-level key, when the YAML gives one. */
  lineOf(key: string): number | null;
}

function readFrontMatter(fileName: string, lines: string[]): FrontMatter | null {
  if (lines[0]?.trimEnd() !== '---') return null;
  const endLine = lines.findIndex((l, i) => i > 0 && l.trimEnd() === '---');
  if (endLine < 0) {
    throw new ValidationError(
      `${fileName}: the front matter opened by "---" on line 1 is never closed; ` +
        'add a line "---" after it.',
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(lines.slice(1, endLine).join('\n'), { lineCounter });
  const error = doc.errors[0];
  if (error) {
    // Positions from the parser count from the first front matter line, which is file line 2.
    const pos = error.linePos?.[0];
    const where = pos ? `line ${pos.line + 1}, column ${pos.col}` : 'front matter';
    const reason = error.message.replace(/ at line \d+, column \d+[\s\S]*$/, '').trim();
    throw new ValidationError(
      `${fileName}: ${where}: the front matter is not valid YAML (${reason}); fix it between ` +
        'the two "---" lines.',
    );
  }
  const data: unknown = doc.toJS();
  if (data !== null && !isRecord(data)) {
    throw new ValidationError(
      `${fileName}: the front matter must be YAML keys and values (name: ..., model: ...), ` +
        'not a list or a single value.',
    );
  }
  return {
    data: data ?? {},
    endLine,
    lineOf(key: string) {
      const node = doc.get(key, true) as { range?: [number, number, number] } | undefined;
      return node?.range ? lineCounter.linePos(node.range[0]).line + 1 : null;
    },
  };
}

function promptName(
  fileName: string,
  base: string,
  suffix: string,
  meta: Record<string, unknown>,
  front: FrontMatter | null,
): string {
  if (meta.name !== undefined && meta.name !== null) {
    const name = typeof meta.name === 'string' ? meta.name.trim() : String(meta.name);
    if (!NAME_RULE.test(name)) {
      const line = front?.lineOf('name');
      throw new ValidationError(
        `${fileName}${line ? `: line ${line}` : ''}: the front matter name "${name}" is not a ` +
          `valid prompt name; use letters, digits, ".", "_" or "-" (at most 128, starting with a ` +
          `letter or digit), e.g. name: ${suggestName(name)}`,
      );
    }
    return name;
  }
  const stem = base.slice(0, base.length - suffix.length);
  if (!NAME_RULE.test(stem)) {
    throw new ValidationError(
      `${fileName}: the file name "${stem}" is not a valid prompt name; give the prompt a ` +
        `name in front matter (e.g. a first line "---", then name: ${suggestName(stem)}, then ` +
        '"---"), using letters, digits, ".", "_" or "-".',
    );
  }
  return stem;
}

function suggestName(name: string): string {
  const slug = name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 128);
  return slug === '' ? 'my-prompt' : slug;
}

function descriptionOf(fileName: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ValidationError(
    `${fileName}: the front matter description must be text, not a list or a map.`,
  );
}

/**
 * Flattens what decides the model's behaviour. Connection details (endpoints, API keys,
 * api_version, connection names) are left out on purpose: they belong to the machine, are
 * often secrets, and would make two identical prompts look different.
 */
function modelSettingsOf(meta: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const put = (key: string, value: unknown) => {
    const v = settingValue(value);
    if (v !== undefined) out[key] = v;
  };
  const model = meta.model;
  if (typeof model === 'string') {
    put('model', model);
  } else if (isRecord(model)) {
    const conf = isRecord(model.configuration) ? model.configuration : {};
    // Prompty 1 (Prompty.yaml): Azure names the model by its deployment, OpenAI by `name`,
    // and `type` is the provider. Prompty 2 (AgentSchema's Model) has `id`, `provider` and
    // `options` in place of `parameters`.
    put('model', conf.azure_deployment ?? conf.name ?? model.id);
    put('provider', conf.type ?? model.provider);
    for (const params of [model.parameters, model.options]) {
      if (isRecord(params)) for (const [k, v] of Object.entries(params)) put(k, v);
    }
  }
  for (const key of TOP_LEVEL_SETTINGS) if (!(key in out)) put(key, meta[key]);
  return out;
}

function settingValue(value: unknown): string | number | boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  // Lists and maps (stop sequences, response_format) keep their content as JSON text so a
  // change to them still shows up in a diff.
  return JSON.stringify(value);
}

function inputsOf(meta: Record<string, unknown>): string[] {
  const { inputs, sample } = meta;
  if (isRecord(inputs)) return Object.keys(inputs);
  // Newer Prompty writes inputs as a list of properties with a `name`.
  if (Array.isArray(inputs)) {
    return inputs.flatMap((i) =>
      typeof i === 'string' ? [i] : isRecord(i) && typeof i.name === 'string' ? [i.name] : [],
    );
  }
  // `sample` may also be a file name; only an inline map says what the inputs are.
  if (isRecord(sample)) return Object.keys(sample);
  return [];
}

function tagsOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      out[k] = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    }
  } else if (Array.isArray(value)) {
    // Prompty.yaml makes `tags` a list of words; each becomes a key with no value.
    for (const v of value) if (v !== null && v !== undefined) out[String(v)] = '';
  }
  return out;
}

function splitMessages(
  fileName: string,
  bodyLines: string[],
  bodyStart: number,
): { role: PromptRole; content: string }[] | null {
  const messages: { role: PromptRole; content: string }[] = [];
  // As in Prompty, text before the first role line is the system message.
  let role: PromptRole = 'system';
  let buffer: string[] = [];
  let sawRole = false;
  const flush = () => {
    const content = trimBlankLines(buffer).join('\n');
    if (content !== '') messages.push({ role, content });
    buffer = [];
  };
  bodyLines.forEach((line, i) => {
    const m = ROLE_LINE.exec(line);
    if (!m) {
      buffer.push(line);
      return;
    }
    const name = (m[1] as string).toLowerCase();
    if (name !== 'system' && name !== 'user' && name !== 'assistant') {
      throw new ValidationError(
        `${fileName}: line ${bodyStart + i + 1}: the "${name}" role is not supported in the ` +
          'prompt registry; use system:, user: or assistant:.',
      );
    }
    flush();
    role = name;
    sawRole = true;
  });
  flush();
  return sawRole ? messages : null;
}

function trimBlankLines(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && (lines[start] as string).trim() === '') start++;
  while (end > start && (lines[end - 1] as string).trim() === '') end--;
  return lines.slice(start, end);
}

function baseName(fileName: string): string {
  return fileName.split(/[\\/]/).pop() ?? fileName;
}

function suffixOf(base: string): string | null {
  const lower = base.toLowerCase();
  const suffix = SUFFIXES.find((s) => lower.endsWith(s) && lower.length > s.length);
  return suffix ?? null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
