// Smoke test of the end-to-end host itself, without our extension: code-server starts on a
// temp workspace, chromium opens the workbench, the Explorer shows the files and a palette
// command runs. Run: node --test test/e2e/host/smoke.test.mjs (the first run installs the
// host, about 3 minutes). Screenshots and, on failure, logs go to test-results/e2e/.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCommand } from './browser.mjs';
import { startSession } from './session.mjs';

describe('e2e host: VS Code (code-server) in chromium', () => {
  let session;

  before(
    async () => {
      session = await startSession({
        name: 'smoke',
        files: { 'README.md': '# Smoke workspace\n', 'train.py': 'print("hello")\n' },
      });
    },
    { timeout: 20 * 60_000 }, // a fresh machine installs the host first
  );

  after(() => session?.close(), { timeout: 60_000 });

  it('shows the Explorer with the workspace files', { timeout: 60_000 }, async () => {
    await session.check('explorer', async (page) => {
      await page
        .locator('.activitybar [aria-label^="Explorer"]')
        .first()
        .waitFor({ state: 'visible', timeout: 10_000 });
      const sidebarTitle = page.locator('.part.sidebar .composite.title');
      await sidebarTitle.waitFor({ state: 'visible', timeout: 10_000 });
      assert.match(await sidebarTitle.innerText(), /explorer/i, 'the side bar shows the Explorer');
      const rows = page.locator('.explorer-folders-view .monaco-list-row');
      await rows.filter({ hasText: 'train.py' }).waitFor({ state: 'visible', timeout: 20_000 });
      const names = (await rows.allInnerTexts()).map((s) => s.trim());
      assert.ok(names.includes('README.md'), `Explorer rows: ${JSON.stringify(names)}`);
      assert.ok(names.includes('train.py'), `Explorer rows: ${JSON.stringify(names)}`);
    });
  });

  it(
    'runs a palette command: File: New Untitled Text File opens Untitled-1',
    { timeout: 60_000 },
    async () => {
      await session.check('palette', async (page) => {
        const untitled = page.locator('.tabs-container .tab', { hasText: 'Untitled-1' });
        assert.equal(await untitled.count(), 0, 'no Untitled-1 tab before the command');
        await runCommand(page, 'File: New Untitled Text File');
        await untitled.waitFor({ state: 'visible', timeout: 10_000 }).catch((e) => {
          throw new Error(
            `no editor tab "Untitled-1" within 10 s of the command: ${e.message.split('\n')[0]}`,
          );
        });
        const active = page.locator('.tabs-container .tab.active');
        assert.match(await active.innerText(), /Untitled-1/, 'Untitled-1 is the active editor');
        await session.screenshot('workbench');
      });
    },
  );
});
