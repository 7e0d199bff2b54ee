// Opens the code-server workbench in Debian's chromium through playwright-core, and small
// helpers to drive it as a person would (command palette, screenshots). See
// shared/VSCODE-HOST.md.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumPath } from './install.mjs';

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

/** Runs a playwright wait and, on timeout, rethrows with what was being waited for. */
async function waitFor(what, timeoutMs, fn) {
  try {
    return await fn(timeoutMs);
  } catch (e) {
    const err = new Error(
      `Timed out after ${timeoutMs / 1000} s waiting for ${what}: ${e.message.split('\n')[0]}`,
    );
    err.cause = e;
    throw err;
  }
}

/**
 * Launches chromium, opens `url` on `folder` (query `folder=`, plus `query` entries such as
 * `payload`) and resolves with the page once the workbench is ready. `exposeFunctions` are
 * exposed before navigating (e.g. codeAutomationLog / codeAutomationExit for extension tests).
 * Close with closeWorkbench(page).
 */
export async function openWorkbench({
  url,
  folder,
  screenshotsDir = path.resolve('test-results', 'e2e'),
  query = {},
  exposeFunctions = {},
  timeoutMs = 60_000,
  headless = true,
  viewport = { width: 1400, height: 900 },
  executablePath = chromiumPath(),
} = {}) {
  if (!url) throw new Error('openWorkbench needs { url }');
  fs.mkdirSync(screenshotsDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath,
    headless,
    args: CHROMIUM_ARGS,
    timeout: timeoutMs,
  });
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
 * Runs a command from the F1 palette by its full title, e.g. "File: New Untitled Text File".
 * Waits for the exact entry to be the highlighted one before pressing Enter.
 */
export async function runCommand(page, title, { timeoutMs = 15_000 } = {}) {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input').first();
  // Start from a closed palette (it may be open, or still fading out).
  if (await widget.isVisible()) {
    await page.keyboard.press('Escape');
    await waitFor('an open quick-input widget to close', timeoutMs, (timeout) =>
      widget.waitFor({ state: 'hidden', timeout }),
    );
  }
  await page.keyboard.press('F1');
  await waitFor(
    'the command palette (.quick-input-widget input) to open after F1',
    timeoutMs,
    (timeout) => input.waitFor({ state: 'visible', timeout }),
  );
  await waitFor('the command palette input to accept text', timeoutMs, (timeout) =>
    input.fill(`>${title}`, { timeout }),
  );
  // The highlighted entry is not always the exact title ("File: Compare New Untitled Text
  // Files" comes before "File: New Untitled Text File"), so click the exact one.
  const row = widget.locator('.monaco-list-row', {
    has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }),
  });
  await waitFor(`a palette entry "${title}"`, timeoutMs, (timeout) =>
    row.first().waitFor({ state: 'visible', timeout }),
  );
  await row.first().click({ timeout: timeoutMs });
  await waitFor(`the command palette to close after running "${title}"`, timeoutMs, (timeout) =>
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
