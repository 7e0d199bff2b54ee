// DOM nodes built from script, never from HTML strings: the CSP allows no inline markup,
// and model output stays text whatever it contains.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A title (tooltip) of bounded length: a 100 KB output would make one unusable. */
export function tooltip(text: string, max = 4000): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
