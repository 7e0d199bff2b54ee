// Colours from the VS Code theme (--vscode-* variables), re-read when the theme
// changes, so charts stay readable in light, dark and high-contrast themes.

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export function themeKind(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export interface ChartColors {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  /** One colour per run, by index. */
  series(i: number): string;
}

const NAMED = ['blue', 'orange', 'green', 'red', 'purple', 'yellow'];

export function chartColors(): ChartColors {
  const kind = themeKind();
  const contrast = kind.startsWith('high-contrast');
  const light = kind === 'light' || kind === 'high-contrast-light';
  const named = NAMED.map((n) => cssVar(`--vscode-charts-${n}`, ''));
  return {
    foreground: cssVar('--vscode-editor-foreground', light ? '#333' : '#ccc'),
    muted: cssVar('--vscode-descriptionForeground', light ? '#666' : '#999'),
    grid: contrast
      ? withAlpha(cssVar('--vscode-contrastBorder', light ? '#000000' : '#ffffff'), 0.45)
      : light
        ? 'rgba(0, 0, 0, 0.1)'
        : 'rgba(255, 255, 255, 0.1)',
    background: cssVar('--vscode-editor-background', light ? '#fff' : '#1e1e1e'),
    series(i: number): string {
      // High-contrast themes give some chart colours close to each other: use hues.
      const fromTheme = contrast ? undefined : named[i];
      if (fromTheme) return fromTheme;
      // Past the theme's six chart colours: golden-angle hues, lightness for the theme.
      const hue = Math.round((i * 137.508) % 360);
      return `hsl(${hue}, ${contrast ? 100 : 65}%, ${light ? 38 : 62}%)`;
    },
  };
}

/** Calls `fn` when the theme changes (VS Code swaps the body's classes). */
export function onThemeChange(fn: () => void): void {
  new MutationObserver(fn).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/** `rgb(...)`, `#rrggbb` or `hsl(...)` at an opacity, for faint raw lines under smoothed ones. */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex) {
    const n = parseInt(hex[1]!, 16);
    return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  if (color.startsWith('hsl(')) return color.replace('hsl(', 'hsla(').replace(')', `, ${alpha})`);
  if (color.startsWith('rgb(')) return color.replace('rgb(', 'rgba(').replace(')', `, ${alpha})`);
  return color;
}
