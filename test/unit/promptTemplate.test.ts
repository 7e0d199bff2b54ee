// Prompt template rules (MLflow's `{{ var }}` syntax): which variables a template uses,
// rendering with flat and nested values, and the errors a user sees for bad input.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/model/errors.ts';
import {
  renderChat,
  renderTemplate,
  templateVariables,
  unclosedBraceAt,
  validateTemplate,
} from '../../src/core/registry/template.ts';

function assertValidation(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

describe('templateVariables', () => {
  test('finds names with and without spaces inside the braces', () => {
    assert.deepEqual(templateVariables('Hi {{name}}, from {{  city }} and {{\tcountry\t}}.'), [
      'name',
      'city',
      'country',
    ]);
  });

  test('keeps dotted names whole', () => {
    assert.deepEqual(templateVariables('{{ user.name }} / {{user.address.zip}}'), [
      'user.name',
      'user.address.zip',
    ]);
  });

  test('lists a repeated name once, in order of first appearance', () => {
    assert.deepEqual(templateVariables('{{ b }} {{a}} {{ b }} {{ c }} {{a}}'), ['b', 'a', 'c']);
  });

  test('gives nothing for a template without variables', () => {
    assert.deepEqual(templateVariables('Summarise the text below.'), []);
  });

  test('ignores brace uses that are not MLflow variables', () => {
    const text = 'JSON {"a": {"b": 1}} f{x} {{ 1 + 2 }} {{ a-b }} {% if x %} {{ 9lives }} {{ ok }}';
    assert.deepEqual(templateVariables(text), ['ok']);
  });
});

describe('renderTemplate', () => {
  test('fills every occurrence, whatever the spacing', () => {
    assert.equal(
      renderTemplate('{{name}} and {{ name }} in {{ city}}', { name: 'Ada', city: 'Paris' }),
      'Ada and Ada in Paris',
    );
  });

  test('looks a dotted name up as a flat key first', () => {
    assert.equal(
      renderTemplate('Hi {{ user.name }}', { 'user.name': 'flat', user: { name: 'nested' } }),
      'Hi flat',
    );
  });

  test('then as a path into nested objects', () => {
    assert.equal(
      renderTemplate('{{ user.name }} lives in {{ user.address.city }}', {
        user: { name: 'Ada', address: { city: 'London' } },
      }),
      'Ada lives in London',
    );
  });

  test('descends from a dotted flat key into a nested object', () => {
    assert.equal(
      renderTemplate('{{ user.profile.name }}', { 'user.profile': { name: 'Ada' } }),
      'Ada',
    );
  });

  test('writes numbers and booleans with String() and objects and arrays as JSON', () => {
    assert.equal(
      renderTemplate('{{n}}|{{f}}|{{b}}|{{o}}|{{l}}|{{z}}', {
        n: 42,
        f: 0.5,
        b: false,
        o: { a: 1, b: [2] },
        l: ['x', 3],
        z: null,
      }),
      '42|0.5|false|{"a":1,"b":[2]}|["x",3]|null',
    );
  });

  test('inserts values literally, even with $ replacement patterns', () => {
    assert.equal(renderTemplate('cost: {{ price }}', { price: '$& $1 $$' }), 'cost: $& $1 $$');
  });

  test('leaves non-variable braces untouched', () => {
    assert.equal(
      renderTemplate('{"k": {{ v }}} {x} {{ 1 + 2 }}', { v: 3 }),
      '{"k": 3} {x} {{ 1 + 2 }}',
    );
  });

  test('names every missing variable', () => {
    assertValidation(
      () => renderTemplate('{{ a }} {{ b }} {{ c }}', { b: 1 }),
      /Missing value for template variables "a", "c"/,
    );
    assertValidation(
      () => renderTemplate('{{ a }}', {}),
      /^Missing value for template variable "a";/,
    );
  });

  test('counts a nested path that does not resolve as missing', () => {
    assertValidation(
      () => renderTemplate('{{ user.name }}', { user: { nick: 'x' } }),
      /Missing value for template variable "user.name"/,
    );
    assertValidation(
      () => renderTemplate('{{ user.constructor }}', { user: {} }),
      /Missing value for template variable "user.constructor"/,
    );
  });

  test('names an unknown variable and lists what the template uses', () => {
    assertValidation(
      () => renderTemplate('{{ a }} {{ b }}', { a: 1, b: 2, y: 3 }),
      /Unknown variable "y"; the template uses: a, b/,
    );
    assertValidation(
      () => renderTemplate('plain', { y: 1 }),
      /Unknown variable "y"; the template uses no variables/,
    );
  });

  test('reports a missing and an unknown variable together (a typo)', () => {
    assertValidation(
      () => renderTemplate('{{ city }}', { cty: 'Paris' }),
      /Missing value for template variable "city".*Unknown variable "cty"; the template uses: city/,
    );
  });

  test('accepts a nested object for a dotted variable without calling it unknown', () => {
    assert.equal(renderTemplate('{{ user.name }}', { user: { name: 'Ada' } }), 'Ada');
  });
});

describe('renderChat', () => {
  const messages = [
    { role: 'system', content: 'You help people in {{ city }}.' },
    { role: 'user', content: '{{ question }}' },
  ];

  test('renders each message and keeps the roles', () => {
    assert.deepEqual(renderChat(messages, { city: 'Oslo', question: 'Where to eat?' }), [
      { role: 'system', content: 'You help people in Oslo.' },
      { role: 'user', content: 'Where to eat?' },
    ]);
  });

  test('judges unknown variables over all messages together', () => {
    // `question` is not in the system message, but another message uses it.
    assert.doesNotThrow(() => renderChat(messages, { city: 'Oslo', question: 'q' }));
    assertValidation(
      () => renderChat(messages, { city: 'Oslo', question: 'q', extra: 1 }),
      /Unknown variable "extra"; the template uses: city, question/,
    );
  });

  test('judges missing variables over all messages together', () => {
    assertValidation(
      () => renderChat(messages, { city: 'Oslo' }),
      /Missing value for template variable "question"/,
    );
  });
});

describe('validateTemplate', () => {
  test('accepts a template with closed variables', () => {
    assert.doesNotThrow(() => validateTemplate('Hello {{ name }}'));
  });

  test('rejects an empty or whitespace-only template', () => {
    assertValidation(() => validateTemplate(''), /template is empty/);
    assertValidation(() => validateTemplate('  \n\t \n'), /template is empty/);
  });

  test('names the line and column of an unclosed {{ at the end', () => {
    assertValidation(
      () => validateTemplate('line one\n  hello {{ name\n'),
      /"\{\{" at line 2, column 9 .*never closed/,
    );
  });

  test('finds an unclosed {{ followed by a closed one', () => {
    assert.deepEqual(unclosedBraceAt('a {{ x }}\nb {{ y \nc {{ z }}'), { line: 2, column: 3 });
    assert.equal(unclosedBraceAt('a {{ x }} b {{ y }}'), null);
    assert.equal(unclosedBraceAt('only }} closing'), null);
  });
});
