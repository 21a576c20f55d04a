import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'cdk.out/', 'oclif.manifest.json', '**/*.d.ts', '.devflow-test/']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', Buffer: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', structuredClone: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly'}},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-empty': ['error', {allowEmptyCatch: false}],
      // zod's named `z` is an object holding all of zod (every error locale): the Lambda bundle
      // could no longer leave out what it does not use (lambda/build.mjs, the 300 KB budget).
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z'][importKind!='type']",
          message: "Use `import * as z from 'zod'`: the named z keeps all of zod in the Lambda bundle.",
        },
      ],
    },
  },
  {
    // The console runs in the browser (src/console/tsconfig.json has the DOM types).
    files: ['src/console/**/*.ts'],
    languageOptions: {globals: {document: 'readonly', location: 'readonly', history: 'readonly', sessionStorage: 'readonly', navigator: 'readonly', crypto: 'readonly', btoa: 'readonly', addEventListener: 'readonly', removeEventListener: 'readonly'}},
  },
  {
    files: ['test/**/*.ts'],
    rules: {'@typescript-eslint/no-unused-expressions': 'off'},
  },
)
