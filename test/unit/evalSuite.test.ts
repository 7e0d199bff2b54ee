// Eval suite files: what a valid suite looks like in JSON and YAML, errors that
// point at the line and path, datasets from JSONL and CSV, and the JSON Schema
// the editor uses (kept in step with the zod schema).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { ValidationError } from '../../src/core/model/errors.ts';
import { isSuiteFile, loadCases, parseSuite, suiteJsonSchema } from '../../src/core/evals/suite.ts';
import { REPO, removeDir, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

const YAML_SUITE = `name: summarize-quality
prompt: prompts/summarize.prompt.md
dataset:
  path: cases.jsonl
provider:
  baseUrl: http://127.0.0.1:8080/v1
  model: fake-small
  temperature: 0
criteria:
  - name: mentions-topic
    type: icontains
    value: [report, memo]
  - name: short
    type: regex
    pattern: "^.{0,200}$"
    flags: s
  - name: no-pii
    type: pii
    not: false
`;

describe('eval suites', () => {
  test('a YAML suite parses, and its JSONL dataset loads (flat rows and {vars} rows)', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir, 'quality.eval.yaml');
    fs.writeFileSync(file, YAML_SUITE);
    fs.writeFileSync(
      path.join(dir, 'cases.jsonl'),
      '{"text": "the report", "expected": "report"}\n\n{"vars": {"text": "a memo"}, "context": "memo text", "id": "c2"}\n',
    );
    const suite = parseSuite(file);
    assert.equal(suite.provider.model, 'fake-small');
    assert.deepEqual(
      suite.criteria.map((c) => [c.name, c.type]),
      [
        ['mentions-topic', 'icontains'],
        ['short', 'regex'],
        ['no-pii', 'pii'],
      ],
    );
    assert.deepEqual(loadCases(suite, file), [
      { vars: { text: 'the report' }, expected: 'report' },
      { vars: { text: 'a memo' }, context: 'memo text', id: 'c2' },
    ]);
  });

  test('a JSON suite with inline cases, and a CSV dataset', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir, 's.eval.json');
    const suite = parseSuite(
      file,
      JSON.stringify({
        prompt: 'prompts:/summarize@champion',
        dataset: { cases: [{ vars: { text: 'x' }, expected: 'y' }] },
        provider: { baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini' },
        criteria: [{ name: 'eq', type: 'equals' }],
      }),
    );
    assert.equal(loadCases(suite, file).length, 1);
    fs.writeFileSync(path.join(dir, 'cases.csv'), 'text,expected\n"a, b",b\nc,d\n');
    const csvSuite = { ...suite, dataset: { path: 'cases.csv' } };
    assert.deepEqual(loadCases(csvSuite, file), [
      { vars: { text: 'a, b' }, expected: 'b' },
      { vars: { text: 'c' }, expected: 'd' },
    ]);
  });

  test('errors name the file, line, column and path of the problem', () => {
    const bad = YAML_SUITE.replace('temperature: 0', 'temperature: 7');
    assert.throws(
      () => parseSuite('q.eval.yaml', bad),
      (e: Error) => {
        assert.ok(e instanceof ValidationError);
        assert.match(e.message, /^q\.eval\.yaml:8:16: \$\.provider\.temperature: /);
        return true;
      },
    );
    const unknownType = YAML_SUITE.replace('type: regex', 'type: regexp');
    assert.throws(
      () => parseSuite('q.eval.yaml', unknownType),
      /q\.eval\.yaml:14:\d+: \$\.criteria\[1\]\.type: Invalid discriminator/,
    );
    const dup = YAML_SUITE.replace('name: short', 'name: mentions-topic');
    assert.throws(
      () => parseSuite('q.eval.yaml', dup),
      /\$\.criteria\[1\]\.name: two criteria are named "mentions-topic"/,
    );
    assert.throws(
      () => parseSuite('q.eval.yaml', 'prompt: [unclosed\n'),
      /q\.eval\.yaml:\d+:\d+: /,
    );
    const noKeyInFile = YAML_SUITE.replace('  baseUrl: http://127.0.0.1:8080/v1\n', '');
    assert.throws(() => parseSuite('q.eval.yaml', noKeyInFile), /\$\.provider\.baseUrl/);
    const extra = YAML_SUITE + 'apiKey: sk-should-not-be-here\n';
    assert.throws(() => parseSuite('q.eval.yaml', extra), /apiKey/);
  });

  test('dataset errors name the file and line', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir, 'q.eval.yaml');
    fs.writeFileSync(file, YAML_SUITE);
    fs.writeFileSync(path.join(dir, 'cases.jsonl'), '{"text": "ok"}\n{"text": oops}\n');
    assert.throws(() => loadCases(parseSuite(file), file), /cases\.jsonl:2: not valid JSON/);
    fs.writeFileSync(path.join(dir, 'cases.jsonl'), '{"text": "ok"}\n[1, 2]\n');
    assert.throws(
      () => loadCases(parseSuite(file), file),
      /cases\.jsonl:2: each line must be a JSON object/,
    );
    fs.rmSync(path.join(dir, 'cases.jsonl'));
    assert.throws(
      () => loadCases(parseSuite(file), file),
      /dataset\.path cases\.jsonl does not exist/,
    );
  });

  test('suite files are recognised by name', () => {
    assert.ok(isSuiteFile('a/quality.eval.json'));
    assert.ok(isSuiteFile('quality.eval.yaml'));
    assert.ok(isSuiteFile('quality.eval.yml'));
    assert.equal(isSuiteFile('quality.json'), false);
  });

  test('the JSON Schema shipped for the editor is the one the zod schema generates', () => {
    const shipped = JSON.parse(
      fs.readFileSync(path.join(REPO, 'schemas', 'eval-suite.schema.json'), 'utf8'),
    );
    assert.deepEqual(shipped, suiteJsonSchema(), 'run `npm run schemas` to regenerate it');
    const props = (shipped as { properties: Record<string, unknown> }).properties;
    assert.ok(props.criteria && props.provider && props.dataset && props.prompt);
  });
});
