import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { COMMAND_IDS } from '../../src/extension/commandIds.ts';
import { REPO } from './helpers.ts';

const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));

test('package.json contributes exactly the commands the extension registers', () => {
  const contributed = (manifest.contributes.commands as { command: string }[])
    .map((c) => c.command)
    .sort();
  assert.deepEqual(contributed, Object.values(COMMAND_IDS).sort());
  const dir = path.join(REPO, 'src', 'extension', 'commands');
  const source = fs
    .readdirSync(dir)
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
  for (const key of Object.keys(COMMAND_IDS)) {
    const registered = new RegExp(`registerCommand\\(\\s*COMMAND_IDS\\.${key}\\b`);
    assert.match(source, registered, `COMMAND_IDS.${key} is registered`);
  }
});

test('menus and palette entries name only declared commands', () => {
  const ids = new Set(Object.values(COMMAND_IDS) as string[]);
  for (const [menu, entries] of Object.entries(
    manifest.contributes.menus as Record<string, { command: string }[]>,
  )) {
    for (const e of entries) assert.ok(ids.has(e.command), `${menu}: ${e.command}`);
  }
});

test('engines.vscode and @types/vscode agree, and the CLI is the mlops bin', () => {
  const engine = String(manifest.engines.vscode).replace(/^\^/, '');
  assert.equal(manifest.devDependencies['@types/vscode'], engine);
  assert.equal(manifest.name, 'mlops-workbench');
  assert.equal(manifest.displayName, 'MLOps Workbench');
  assert.equal(manifest.bin.mlops, './dist/cli.js');
});

test('the .vsix allowlist ships the bundles and the wasm, nothing else by default', () => {
  const lines = fs
    .readFileSync(path.join(REPO, '.vscodeignore'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  assert.equal(lines[0], '**');
  for (const f of ['!dist/extension.js', '!dist/cli.js', '!dist/sql-wasm.wasm', '!media/**']) {
    assert.ok(lines.includes(f), f);
  }
});
