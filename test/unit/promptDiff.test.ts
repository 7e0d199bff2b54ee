// What changed between two prompt versions: word counts, variables, model settings,
// chat messages, the one-line summary, and the text given to an editor's line diff.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promptText, summarizePromptChange } from '../../src/core/registry/promptDiff.ts';

describe('summarizePromptChange', () => {
  test('identical versions are reported as no change', () => {
    const v = { template: 'Hello {{ name }}', modelSettings: { temperature: 0.2 } };
    const s = summarizePromptChange(v, { ...v, modelSettings: { temperature: 0.2 } });
    assert.deepEqual(s, {
      wordsAdded: 0,
      wordsRemoved: 0,
      variablesAdded: [],
      variablesRemoved: [],
      settingsChanged: [],
      identical: true,
      text: 'no change',
    });
  });

  test('counts added and removed words', () => {
    const s = summarizePromptChange(
      { template: 'Answer the question briefly and politely.' },
      { template: 'Answer the customer question in three short sentences.' },
    );
    // removed: "briefly and politely"; added: "customer", "in three short sentences".
    assert.equal(s.wordsRemoved, 3);
    assert.equal(s.wordsAdded, 5);
    assert.equal(s.identical, false);
    assert.equal(s.text, '+5 / -3 words');
  });

  test('reports variables added and removed; a renamed variable is one word each way', () => {
    const s = summarizePromptChange(
      { template: 'Weather in {{ town }} for {{ day }}' },
      { template: 'Weather in {{city}} for {{ day }}' },
    );
    assert.deepEqual(s.variablesAdded, ['city']);
    assert.deepEqual(s.variablesRemoved, ['town']);
    assert.equal(s.wordsAdded, 1);
    assert.equal(s.wordsRemoved, 1);
    assert.equal(s.text, '+1 / -1 words; variables +{{city}} -{{town}}');
  });

  test('lists changed, added and removed settings sorted by key', () => {
    const s = summarizePromptChange(
      { template: 'Hi', modelSettings: { temperature: 0.2, model: 'gpt-4o', seed: 1 } },
      { template: 'Hi', modelSettings: { temperature: 0.7, model: 'gpt-4o', top_p: 0.9 } },
    );
    assert.deepEqual(s.settingsChanged, [
      { key: 'seed', from: 1, to: undefined },
      { key: 'temperature', from: 0.2, to: 0.7 },
      { key: 'top_p', from: undefined, to: 0.9 },
    ]);
    assert.equal(s.identical, false);
    assert.equal(s.wordsAdded + s.wordsRemoved, 0);
    assert.equal(s.text, 'seed 1 -> unset, temperature 0.2 -> 0.7, top_p unset -> 0.9');
  });

  test('does not report a map setting whose keys were only reordered', () => {
    const s = summarizePromptChange(
      { template: 'Hi', modelSettings: { response_format: { type: 'json', strict: true } } },
      { template: 'Hi', modelSettings: { response_format: { strict: true, type: 'json' } } },
    );
    assert.equal(s.identical, true);
  });

  test('puts words, variables and settings in one line', () => {
    const s = summarizePromptChange(
      { template: 'Trip to {{town}}.', modelSettings: { temperature: 0.2 } },
      { template: 'Plan a trip to {{city}}.', modelSettings: { temperature: 0.7 } },
    );
    // "Trip" -> "Plan a trip" (case counts) and town -> city.
    assert.equal(s.text, '+4 / -2 words; variables +{{city}} -{{town}}; temperature 0.2 -> 0.7');
    assert.ok(!s.text.includes('\n'));
  });

  test('compares chat messages as role: content lines', () => {
    const a = {
      template: '',
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: '{{ question }}' },
      ],
    };
    const b = {
      template: '',
      messages: [
        { role: 'system', content: 'You are helpful and brief.' },
        { role: 'user', content: '{{ question }} about {{ topic }}' },
      ],
    };
    const s = summarizePromptChange(a, b);
    // "and brief" and "about {{ topic }}" are inserted; the braces are not words.
    assert.equal(s.wordsRemoved, 0);
    assert.equal(s.wordsAdded, 4);
    assert.deepEqual(s.variablesAdded, ['topic']);
    assert.deepEqual(s.variablesRemoved, []);
    assert.equal(summarizePromptChange(a, structuredClone(a)).identical, true);
  });

  test('a changed role is a change', () => {
    const s = summarizePromptChange(
      { template: '', messages: [{ role: 'user', content: 'Hi' }] },
      { template: '', messages: [{ role: 'system', content: 'Hi' }] },
    );
    assert.equal(s.identical, false);
    assert.equal(s.wordsAdded, 1);
    assert.equal(s.wordsRemoved, 1);
  });

  test('a switch between text and chat form is a change even with the same words', () => {
    const s = summarizePromptChange(
      { template: 'user: Hi' },
      { template: 'user:\nHi', messages: [{ role: 'user', content: 'Hi' }] },
    );
    assert.equal(s.identical, false);
    assert.equal(s.text, 'text -> chat');
  });

  test('a whitespace-only change is named as such', () => {
    const s = summarizePromptChange({ template: 'a b' }, { template: 'a\n\nb' });
    assert.equal(s.identical, false);
    assert.equal(s.text, 'whitespace changed');
  });
});

describe('promptText', () => {
  test('is the template, ending in one newline, when there are no messages or settings', () => {
    assert.equal(promptText({ template: 'Hello {{ x }}' }), 'Hello {{ x }}\n');
    assert.equal(promptText({ template: 'T\n\n', messages: [], modelSettings: {} }), 'T\n');
  });

  test('writes messages as role blocks separated by blank lines', () => {
    assert.equal(
      promptText({
        template: 'ignored',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Line 1\nLine 2' },
        ],
      }),
      'system:\nBe brief.\n\nuser:\nLine 1\nLine 2\n',
    );
  });

  test('appends the model settings sorted by key', () => {
    assert.equal(
      promptText({
        template: 'Hi',
        modelSettings: { temperature: 0.5, model: 'gpt-4o', stop: ['\n'], max_tokens: 10 },
      }),
      'Hi\n\n--- model settings ---\nmax_tokens: 10\nmodel: gpt-4o\nstop: ["\\n"]\ntemperature: 0.5\n',
    );
  });
});
