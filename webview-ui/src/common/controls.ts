// The one module that knows about @vscode/webview-ui-toolkit (deprecated upstream
// since January 2025): every control the pages use is made here, so swapping the
// toolkit for another component set touches this file only.

import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeRadio,
  vsCodeRadioGroup,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

let registered = false;
function register(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodeRadio(),
    vsCodeRadioGroup(),
  );
}

export function button(
  label: string,
  onClick: () => void,
  options: { secondary?: boolean; title?: string; id?: string } = {},
): HTMLElement {
  register();
  const b = document.createElement('vscode-button');
  b.textContent = label;
  if (options.secondary) b.setAttribute('appearance', 'secondary');
  if (options.title) b.title = options.title;
  if (options.id) b.id = options.id;
  b.addEventListener('click', onClick);
  return b;
}

export function checkbox(
  label: string,
  checked: boolean,
  onChange: (checked: boolean) => void,
  id?: string,
): HTMLElement {
  register();
  const c = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  c.textContent = label;
  c.checked = checked;
  if (id) c.id = id;
  c.addEventListener('change', () => onChange(c.checked));
  return c;
}

export interface Choice {
  value: string;
  label: string;
}

/** A drop-down list; `setChoices` replaces its options keeping the value when it still exists. */
export function dropdown(
  choices: Choice[],
  value: string,
  onChange: (value: string) => void,
  options: { label?: string; id?: string } = {},
): HTMLElement & { setChoices(choices: Choice[], value: string): void } {
  register();
  const d = document.createElement('vscode-dropdown') as HTMLElement & {
    value: string;
    setChoices(choices: Choice[], value: string): void;
  };
  if (options.id) d.id = options.id;
  if (options.label) d.setAttribute('aria-label', options.label);
  d.setChoices = (list: Choice[], selected: string) => {
    d.replaceChildren(
      ...list.map((c) => {
        const o = document.createElement('vscode-option') as HTMLElement & { value: string };
        o.setAttribute('value', c.value);
        o.textContent = c.label;
        if (c.value === selected) o.setAttribute('selected', '');
        return o;
      }),
    );
    d.value = selected;
    // The toolkit learns of new options on `slotchange`, after this returns, and then
    // re-selects by the old selected index: set the value again once it has them.
    queueMicrotask(() => {
      if (d.value !== selected) d.value = selected;
    });
  };
  d.setChoices(choices, value);
  d.addEventListener('change', () => onChange(d.value));
  return d;
}

/** A row of mutually exclusive options (arrow keys move between them). */
export function radioGroup(
  label: string,
  choices: Choice[],
  value: string,
  onChange: (value: string) => void,
  id?: string,
): HTMLElement {
  register();
  const g = document.createElement('vscode-radio-group') as HTMLElement & { value: string };
  if (id) g.id = id;
  const l = document.createElement('label');
  l.slot = 'label';
  l.textContent = label;
  g.append(l);
  for (const c of choices) {
    const r = document.createElement('vscode-radio');
    r.setAttribute('value', c.value);
    r.textContent = c.label;
    if (c.value === value) r.setAttribute('checked', '');
    g.append(r);
  }
  g.addEventListener('change', () => onChange(g.value));
  return g;
}

let textFieldRegistered = false;

/**
 * A one-line text input; `onInput` gets each edit, Escape clears it. Registered on first
 * use, so pages without one do not carry the text field in their bundle. The native
 * input lives in the element's shadow root (`#<id> input` for a test).
 */
export function textField(
  label: string,
  value: string,
  onInput: (value: string) => void,
  options: { id?: string; placeholder?: string } = {},
): HTMLElement & { value: string } {
  register();
  if (!textFieldRegistered) {
    textFieldRegistered = true;
    provideVSCodeDesignSystem().register(vsCodeTextField());
  }
  const f = document.createElement('vscode-text-field') as HTMLElement & { value: string };
  if (options.id) f.id = options.id;
  f.setAttribute('aria-label', label);
  if (options.placeholder) f.setAttribute('placeholder', options.placeholder);
  f.value = value;
  f.addEventListener('input', () => onInput(f.value));
  f.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || f.value === '') return;
    e.stopPropagation();
    f.value = '';
    onInput('');
  });
  return f;
}

/** A labelled range input; the toolkit has no slider, so this is a native one styled by the page. */
export function slider(
  label: string,
  min: number,
  max: number,
  step: number,
  value: number,
  onInput: (value: number) => void,
  id?: string,
): HTMLElement {
  const wrap = document.createElement('label');
  wrap.className = 'slider';
  const input = document.createElement('input');
  input.type = 'range';
  input.min = String(min);
  input.max = String(max);
  input.step = String(step);
  input.value = String(value);
  if (id) input.id = id;
  const out = document.createElement('output');
  out.textContent = String(value);
  input.addEventListener('input', () => {
    out.textContent = input.value;
    onInput(Number(input.value));
  });
  wrap.append(`${label} `, input, out);
  return wrap;
}
