// Lint: typescript-eslint's recommended rules plus the layer walls of
// ARCHITECTURE.md (src/core and src/shared never import vscode; webviews never
// reach into src/core).

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscode = {
  paths: [
    {
      name: 'vscode',
      message: 'src/core and src/shared must not depend on VS Code (see ARCHITECTURE.md).',
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'out/**',
      'node_modules/**',
      '.e2e-host/**',
      'test-results/**',
      '**/.mlops/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        NodeJS: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports (STYLE.md).' },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', noVscode] },
  },
  {
    // The store and the domain's types sit below every capability (ARCHITECTURE.md): the
    // store takes its types from src/core/model, and the model imports nothing else.
    files: ['src/core/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...noVscode,
          patterns: [
            {
              group: ['../*/**', '!../model/**', '!../log.ts'],
              message: 'src/core/store imports only src/core/model and log.ts, never a capability.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/model/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...noVscode,
          patterns: [
            {
              group: ['../*/**', '!../model/**'],
              message: 'src/core/model holds types only and imports nothing outside it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['webview-ui/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...noVscode,
          patterns: [
            {
              group: ['**/src/core/**', '**/src/extension/**'],
              message: 'Webviews talk to the host only through src/shared/protocol.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['examples/**/*.js', 'test/e2e/inhost/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', exports: 'writable' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
