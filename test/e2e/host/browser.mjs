// Opens the code-server workbench in Debian's chromium through playwright-core, and small
// helpers to drive it as a person would (command palette, screenshots). See
// shared/VSCODE-HOST.md.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumPath } from './install.mjs';
import { createTempDir } from './tempdir.mjs';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

// Per page: where its screenshots go and what its console said.
const pageInfo = new WeakMap();

function info(page) {
  let i = pageInfo.get(page);
  if (!i) {
    i = { screenshotsDir: path.resolve('test-results', 'e2e'), console: [] };
    pageInfo.set(page, i);
  }
  return i;
}

/** Runs a playwright wait and, on failure, rethrows naming what was being waited for. */
async function waitFor(what, timeoutMs, fn) {
  try {
    return await fn(timeoutMs);
  } catch (e) {
    const first = String(e?.message ?? e).split('\n')[0];
    const message =
      e?.name === 'TimeoutError'
        ? `Timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}: ${first}`
        : `Failed while waiting for ${what}: ${first}`;
    throw new Error(message, { cause: e });
  }
}

/**
 * Launches chromium, opens `url` on `folder` (query `folder=`, plus `query` entries such as
 * `payload`) and resolves with the page once the workbench is ready. `exposeFunctions` are
 * exposed before navigating (e.g. codeAutomationLog / codeAutomationExit for extension tests).
 * Chromium's own files (crash reports, dconf, temp files) go to `browserDir` (default: a
 * temp folder removed on close). Close with closeWorkbench(page).
 */
export async function openWorkbench({
  url,
  folder,
  screenshotsDir = path.resolve('test-results', 'e2e'),
  browserDir,
  query = {},
  exposeFunctions = {},
  timeoutMs = 60_000,
  headless = true,
  viewport = { width: 1400, height: 900 },
  executablePath = chromiumPath(),
} = {}) {
  if (!url) throw new Error('openWorkbench needs { url }');
  fs.mkdirSync(screenshotsDir, { recursive: true });
  const ownDir = !browserDir;
  const dir = browserDir ? path.resolve(browserDir) : createTempDir('browser');
  for (const sub of ['config', 'cache', 'tmp'])
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  const removeDir = () => ownDir && fs.rmSync(dir, { recursive: true, force: true });
  let browser;
  try {
    browser = await chromium.launch({
      executablePath,
      headless,
      args: CHROMIUM_ARGS,
      timeout: timeoutMs,
      // Without these chromium writes ~/.config/chromium/Crash Reports and ~/.cache/dconf.
      env: {
        ...process.env,
        XDG_CONFIG_HOME: path.join(dir, 'config'),
        XDG_CACHE_HOME: path.join(dir, 'cache'),
        TMPDIR: path.join(dir, 'tmp'),
      },
    });
  } catch (e) {
    removeDir();
    throw new Error(`Could not launch chromium (${executablePath}): ${e.message}`, { cause: e });
  }
  browser.once('disconnected', removeDir);
  let page;
  try {
    const context = await browser.newContext({ viewport });
    page = await context.newPage();
    const i = info(page);
    i.screenshotsDir = screenshotsDir;
    page.on('console', (m) => i.console.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => i.console.push(`[pageerror] ${e.message}`));
    for (const [name, fn] of Object.entries(exposeFunctions)) await page.exposeFunction(name, fn);

    const target = new URL(url);
    if (folder) target.searchParams.set('folder', path.resolve(folder));
    for (const [k, v] of Object.entries(query)) {
      target.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    }
    await waitFor(`${target} to load`, timeoutMs, (timeout) =>
      page.goto(target.toString(), { waitUntil: 'domcontentloaded', timeout }),
    );
    await waitForWorkbench(page, { timeoutMs });
    return page;
  } catch (e) {
    if (page) await screenshot(page, 'open-workbench-failed').catch(() => {});
    await browser.close().catch(() => {});
    throw e;
  }
}

