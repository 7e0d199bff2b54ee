// The model and prompt registries: numbered versions, aliases and their history,
// URIs, prompt registration (a no-op on unchanged text), and the errors a user sees.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../src/core/model/errors.ts';
import type { StoreChange } from '../../src/core/store/mutations.ts';
import { parseRegistryUri } from '../../src/core/registry/registry.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { removeDir, tempDir } from './helpers.ts';

describe('registries', () => {
  let dir: string;
  let t: Tracking;
  let now = 1_700_000_000_000;

  before(async () => {
    dir = tempDir();
    t = await Tracking.open({ dir, watch: false, user: 'ana', clock: () => now++ });
  });
  after(async () => {
    await t.close();
    removeDir(dir);
  });

  test('model versions are numbered per model and never reused', async () => {
    const run = await t.createRun({ captureGit: false });
    await t.registry.create('model', 'classifier', {
      description: 'MNIST',
      tags: { team: 'vision' },
    });
    const v1 = await t.registry.createModelVersion('classifier', {
      source: 'runs:/x/model',
      runId: run.runId,
    });
    const v2 = await t.registry.createModelVersion('classifier', { source: 'runs:/y/model' });
    const other = await t.registry.createModelVersion('ranker', { source: 's3://m', create: true });
    assert.deepEqual([v1.version, v2.version, other.version], [1, 2, 1]);
    assert.equal(v1.runId, run.runId);
    assert.equal(v1.userId, 'ana');
    assert.equal(v1.status, 'READY');
    await t.registry.deleteVersion('model', 'classifier', 2);
    const v3 = await t.registry.createModelVersion('classifier', { source: 'runs:/z/model' });
    assert.equal(v3.version, 3, 'a deleted number is not given again');
    assert.deepEqual(
      t.registry.modelVersions('classifier').map((v) => v.version),
      [3, 1],
    );
    const entry = t.registry.get('model', 'classifier');
    assert.equal(entry.latestVersion, 3);
    assert.equal(entry.versionCount, 2);
    assert.deepEqual(entry.tags, { team: 'vision' });
    assert.deepEqual(
      t.registry.versionsOfRun(run.runId).map((v) => [v.name, v.version]),
      [['classifier', 1]],
    );
  });

  test('a version of an unknown model, or from an unknown run, is refused', async () => {
    await assert.rejects(t.registry.createModelVersion('nope', { source: 'x' }), NotFoundError);
    await assert.rejects(
      t.registry.createModelVersion('classifier', { source: 'x', runId: 'no-such-run' }),
      /No run with id no-such-run/,
    );
    await assert.rejects(
      t.registry.createModelVersion('classifier', { source: '  ' }),
      ValidationError,
    );
    await assert.rejects(t.registry.create('model', 'classifier'), /already registered/);
    await assert.rejects(t.registry.create('model', 'a/b'), /Invalid model name/);
    await assert.rejects(t.registry.create('prompt', 'has space'), /Invalid prompt name/);
  });

  test('aliases point at one version, move atomically, and every move is kept', async () => {
    const first = await t.registry.setAlias('model', 'classifier', 'champion', 1);
    assert.deepEqual(first, { from: null, to: 1 });
    const moved = await t.registry.setAlias('model', 'classifier', 'champion', 3, {
      reason: 'better f1',
    });
    assert.deepEqual(moved, { from: 1, to: 3 });
    await t.registry.setAlias('model', 'classifier', 'challenger', 1);
    assert.deepEqual(t.registry.get('model', 'classifier').aliases, { challenger: 1, champion: 3 });
    assert.deepEqual(t.registry.modelVersion('classifier', 3).aliases, ['champion']);
    // Setting it where it already is changes nothing and records nothing.
    await t.registry.setAlias('model', 'classifier', 'champion', 3);
    const removed = await t.registry.removeAlias('model', 'classifier', 'challenger', {
      reason: 'done',
    });
    assert.equal(removed, 1);
    const history = t.registry.aliasHistory('model', 'classifier');
    assert.deepEqual(
      history.map((h) => [h.alias, h.from, h.to, h.reason, h.userId]),
      [
        ['champion', null, 1, null, 'ana'],
        ['champion', 1, 3, 'better f1', 'ana'],
        ['challenger', null, 1, null, 'ana'],
        ['challenger', 1, null, 'done', 'ana'],
      ],
    );
    assert.ok(history[1]!.time > history[0]!.time);
  });

  test('a version an alias points at cannot be deleted until the alias moves', async () => {
    await assert.rejects(t.registry.deleteVersion('model', 'classifier', 3), (e: Error) => {
      assert.ok(e instanceof ValidationError);
      assert.match(e.message, /@champion/);
      assert.match(e.message, /move or remove that alias first/);
      return true;
    });
    await assert.rejects(t.registry.setAlias('model', 'classifier', 'latest', 1), /reserved/);
    await assert.rejects(t.registry.setAlias('model', 'classifier', 'v2', 1), /reserved/);
    await assert.rejects(t.registry.setAlias('model', 'classifier', 'x', 99), /no version 99/);
  });

  test('URIs resolve by number, alias and latest; unknown aliases are named', () => {
    assert.equal(t.registry.resolveModelUri('models:/classifier/1').version, 1);
    assert.equal(t.registry.resolveModelUri('models:/classifier@champion').version, 3);
    assert.equal(t.registry.resolveModelUri('models:/classifier/latest').version, 3);
    assert.throws(
      () => t.registry.resolveModelUri('models:/classifier@staging'),
      /no alias @staging \(it has @champion\)/,
    );
    assert.throws(() => t.registry.resolveModelUri('models:/classifier/2'), /no version 2/);
    assert.throws(() => t.registry.resolveModelUri('prompts:/x@a'), /prompt URI/);
    assert.throws(() => parseRegistryUri('classifier/1'), /not a registry URI/);
    assert.throws(() => parseRegistryUri('models:/classifier'), /names no version/);
    assert.throws(() => parseRegistryUri('models:/classifier/0'), /positive number/);
    assert.deepEqual(parseRegistryUri('prompts:/team.summary@prod'), {
      kind: 'prompt',
      name: 'team.summary',
      alias: 'prod',
    });
  });

  test('prompt versions are immutable; registering unchanged text is a no-op that says so', async () => {
    const a = await t.registry.registerPrompt('summarize', {
      template: 'Summarize {{ text }} in {{ n }} words.',
      modelSettings: { model: 'gpt-4o-mini', temperature: 0.2 },
      commitMessage: 'first',
      sourceFile: 'prompts/summarize.prompt.md',
      sourceDigest: 'abc',
    });
    assert.equal(a.created, true);
    assert.equal(a.version.version, 1);
    const same = await t.registry.registerPrompt('summarize', {
      template: 'Summarize {{ text }} in {{ n }} words.',
      modelSettings: { temperature: 0.2, model: 'gpt-4o-mini' },
    });
    assert.equal(same.created, false);
    assert.equal(same.version.version, 1);
    assert.match(same.message, /already has this text; nothing was registered/);
    const b = await t.registry.registerPrompt('summarize', {
      template: 'Summarize {{ text }} in at most {{ n }} words.',
      modelSettings: { model: 'gpt-4o-mini', temperature: 0.2 },
      commitMessage: 'tighter',
    });
    assert.equal(b.version.version, 2);
    const settingsOnly = await t.registry.registerPrompt('summarize', {
      template: 'Summarize {{ text }} in at most {{ n }} words.',
      modelSettings: { model: 'gpt-4o-mini', temperature: 0.7 },
    });
    assert.equal(settingsOnly.version.version, 3, 'a settings change is a new version');
    await t.registry.setAlias('prompt', 'summarize', 'champion', 2);
    const resolved = t.registry.resolvePromptUri('prompts:/summarize@champion');
    assert.equal(resolved.template, 'Summarize {{ text }} in at most {{ n }} words.');
    assert.equal(resolved.commitMessage, 'tighter');
    assert.equal(t.registry.promptVersion('summarize', 1).sourceDigest, 'abc');
    await assert.rejects(t.registry.registerPrompt('summarize', { template: '   ' }), /is empty/);
  });

  test('render fills a version, and names a missing or unknown variable', () => {
    const v = t.registry.resolvePromptUri('prompts:/summarize@champion');
    assert.deepEqual(t.registry.render(v, { text: 'the memo', n: 3 }), {
      text: 'Summarize the memo in at most 3 words.',
      messages: null,
    });
    assert.throws(
      () => t.registry.render(v, { text: 'x' }),
      /Missing value for template variable "n"/,
    );
    assert.throws(
      () => t.registry.render(v, { text: 'x', n: 1, tone: 'dry' }),
      /Unknown variable "tone"/,
    );
    const chat = t.registry.render(
      {
        template: '',
        messages: [
          { role: 'system', content: 'You answer in {{ lang }}.' },
          { role: 'user', content: '{{ question }}' },
        ],
      },
      { lang: 'French', question: 'Why?' },
    );
    assert.deepEqual(chat.messages, [
      { role: 'system', content: 'You answer in French.' },
      { role: 'user', content: 'Why?' },
    ]);
  });

  test('another process sees the registry through the journal', async () => {
    await t.flush();
    const other = await Tracking.open({ dir, watch: false });
    assert.deepEqual(
      other.registry.list('model').map((m) => m.name),
      ['classifier', 'ranker'],
    );
    assert.equal(other.registry.resolveModelUri('models:/classifier@champion').version, 3);
    assert.equal(other.registry.aliasHistory('model', 'classifier').length, 4);
    assert.deepEqual(
      other.registry.promptVersions('summarize').map((v) => v.version),
      [3, 2, 1],
    );
    await other.close();
  });
});

