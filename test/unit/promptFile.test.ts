// Prompt files in a workspace: which names count, Prompty front matter and chat roles,
// plain .prompt.md files, and the errors (with file lines) for files a user must fix.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/model/errors.ts';
import { isPromptFile, parsePromptFile } from '../../src/core/registry/promptFile.ts';

function assertValidation(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

const CHAT_PROMPTY = `---
name: support-chat
description: Answers customer questions
tags:
  team: support
  tier: 2
model:
  api: chat
  configuration:
    type: azure_openai
    azure_endpoint: \${env:AZURE_OPENAI_ENDPOINT}
    azure_deployment: gpt-4o-mini
    api_key: \${env:AZURE_OPENAI_API_KEY}
    api_version: 2024-07-01-preview
  parameters:
    max_tokens: 256
    temperature: 0.2
    stop:
      - "###"
inputs:
  customer:
    type: string
  question:
    type: string
sample:
  customer: Ada
  question: Where is my order?
---

system:
You are a support agent for {{ customer }}.
Be brief.

user:
{{question}}

assistant:
Let me check {{ customer.order_id }}.
`;

describe('isPromptFile', () => {
  test('recognises the three prompt file kinds, also inside folders', () => {
    assert.equal(isPromptFile('a.prompty'), true);
    assert.equal(isPromptFile('prompts/greet.prompt.md'), true);
    assert.equal(isPromptFile('C:\\work\\greet.prompt.txt'), true);
    assert.equal(isPromptFile('Greet.PROMPTY'), true);
  });

  test('rejects other files', () => {
    assert.equal(isPromptFile('readme.md'), false);
    assert.equal(isPromptFile('notes.txt'), false);
    assert.equal(isPromptFile('prompt.md'), false);
    assert.equal(isPromptFile('a.prompty.bak'), false);
    assert.equal(isPromptFile('.prompty'), false);
  });
});

describe('parsePromptFile: .prompty', () => {
  const parsed = parsePromptFile('prompts/support.prompty', CHAT_PROMPTY);

  test('takes name, description and tags from the front matter', () => {
    assert.equal(parsed.name, 'support-chat');
    assert.equal(parsed.description, 'Answers customer questions');
    assert.deepEqual(parsed.tags, { team: 'support', tier: '2' });
  });

  test('flattens model configuration and parameters, leaving out connection details', () => {
    assert.deepEqual(parsed.modelSettings, {
      model: 'gpt-4o-mini',
      provider: 'azure_openai',
      max_tokens: 256,
      temperature: 0.2,
      stop: '["###"]',
    });
  });

  test('lists the inputs', () => {
    assert.deepEqual(parsed.inputs, ['customer', 'question']);
  });

  test('splits the body into chat messages at role lines', () => {
    assert.deepEqual(parsed.messages, [
      { role: 'system', content: 'You are a support agent for {{ customer }}.\nBe brief.' },
      { role: 'user', content: '{{question}}' },
      { role: 'assistant', content: 'Let me check {{ customer.order_id }}.' },
    ]);
  });

  test('keeps the whole body, role lines included, as the template', () => {
    assert.ok(parsed.template.startsWith('system:\nYou are a support agent'));
    assert.ok(parsed.template.endsWith('Let me check {{ customer.order_id }}.'));
  });

  test('collects variables over all messages', () => {
    assert.deepEqual(parsed.variables, ['customer', 'question', 'customer.order_id']);
  });

  test('reads the OpenAI configuration name and falls back to sample keys for inputs', () => {
    const p = parsePromptFile(
      'x.prompty',
      [
        '---',
        'model:',
        '  configuration:',
        '    type: openai',
        '    name: gpt-4.1',
        'sample:',
        '  topic: cats',
        '---',
        'Write about {{topic}}.',
      ].join('\n'),
    );
    assert.deepEqual(p.modelSettings, { model: 'gpt-4.1', provider: 'openai' });
    assert.deepEqual(p.inputs, ['topic']);
    assert.equal(p.name, 'x');
    assert.equal(p.messages, null, 'a body without role lines has no messages');
    assert.equal(p.template, 'Write about {{topic}}.');
  });

  test('puts text before the first role line into a system message, as Prompty does', () => {
    const p = parsePromptFile(
      'x.prompty',
      '---\nname: x\n---\nYou are terse.\n\n# User:\nHi {{ name }}\n',
    );
    assert.deepEqual(p.messages, [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hi {{ name }}' },
    ]);
  });

  test('does not split the body for the completion API', () => {
    const p = parsePromptFile('x.prompty', '---\nmodel:\n  api: completion\n---\nsystem:\nHello\n');
    assert.equal(p.messages, null);
    assert.equal(p.template, 'system:\nHello');
  });

  test('turns Prompty list tags into keys', () => {
    const p = parsePromptFile('x.prompty', '---\ntags: [demo, v2]\n---\nHi');
    assert.deepEqual(p.tags, { demo: '', v2: '' });
  });

  test('rejects a role the registry cannot store, naming the file line', () => {
    assertValidation(
      () => parsePromptFile('x.prompty', '---\nname: x\n---\nuser:\nhi\nfunction:\n{}\n'),
      /x\.prompty: line 6: the "function" role is not supported/,
    );
  });

  test('requires front matter', () => {
    assertValidation(
      () => parsePromptFile('prompts/bare.prompty', 'system:\nHello'),
      /prompts\/bare\.prompty has no front matter/,
    );
  });
});

describe('parsePromptFile: .prompt.md and .prompt.txt', () => {
  test('reads a file without front matter, named after the file', () => {
    const p = parsePromptFile('dir/summarize.prompt.md', '\n\nSummarise {{ text }}.\n\n');
    assert.deepEqual(p, {
      name: 'summarize',
      description: null,
      template: 'Summarise {{ text }}.',
      messages: null,
      modelSettings: {},
      inputs: [],
      variables: ['text'],
      tags: {},
    });
  });

  test('reads plain model and parameter keys from front matter', () => {
    const p = parsePromptFile(
      'greet.prompt.md',
      '---\nname: greeter\nmodel: gpt-4o\ntemperature: 0.7\nmax_tokens: 100\n---\n\nHello {{ who }}\n',
    );
    assert.equal(p.name, 'greeter');
    assert.deepEqual(p.modelSettings, { model: 'gpt-4o', temperature: 0.7, max_tokens: 100 });
    assert.equal(p.template, 'Hello {{ who }}');
  });

  test('does not read role lines as chat outside .prompty files', () => {
    const p = parsePromptFile('a.prompt.txt', 'user:\nhello');
    assert.equal(p.messages, null);
    assert.equal(p.name, 'a');
  });

  test('handles Windows line endings', () => {
    const p = parsePromptFile('a.prompt.md', '---\r\nname: crlf\r\n---\r\nHi {{x}}\r\n');
    assert.equal(p.name, 'crlf');
    assert.equal(p.template, 'Hi {{x}}');
  });
});

describe('parsePromptFile: errors', () => {
  test('a bad front matter name is named, with its line and a suggestion', () => {
    assertValidation(
      () => parsePromptFile('a.prompty', '---\ndescription: d\nname: Basic Prompt\n---\nHi'),
      /a\.prompty: line 3: the front matter name "Basic Prompt" is not a valid prompt name.*name: Basic-Prompt/,
    );
  });

  test('a bad file name asks for a name in front matter', () => {
    assertValidation(
      () => parsePromptFile('prompts/my prompt.prompt.md', 'Hi'),
      /prompts\/my prompt\.prompt\.md: the file name "my prompt" is not a valid prompt name; give the prompt a name in front matter.*name: my-prompt/,
    );
    assertValidation(
      () => parsePromptFile('_x.prompt.md', 'Hi'),
      /file name "_x" is not a valid prompt name/,
    );
  });

  test('a front matter name fixes a bad file name', () => {
    assert.equal(parsePromptFile('my prompt.prompt.md', '---\nname: ok\n---\nHi').name, 'ok');
  });

  test('bad YAML gives the line in the file, not in the front matter', () => {
    // The broken flow list is on front matter line 3, which is file line 4.
    const text = '---\nname: x\ndescription: d\nstop: [a, b\nmore: 1\n---\nHi';
    assert.throws(
      () => parsePromptFile('bad.prompt.md', text),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, /^bad\.prompt\.md: line \d+, column \d+: .*not valid YAML/);
        const line = Number(/line (\d+)/.exec(err.message)?.[1]);
        // yaml reports where it noticed the problem: the line after the open list.
        assert.equal(line, 5);
        return true;
      },
    );
  });

  test('a duplicate key is reported on its file line', () => {
    assertValidation(
      () => parsePromptFile('dup.prompty', '---\nname: a\n\nname: b\n---\nHi'),
      /^dup\.prompty: line 4, column 1: .*not valid YAML/,
    );
  });

  test('front matter that is not closed is reported', () => {
    assertValidation(
      () => parsePromptFile('open.prompty', '---\nname: a\nHi'),
      /open\.prompty: the front matter opened by "---" on line 1 is never closed/,
    );
  });

  test('front matter must be a map', () => {
    assertValidation(
      () => parsePromptFile('list.prompt.md', '---\n- a\n- b\n---\nHi'),
      /list\.prompt\.md: the front matter must be YAML keys and values/,
    );
  });

  test('an empty body is rejected', () => {
    assertValidation(
      () => parsePromptFile('empty.prompty', '---\nname: e\n---\n\n  \n'),
      /empty\.prompty has no prompt text after its front matter/,
    );
  });

  test('an unclosed {{ is reported on its file line', () => {
    assertValidation(
      () => parsePromptFile('u.prompt.md', '---\nname: u\n---\n\nHello {{ name\n'),
      /u\.prompt\.md: line 5, column 7: "\{\{" is never closed/,
    );
  });

  test('a file that is not a prompt file is refused', () => {
    assertValidation(() => parsePromptFile('notes.md', 'Hi'), /notes\.md is not a prompt file/);
  });
});
