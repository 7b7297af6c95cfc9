/**
 * @module replication/store/check-args: argument checks both stores run before writing, so they refuse the same calls.
 * A failed check is a programming error (`TypeError`/`RangeError`), not a store failure.
 */
import type { Register, RegisterKind, Verdict } from './types.js';

/** Throws unless `verdict` and `ttlMs` can be stored. */
export function checkVerdict(verdict: Verdict, ttlMs: number): void {
  checkString('verdict.backendId', verdict.backendId);
  checkString('verdict.replicaId', verdict.replicaId);
  if (typeof verdict.up !== 'boolean') throw new TypeError('verdict.up must be a boolean');
  checkFinite('verdict.sinceMs', verdict.sinceMs);
  checkTtl(ttlMs);
}

/** Throws unless `register` of `kind` and `ttlMs` can be stored. */
export function checkRegister(kind: RegisterKind, register: Register, ttlMs: number): void {
  if (kind !== 'admin' && kind !== 'backend') {
    throw new TypeError(`register kind must be 'admin' or 'backend', got ${JSON.stringify(kind)}`);
  }
  checkString('register.id', register.id);
  checkString('register.by', register.by);
  if (typeof register.value !== 'string') throw new TypeError('register.value must be a string');
  checkFinite('register.atMs', register.atMs);
  checkTtl(ttlMs);
}

/** Whole milliseconds to live, rounded up (Redis expiry is in whole ms). */
export function ttlToMs(ttlMs: number): number {
  return Math.ceil(ttlMs);
}

/** Throws `TypeError` unless `value` is a non-empty string. */
export function checkString(name: string, value: unknown): void {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
}

function checkFinite(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`${name} must be a finite number`);
}

/** Throws `RangeError` unless `ttlMs` is a positive finite number. */
export function checkTtl(ttlMs: number): void {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
  }
}
