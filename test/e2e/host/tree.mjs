// Driving the MLOps side bar the way a person does: find a tree row by its label,
// expand it, open its context menu, start a palette command that asks for input.

export const sidebar = (page) => page.locator('.part.sidebar');
/** The tree row whose label (not its description) is exactly `text`. */
export const row = (page, text) =>
  sidebar(page).locator('.monaco-list-row', {
    has: page.locator('.label-name', {
      hasText: new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`),
    }),
  });

export async function openMlops(page) {
  // "MLOps: Experiments" while it is the only view shown, "MLOps" beside Models and Prompts.
  const title = sidebar(page).locator('.composite.title', { hasText: 'MLOps' });
  // Clicking the icon of the container already shown would close it.
  if (await title.first().isVisible()) return;
  await page.locator('.activitybar [aria-label^="MLOps"]').first().click({ timeout: 30_000 });
  await title.first().waitFor({ timeout: 30_000 });
}

/**
 * Runs `item` from the context menu of the row `rowText`, as a person does with the mouse.
 * A menu closes when focus moves (an editor that an earlier click opened, arriving late):
 * then it is opened again, up to three times.
 */
export async function contextMenu(page, rowText, item) {
  const entry = page.locator('.context-view .action-label', { hasText: new RegExp(`^${item}$`) });
  for (let attempt = 1; ; attempt++) {
    try {
      await row(page, rowText).first().click({ button: 'right' });
      await entry.waitFor({ timeout: 10_000 });
      // The menu ignores a click that arrives while it is still opening; hovering focuses the
      // entry (as the mouse does) and Enter runs it.
      await entry.hover({ timeout: 5000 });
      await page.waitForFunction(
        (el) => el.closest('.action-item')?.classList.contains('focused'),
        await entry.elementHandle({ timeout: 5000 }),
        { timeout: 5000 },
      );
      break;
    } catch (e) {
      if (attempt === 3) throw e;
      // Only a menu still open is closed: Escape in the tree would clear its selection.
      if (await page.locator('.context-view .monaco-menu').isVisible())
        await page.keyboard.press('Escape');
    }
  }
  await page.keyboard.press('Enter');
  await page.locator('.context-view .monaco-menu').waitFor({ state: 'detached', timeout: 5000 });
}

/**
 * Starts a palette command that asks for input: unlike runCommand, the quick-input
 * widget stays open for the command's own input box, titled `inputTitle`.
 */
export async function startInputCommand(page, title, inputTitle) {
  const widget = page.locator('.quick-input-widget');
  await page.keyboard.press('F1');
  await widget.locator('input').first().fill(`>${title}`);
  await widget
    .locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: title }) })
    .first()
    .click({ timeout: 15_000 });
  await widget.locator('.quick-input-title', { hasText: inputTitle }).waitFor({ timeout: 10_000 });
  return widget.locator('input').first();
}

export async function expand(page, text) {
  const r = row(page, text).first();
  await r.waitFor({ timeout: 20_000 });
  if ((await r.getAttribute('aria-expanded')) !== 'true') await r.click();
  await page.waitForFunction(
    (el) => el.getAttribute('aria-expanded') === 'true',
    await r.elementHandle(),
    { timeout: 10_000 },
  );
}

/** Expands the view pane titled `name` in the side bar (Models, Prompts) if it is collapsed. */
export async function expandPane(page, name) {
  const header = sidebar(page).locator('.pane-header', {
    has: page.locator('h3.title', { hasText: new RegExp(`^${name}$`, 'i') }),
  });
  await header.first().waitFor({ timeout: 20_000 });
  if ((await header.first().getAttribute('aria-expanded')) !== 'true') await header.first().click();
  await page.waitForFunction(
    (el) => el.getAttribute('aria-expanded') === 'true',
    await header.first().elementHandle(),
    { timeout: 10_000 },
  );
}
