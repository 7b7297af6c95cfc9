/** @module test/config/helpers: run validateConfig expecting a ConfigError, and read its issues as lines. */
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/index.js';
import { ConfigError, ErrorCodes, type ConfigIssue } from '../../src/errors.js';

/** Runs validateConfig expecting a ConfigError and returns its issues. */
export function issuesOf(input: unknown): readonly ConfigIssue[] {
  try {
    validateConfig(input);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, ErrorCodes.CONFIG_INVALID);
    return err.issues;
  }
  assert.fail('expected validateConfig to throw');
}

/** The issues as `path: message` lines, in report order. */
export function lines(input: unknown): string[] {
  return issuesOf(input).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
}

/** Runs `fn` with `KEYWAY_STICKY_SECRET` set to `value` (or unset), restoring it after. */
export function withStickySecretEnv<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.KEYWAY_STICKY_SECRET;
  if (value === undefined) delete process.env.KEYWAY_STICKY_SECRET;
  else process.env.KEYWAY_STICKY_SECRET = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.KEYWAY_STICKY_SECRET;
    else process.env.KEYWAY_STICKY_SECRET = saved;
  }
}
