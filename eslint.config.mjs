import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers' boundaries: http adapts, domain decides, data-access stores, lib serves all three. An import that points
// outward (or, for http, at data-access values rather than its record types) fails `make check`.
const importsOf = (...layers) => `^(\\.\\./)+(${layers.join('|')})(/|$)`;
const boundary = (message, regex, allowTypeImports = false) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ regex, message, allowTypeImports }] }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'src/generated/**', '.data/**', 'build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/ban-ts-comment': [
        'error',
        { 'ts-ignore': true, 'ts-nocheck': true, 'ts-expect-error': 'allow-with-description' },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'describe', property: 'only', message: 'Do not commit focused tests.' },
        { object: 'test', property: 'only', message: 'Do not commit focused tests.' },
        { object: 'it', property: 'only', message: 'Do not commit focused tests.' },
      ],
      'no-restricted-globals': ['error', 'fdescribe', 'fit'],
    },
  },
  {
    files: ['src/data-access/**/*.ts'],
    rules: boundary('data-access may not import the domain or http layers.', importsOf('domain', 'http')),
  },
  { files: ['src/domain/**/*.ts'], rules: boundary('The domain may not import the http layer.', importsOf('http')) },
  {
    files: ['src/http/**/*.ts'],
    rules: boundary('http calls use cases; it may import only types from data-access.', importsOf('data-access'), true),
  },
  {
    files: ['src/lib/**/*.ts'],
    rules: boundary('lib may not import the layers above it.', importsOf('domain', 'http', 'data-access')),
  },
);
