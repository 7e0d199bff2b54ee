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
  const source = fs.readFileSync(path.join(REPO, 'src', 'extension', 'extension.ts'), 'utf8');
  for (const key of Object.keys(COMMAND_IDS)) {
    assert.ok(
      source.includes(`COMMAND_IDS.${key}`),
      `COMMAND_IDS.${key} is registered in extension.ts`,
    );
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
  for (const f of ['!dist/extension.js', '!dist/cli.js', '!dist/sql-wasm.wasm'])
    assert.ok(lines.includes(f), f);
});
