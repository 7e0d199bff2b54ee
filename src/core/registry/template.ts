// Prompt template variables and rendering, by MLflow's prompt-registry rules
// (mlflow/prompt/constants.py PROMPT_TEMPLATE_VARIABLE_PATTERN, PromptVersion.format).

import { ValidationError } from '../model/errors.ts';

// MLflow's pattern: Jinja2 identifiers joined by dots, optional whitespace inside the
// braces. Any other brace use (`{x}`, `{{ 1 + 2 }}`, `{% if %}`, `{{ a-b }}`) is not a
// variable and MLflow leaves it in the text untouched, so we do the same.
const VARIABLE_PATTERN = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;

export interface ChatMessageTemplate {
  role: string;
  content: string;
}

export function templateVariables(text: string): string[] {
  const seen = new Set<string>();
  for (const m of text.matchAll(VARIABLE_PATTERN)) seen.add(m[1] as string);
  return [...seen];
}

export function renderTemplate(text: string, variables: Record<string, unknown>): string {
  checkVariables(templateVariables(text), variables);
  return fill(text, variables);
}

/** Renders every message; a value is missing or unknown judged over all messages together. */
export function renderChat<M extends ChatMessageTemplate>(
  messages: M[],
  variables: Record<string, unknown>,
): M[] {
  const used = new Set<string>();
  for (const m of messages) for (const v of templateVariables(m.content)) used.add(v);
  checkVariables([...used], variables);
  return messages.map((m) => ({ ...m, content: fill(m.content, variables) }));
}

export function validateTemplate(text: string): void {
  if (text.trim() === '') {
    throw new ValidationError(
      'The prompt template is empty; write the prompt text (use {{ name }} for a variable).',
    );
  }
  const at = unclosedBraceAt(text);
  if (at) {
    throw new ValidationError(
      `The "{{" at line ${at.line}, column ${at.column} of the prompt template is never closed; ` +
        'add the matching "}}".',
    );
  }
}

/**
 * Where the first `{{` without a matching `}}` starts (1-based), or null. A `{{` counts as
 * unclosed when another `{{` comes before the next `}}`: that is how a forgotten brace
 * looks in the middle of a template, not only at its end.
 */
export function unclosedBraceAt(text: string): { line: number; column: number } | null {
  let from = 0;
  for (;;) {
    const open = text.indexOf('{{', from);
    if (open < 0) return null;
    const close = text.indexOf('}}', open + 2);
    const nextOpen = text.indexOf('{{', open + 2);
    if (close < 0 || (nextOpen >= 0 && nextOpen < close)) return positionOf(text, open);
    from = close + 2;
  }
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

function checkVariables(used: string[], variables: Record<string, unknown>): void {
  const missing = used.filter((name) => lookup(variables, name) === undefined);
  // A key is in use when a variable names it or looks inside it (`user` for `{{ user.name }}`).
  const unknown = Object.keys(variables).filter(
    (key) => !used.some((name) => name === key || name.startsWith(key + '.')),
  );
  const problems: string[] = [];
  if (missing.length > 0) {
    problems.push(
      `Missing value for template variable${plural(missing)} ${quoted(missing)}; ` +
        'give a value for each variable the template uses',
    );
  }
  if (unknown.length > 0) {
    const uses =
      used.length > 0 ? `the template uses: ${used.join(', ')}` : 'the template uses no variables';
    problems.push(`Unknown variable${plural(unknown)} ${quoted(unknown)}; ${uses}`);
  }
  if (problems.length > 0) throw new ValidationError(problems.join('. ') + '.');
}

function fill(text: string, variables: Record<string, unknown>): string {
  // A replacer function, not a replacement string: a value holding `$&` or `$1` must be
  // inserted literally (MLflow had the same trap with backslashes in re.sub).
  return text.replace(VARIABLE_PATTERN, (_whole, name: string) =>
    formatValue(lookup(variables, name)),
  );
}

/**
 * A flat key wins (`{"user.name": "x"}`); otherwise the longest dotted prefix that is a key
 * is descended into, so `{"user.profile": {name}}` and `{user: {profile: {name}}}` both work.
 */
function lookup(variables: Record<string, unknown>, name: string): unknown {
  if (hasOwn(variables, name)) return variables[name];
  const parts = name.split('.');
  for (let i = parts.length - 1; i >= 1; i--) {
    const head = parts.slice(0, i).join('.');
    if (!hasOwn(variables, head)) continue;
    let value: unknown = variables[head];
    for (const part of parts.slice(i)) {
      // Own properties only: `{{ user.constructor }}` must not reach Object's prototype.
      if (value === null || typeof value !== 'object' || !hasOwn(value, part)) {
        value = undefined;
        break;
      }
      value = (value as Record<string, unknown>)[part];
    }
    if (value !== undefined) return value;
  }
  return undefined;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function plural(list: string[]): string {
  return list.length === 1 ? '' : 's';
}

function quoted(list: string[]): string {
  return list.map((v) => `"${v}"`).join(', ');
}
