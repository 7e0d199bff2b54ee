// What changed between two prompt versions: a word-level summary for hovers and commit
// summaries, and the flat text an editor's line diff compares.

import { diffWords } from 'diff';
import { templateVariables } from './template.ts';

export interface PromptVersionLike {
  template: string;
  messages?: { role: string; content: string }[] | null;
  modelSettings?: Record<string, unknown>;
}

export interface PromptChangeSummary {
  wordsAdded: number;
  wordsRemoved: number;
  variablesAdded: string[];
  variablesRemoved: string[];
  /** Sorted by key; `from` / `to` are undefined where a version has no such setting. */
  settingsChanged: { key: string; from: unknown; to: unknown }[];
  identical: boolean;
  /** One line, e.g. `+12 / -3 words; variables +{{city}} -{{town}}; temperature 0.2 -> 0.7`. */
  text: string;
}

export function summarizePromptChange(
  a: PromptVersionLike,
  b: PromptVersionLike,
): PromptChangeSummary {
  const textA = comparedText(a);
  const textB = comparedText(b);
  let wordsAdded = 0;
  let wordsRemoved = 0;
  if (textA !== textB) {
    for (const change of diffWords(textA, textB)) {
      // Counted as whitespace-separated pieces, not diff tokens: jsdiff makes each brace
      // a token, which would count `{{ city }}` as five words instead of one.
      if (change.added) wordsAdded += countWords(change.value);
      else if (change.removed) wordsRemoved += countWords(change.value);
    }
  }
  const varsA = templateVariables(textA);
  const varsB = templateVariables(textB);
  const variablesAdded = varsB.filter((v) => !varsA.includes(v));
  const variablesRemoved = varsA.filter((v) => !varsB.includes(v));
  const settingsChanged = changedSettings(a.modelSettings ?? {}, b.modelSettings ?? {});
  const formChanged = isChat(a) !== isChat(b);
  const identical = textA === textB && settingsChanged.length === 0 && !formChanged;

  const parts: string[] = [];
  if (formChanged) parts.push(isChat(b) ? 'text -> chat' : 'chat -> text');
  if (textA !== textB) {
    parts.push(
      wordsAdded + wordsRemoved > 0
        ? `+${wordsAdded} / -${wordsRemoved} words`
        : 'whitespace changed',
    );
  }
  if (variablesAdded.length + variablesRemoved.length > 0) {
    const vars = [
      ...variablesAdded.map((v) => `+{{${v}}}`),
      ...variablesRemoved.map((v) => `-{{${v}}}`),
    ];
    parts.push(`variables ${vars.join(' ')}`);
  }
  if (settingsChanged.length > 0) {
    parts.push(
      settingsChanged
        .map((s) => `${s.key} ${formatSetting(s.from)} -> ${formatSetting(s.to)}`)
        .join(', '),
    );
  }
  return {
    wordsAdded,
    wordsRemoved,
    variablesAdded,
    variablesRemoved,
    settingsChanged,
    identical,
    text: identical ? 'no change' : parts.join('; '),
  };
}

/** The text a line diff compares: the prompt, then its model settings sorted by key. */
export function promptText(version: PromptVersionLike): string {
  const body = isChat(version)
    ? (version.messages ?? []).map((m) => `${m.role}:\n${m.content}`).join('\n\n')
    : version.template;
  const settings = Object.entries(version.modelSettings ?? {})
    .filter(([, v]) => v !== undefined)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  // Ends with a newline, as a text file does, so diffs show no "no newline" marker.
  const text = body.replace(/\n+$/, '');
  if (settings.length === 0) return `${text}\n`;
  const lines = settings.map(([k, v]) => `${k}: ${formatSetting(v)}`);
  return `${text}\n\n--- model settings ---\n${lines.join('\n')}\n`;
}

function isChat(version: PromptVersionLike): boolean {
  return Array.isArray(version.messages) && version.messages.length > 0;
}

function comparedText(version: PromptVersionLike): string {
  return isChat(version)
    ? (version.messages ?? []).map((m) => `${m.role}: ${m.content}`).join('\n')
    : version.template;
}

function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => w !== '' && !/^[{}]+$/.test(w)).length;
}

function changedSettings(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): PromptChangeSummary['settingsChanged'] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys
    .filter((key) => !sameValue(a[key], b[key]))
    .map((key) => ({ key, from: a[key], to: b[key] }));
}

function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (x === undefined || y === undefined) return false;
  // Settings are YAML/JSON data, so equal JSON means equal settings; key order is
  // normalised so a reordered response_format map is not reported as a change.
  return stableJson(x) === stableJson(y);
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([p], [q]) =>
            p < q ? -1 : p > q ? 1 : 0,
          ),
        )
      : v,
  );
}

function formatSetting(value: unknown): string {
  if (value === undefined) return 'unset';
  // Quoted when plain text would be ambiguous or would break the one-line summary.
  if (typeof value === 'string') return /^\S+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}
