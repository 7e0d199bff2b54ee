// Tables whose rows open a detail row beneath them (drift columns, eval cases): a click
// or Enter / Space toggles a row, the arrow keys move between rows (skipping the detail
// rows), Home and End go to the first and last. Selecting text in a row (to copy a
// value) is not a click on it.

/** Wires `body`'s rows of class `rowClass` to `toggle`, for the mouse and the keyboard. */
export function expandableRows(
  body: HTMLElement,
  rowClass: string,
  toggle: (row: HTMLTableRowElement) => void,
): void {
  body.addEventListener('click', (e) => {
    const tr = (e.target as Element).closest(`tr.${rowClass}`);
    if (!(tr instanceof HTMLTableRowElement)) return;
    if (window.getSelection()?.toString()) return;
    toggle(tr);
  });
  body.addEventListener('keydown', (e) => {
    const tr = e.target;
    if (!(tr instanceof HTMLTableRowElement) || !tr.classList.contains(rowClass)) return;
    let target: Element | null;
    switch (e.key) {
      case 'Enter':
      case ' ':
        e.preventDefault();
        toggle(tr);
        return;
      case 'ArrowDown':
        target = sibling(tr, rowClass, 'next');
        break;
      case 'ArrowUp':
        target = sibling(tr, rowClass, 'previous');
        break;
      case 'Home':
        target = body.querySelector(`tr.${rowClass}`);
        break;
      case 'End': {
        const all = body.querySelectorAll(`tr.${rowClass}`);
        target = all[all.length - 1] ?? null;
        break;
      }
      default:
        return;
    }
    e.preventDefault();
    if (target instanceof HTMLElement) {
      target.focus();
      target.scrollIntoView({ block: 'nearest' });
    }
  });
}

function sibling(
  tr: HTMLTableRowElement,
  rowClass: string,
  way: 'next' | 'previous',
): Element | null {
  let s = way === 'next' ? tr.nextElementSibling : tr.previousElementSibling;
  while (s && !s.classList.contains(rowClass)) {
    s = way === 'next' ? s.nextElementSibling : s.previousElementSibling;
  }
  return s;
}
