import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { REPO } from './helpers.ts';

// The walls of ARCHITECTURE.md that eslint's no-restricted-imports cannot see: what each file
// imports, resolved to files, so cycles show.

const CORE = path.join(REPO, 'src', 'core');

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^(?:import|export)[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]!);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => path.relative(CORE, path.resolve(path.dirname(file), s)));
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(path.join(CORE, dir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(CORE, dir, f));
}

test('src/core/store imports only src/core/model, log.ts and itself', () => {
  for (const file of filesUnder('store')) {
    for (const target of importsOf(file)) {
      assert.match(
        target,
        /^(store|model)\/|^log\.ts$/,
        `${path.relative(REPO, file)} imports ${target}`,
      );
    }
  }
});

test('no two files of src/core/store import each other, directly or around a cycle', () => {
  const graph = new Map<string, string[]>();
  for (const file of filesUnder('store')) {
    graph.set(
      path.relative(CORE, file),
      importsOf(file).filter((t) => t.startsWith('store/')),
    );
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: string, trail: string[]): void => {
    if (state.get(node) === 'done') return;
    assert.notEqual(state.get(node), 'visiting', `import cycle: ${[...trail, node].join(' -> ')}`);
    state.set(node, 'visiting');
    for (const next of graph.get(node) ?? []) visit(next, [...trail, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
});

test('src/core/model holds types and imports nothing outside it', () => {
  for (const file of filesUnder('model')) {
    for (const target of importsOf(file)) {
      assert.match(target, /^model\//, `${path.relative(REPO, file)} imports ${target}`);
    }
    const text = fs.readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /^import (?!type )/m, `${path.relative(REPO, file)}: types only`);
  }
});