describe('renaming and deleting registered entries', () => {
  let dir: string;
  let t: Tracking;
  let now = 1_700_000_000_000;

  before(async () => {
    dir = tempDir();
    t = await Tracking.open({ dir, watch: false, user: 'ana', clock: () => now++ });
  });
  after(async () => {
    await t.close();
    removeDir(dir);
  });

  /** A model with three versions (2 deleted), entry and version tags, and aliases. */
  async function aModel(name: string): Promise<void> {
    await t.registry.create('model', name, { description: 'd', tags: { team: 'vision' } });
    for (const n of [1, 2, 3]) {
      await t.registry.createModelVersion(name, { source: `/m/${n}`, tags: { n: String(n) } });
    }
    await t.registry.deleteVersion('model', name, 2);
    await t.registry.setAlias('model', name, 'champion', 1);
    await t.registry.setAlias('model', name, 'champion', 3, { reason: 'better' });
    await t.registry.setAlias('model', name, 'challenger', 1);
  }

  test('rename moves versions, numbers, tags, aliases and their history', async () => {
    await aModel('clf');
    const created = t.registry.get('model', 'clf').creationTime;
    const renamed = await t.registry.rename('model', 'clf', 'classifier');
    assert.equal(renamed.name, 'classifier');
    assert.equal(renamed.description, 'd');
    assert.equal(renamed.creationTime, created);
    assert.ok(renamed.lastUpdateTime > created, 'the rename counts as an update');
    assert.deepEqual(renamed.tags, { team: 'vision' });
    assert.deepEqual(renamed.aliases, { challenger: 1, champion: 3 });
    assert.deepEqual(
      t.registry.modelVersions('classifier').map((v) => [v.name, v.version, v.tags.n, v.aliases]),
      [
        ['classifier', 3, '3', ['champion']],
        ['classifier', 1, '1', ['challenger']],
      ],
    );
    assert.deepEqual(
      t.registry.aliasHistory('model', 'classifier').map((m) => [m.alias, m.from, m.to, m.reason]),
      [
        ['champion', null, 1, null],
        ['champion', 1, 3, 'better'],
        ['challenger', null, 1, null],
      ],
    );
    assert.equal(t.registry.resolveModelUri('models:/classifier@champion').version, 3);
    const next = await t.registry.createModelVersion('classifier', { source: '/m/4' });
    assert.equal(next.version, 4, 'numbers continue after the rename; deleted ones stay used');
    assert.equal(t.registry.find('model', 'clf'), undefined);
    assert.throws(() => t.registry.resolveModelUri('models:/clf/1'), NotFoundError);
  });

  test('rename refuses a taken name, a bad name and an unknown entry, and changes nothing', async () => {
    await t.registry.create('model', 'other');
    await assert.rejects(t.registry.rename('model', 'classifier', 'other'), (e: Error) => {
      assert.ok(e instanceof AlreadyExistsError);
      assert.match(e.message, /Cannot rename "classifier" to "other"/);
      assert.match(e.message, /already registered/);
      return true;
    });
    await assert.rejects(t.registry.rename('model', 'classifier', 'classifier'), /already named/);
    await assert.rejects(t.registry.rename('model', 'classifier', 'a@b'), ValidationError);
    await assert.rejects(t.registry.rename('model', 'nope', 'x'), NotFoundError);
    assert.equal(t.registry.get('model', 'classifier').versionCount, 3);
    assert.equal(t.registry.get('model', 'other').versionCount, 0);
  });

  test('a model and a prompt may share a name; renaming one leaves the other', async () => {
    await t.registry.registerPrompt('classifier', { template: 'Label {{ x }}.' });
    await t.registry.setAlias('prompt', 'classifier', 'prod', 1);
    await t.registry.rename('prompt', 'classifier', 'labeler');
    assert.equal(t.registry.resolvePromptUri('prompts:/labeler@prod').template, 'Label {{ x }}.');
    assert.equal(t.registry.find('prompt', 'classifier'), undefined);
    assert.equal(t.registry.get('model', 'classifier').versionCount, 3);
  });

  test('deleteVersion with dropAliases removes the aliases and records why', async () => {
    await assert.rejects(t.registry.deleteVersion('model', 'classifier', 3), /@champion/);
    await t.registry.setAlias('model', 'classifier', 'prod', 3);
    const before = t.registry.aliasHistory('model', 'classifier').length;
    await t.registry.deleteVersion('model', 'classifier', 3, { dropAliases: true });
    assert.deepEqual(t.registry.get('model', 'classifier').aliases, { challenger: 1 });
    assert.deepEqual(
      t.registry
        .aliasHistory('model', 'classifier')
        .slice(before)
        .map((m) => [m.alias, m.from, m.to, m.reason, m.userId]),
      [
        ['champion', 3, null, 'version 3 deleted', 'ana'],
        ['prod', 3, null, 'version 3 deleted', 'ana'],
      ],
    );
    assert.throws(() => t.registry.modelVersion('classifier', 3), /no version 3/);
    // A version no alias points at is deleted with or without the option.
    await t.registry.deleteVersion('model', 'classifier', 4, { dropAliases: true });
    assert.equal(
      t.registry.aliasHistory('model', 'classifier').length,
      before + 2,
      'nothing recorded',
    );
  });

  test('delete removes the entry with its versions, tags, aliases and history', async () => {
    await t.registry.setTag('model', 'classifier', 'k', 'v', 1);
    await t.registry.delete('model', 'classifier');
    assert.equal(t.registry.find('model', 'classifier'), undefined);
    assert.throws(() => t.registry.get('model', 'classifier'), NotFoundError);
    assert.deepEqual(
      t.registry.list('model').map((m) => m.name),
      ['other'],
    );
    await assert.rejects(t.registry.delete('model', 'classifier'), NotFoundError);
    // Registered again, the name starts afresh.
    const fresh = await t.registry.create('model', 'classifier');
    assert.deepEqual([fresh.tags, fresh.aliases, fresh.versionCount], [{}, {}, 0]);
    const v = await t.registry.createModelVersion('classifier', { source: '/new' });
    assert.equal(v.version, 1);
    assert.deepEqual(v.tags, {});
    assert.deepEqual(t.registry.aliasHistory('model', 'classifier'), []);
    assert.equal(t.registry.find('prompt', 'labeler')?.versionCount, 1, 'prompts are untouched');
  });

  test('renames and deletes raise registry change events, here and in a process tailing the journal', async () => {
    const tailer = await Tracking.open({ dir, watch: false });
    const seen: StoreChange[] = [];
    const tailSeen: StoreChange[] = [];
    const sub = t.onDidChange((c) => seen.push(c));
    const tailSub = tailer.onDidChange((c) => tailSeen.push(c));
    try {
      await aModel('temp');
      seen.length = 0;
      await t.registry.rename('model', 'temp', 'temp2');
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.registry, true);
      assert.equal(seen[0]!.external, false);
      await t.registry.delete('model', 'other');
      assert.equal(seen.length, 2);
      assert.equal(seen[1]!.registry, true);

      tailer.store.refresh();
      assert.ok(tailSeen.some((c) => c.registry && c.external));
      assert.deepEqual(
        tailer.registry.list('model').map((m) => m.name),
        ['classifier', 'temp2'],
      );
      assert.deepEqual(tailer.registry.get('model', 'temp2').aliases, {
        challenger: 1,
        champion: 3,
      });
    } finally {
      sub.dispose();
      tailSub.dispose();
      await tailer.close();
    }
  });

  test('a fresh process replays renames, deletes and dropped aliases from the journal, and after compaction', async () => {
    const expected = (r: Tracking): unknown => ({
      models: r.registry.list('model').map((m) => [m.name, m.versionCount, m.aliases, m.tags]),
      prompts: r.registry.list('prompt').map((m) => m.name),
      history: r.registry
        .aliasHistory('model', 'temp2')
        .map((m) => [m.alias, m.from, m.to, m.reason]),
      versions: r.registry.modelVersions('temp2').map((v) => [v.version, v.tags]),
    });
    const want = expected(t);
    const replayed = await Tracking.open({ dir, watch: false });
    try {
      assert.ok(replayed.store.stats.journalBytes > 0, 'read from the journal');
      assert.deepEqual(expected(replayed), want);
    } finally {
      await replayed.close();
    }
    await t.store.compact();
    const fromSnapshot = await Tracking.open({ dir, watch: false });
    try {
      assert.deepEqual(expected(fromSnapshot), want);
    } finally {
      await fromSnapshot.close();
    }
  });
});