/** Waits until the workbench shell is up: its root, the activity bar and the status bar. */
export async function waitForWorkbench(page, { timeoutMs = 60_000 } = {}) {
  const started = Date.now();
  const left = () => Math.max(1000, timeoutMs - (Date.now() - started));
  await waitFor('the workbench (.monaco-workbench)', left(), (timeout) =>
    page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout }),
  );
  await waitFor('the activity bar (.part.activitybar)', left(), (timeout) =>
    page.locator('.monaco-workbench .part.activitybar').waitFor({ state: 'visible', timeout }),
  );
  await waitFor('the status bar (.part.statusbar)', left(), (timeout) =>
    page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout }),
  );
  // With --vscode-option enable-smoke-test-driver (startCodeServer passes it) the workbench
  // exposes window.driver, which tells when the restored phase and its contributions are done.
  const hasDriver = await page
    .waitForFunction(() => Boolean(globalThis.driver?.whenWorkbenchRestored), null, {
      timeout: 5000,
    })
    .then(() => true)
    .catch(() => false);
  if (hasDriver) {
    await waitFor(
      'the workbench to be restored (driver.whenWorkbenchRestored)',
      left(),
      (timeout) =>
        Promise.race([
          page.evaluate(() => globalThis.driver.whenWorkbenchRestored()),
          new Promise((_, reject) =>
            setTimeout(
              () => reject(Object.assign(new Error('no answer'), { name: 'TimeoutError' })),
              timeout,
            ).unref(),
          ),
        ]),
    );
  }
}

/** Closes the browser that the page belongs to (chromium exits before this resolves). */
export async function closeWorkbench(page) {
  if (!page) return;
  const browser = page.context().browser();
  await browser?.close();
}

/** What the page printed to its console so far (for failure reports). */
export function consoleLines(page) {
  return [...info(page).console];
}

/**
 * Runs a command from the F1 palette by its full title, e.g. "File: New Untitled Text File":
 * types it, waits for the entry with exactly that label and clicks it.
 */
export async function runCommand(page, title, { timeoutMs = 20_000 } = {}) {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input').first();
  // The highlighted entry is not always the exact title ("File: Compare New Untitled Text
  // Files" comes before "File: New Untitled Text File"), so look for the exact one.
  const row = widget
    .locator('.monaco-list-row', {
      has: page.locator('.label-name', {
        hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`),
      }),
    })
    .first();
  const started = Date.now();
  const left = () => Math.max(500, timeoutMs - (Date.now() - started));
  for (let attempt = 1; ; attempt++) {
    // Start from a closed palette (it may be open, or still fading out).
    if (await widget.isVisible()) {
      await page.keyboard.press('Escape');
      await waitFor('an open quick-input widget to close', left(), (timeout) =>
        widget.waitFor({ state: 'hidden', timeout }),
      );
    }
    await page.keyboard.press('F1');
    await waitFor(
      'the command palette (.quick-input-widget input) to open after F1',
      left(),
      (timeout) => input.waitFor({ state: 'visible', timeout }),
    );
    await waitFor('the command palette input to accept text', left(), (timeout) =>
      input.fill(`>${title}`, { timeout }),
    );
    // Commands contributed by extensions appear only once the extension host has registered
    // them; seen here: a palette opened before that did not show the command, a reopened one
    // did. So reopen until the entry shows.
    const found = await row
      .waitFor({ state: 'visible', timeout: Math.min(3000, left()) })
      .then(() => true)
      .catch(() => false);
    if (found) break;
    if (Date.now() - started >= timeoutMs) {
      const shown = await widget
        .locator('.monaco-list-row .label-name')
        .allInnerTexts()
        .catch(() => []);
      throw new Error(
        `Timed out after ${timeoutMs / 1000} s (${attempt} tries) waiting for a palette entry ` +
          `"${title}"; entries shown: ${JSON.stringify(shown.slice(0, 10))}`,
      );
    }
  }
  await row.click({ timeout: left() });
  await waitFor(`the command palette to close after running "${title}"`, left(), (timeout) =>
    widget.waitFor({ state: 'hidden', timeout }),
  );
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Saves a PNG of the page as <screenshotsDir>/<name>.png and returns its path. */
export async function screenshot(page, name) {
  const dir = info(page).screenshotsDir;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file, timeout: 10_000 });
  return file;
}
