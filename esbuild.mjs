// Builds the extension host bundle, the `mlops` CLI bundle and the webview bundles
// into dist/, and copies sql.js's WASM beside them.
//   node esbuild.mjs               development build with sourcemaps
//   node esbuild.mjs --production  minified, for the .vsix
//   node esbuild.mjs --watch       rebuild on change

import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'info',
  legalComments: 'none',
};

// Modules loaded only for some evals (a tokenizer's 2-4 MB of ranks when a provider
// sends no usage; sucrase for TypeScript code graders): each is its own file in
// dist/lazy/, required on first use, so the extension and the CLI do not parse them
// at start-up. Source files import them by package name; this maps the name.
const LAZY = {
  'gpt-tokenizer/encoding/o200k_base': 'o200k_base',
  'gpt-tokenizer/encoding/cl100k_base': 'cl100k_base',
  sucrase: 'sucrase',
};
const lazyModules = {
  name: 'lazy-modules',
  setup(build) {
    const filter = new RegExp(
      `^(${Object.keys(LAZY)
        .map((k) => k.replace(/[/.]/g, '\\$&'))
        .join('|')})$`,
    );
    build.onResolve({ filter }, (args) => ({
      path: `./lazy/${LAZY[args.path]}.js`,
      external: true,
    }));
  },
};

const webviewEntries = fs.existsSync('webview-ui/src')
  ? fs
      .readdirSync('webview-ui/src', { withFileTypes: true })
      .filter(
        (d) => d.isDirectory() && fs.existsSync(path.join('webview-ui/src', d.name, 'main.ts')),
      )
      .map((d) => ({ in: path.join('webview-ui/src', d.name, 'main.ts'), out: d.name }))
  : [];

const builds = [
  {
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    external: ['vscode'],
    plugins: [lazyModules],
  },
  {
    ...common,
    entryPoints: Object.entries(LAZY).map(([from, name]) => ({ in: from, out: name })),
    outdir: 'dist/lazy',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
  },
  {
    // The Node API for training scripts: require('<extension>/dist/tracking.js').
    ...common,
    entryPoints: ['src/core/tracking/tracking.ts'],
    outfile: 'dist/tracking.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    // The thread the local server decodes OTLP bodies on (src/server/otlp/otlpDecoder.ts).
    ...common,
    entryPoints: ['src/server/otlp/decodeWorker.ts'],
    outfile: 'dist/otlpDecodeWorker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
  },
  {
    ...common,
    entryPoints: ['src/cli/cli.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    plugins: [lazyModules],
  },
];
if (webviewEntries.length > 0) {
  builds.push({
    ...common,
    entryPoints: webviewEntries,
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  });
}

fs.mkdirSync('dist', { recursive: true });
fs.copyFileSync('node_modules/sql.js/dist/sql-wasm.wasm', 'dist/sql-wasm.wasm');

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
  fs.chmodSync('dist/cli.js', 0o755);
}
