// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', '.test-build/', 'node_modules/', 'bench/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['ioredis'], message: 'Only src/store/ may import ioredis.' }] }],
    },
  },
  {
    // The store layer is the one place that talks to Redis; its own tests may look at Redis directly.
    files: ['src/store/**', 'test/store/**', 'test/helpers/redis*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
