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
      'no-restricted-imports': ['error', { patterns: [{ group: ['ioredis'], message: 'Only src/redis/ (the one Redis layer) may import ioredis.' }] }],
    },
  },
  {
    // redis/ is the one place that talks to Redis; the Redis-backed stores' tests may look at Redis directly.
    files: ['src/redis/**', 'test/redis/**', 'test/singleton/**', 'test/replication/store/**', 'test/coordinator/store/**', 'test/helpers/redis*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
