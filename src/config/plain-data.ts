/**
 * @module config/plain-data: plain objects and arrays as config input holds them: recognised, copied and frozen
 * without touching functions or class instances the user passed in a JS config.
 */

/** A non-null, non-array object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPlain(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (!isRecord(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Copies plain objects and arrays so freezing never touches the caller's objects; anything else is shared. */
export function copyData(value: unknown, copies = new WeakMap<object, unknown>()): unknown {
  if (!isPlain(value)) return value;
  const done = copies.get(value);
  if (done !== undefined) return done; // a cycle in a JS config maps onto the copy, not forever
  const out: object = Array.isArray(value) ? [] : {};
  copies.set(value, out);
  for (const [key, child] of Object.entries(value)) {
    // defineProperty, not assignment: a JSON key "__proto__" must stay data, not become a prototype.
    Object.defineProperty(out, key, { value: copyData(child, copies), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Freezes plain objects and arrays, depth-first. Functions and class instances stay as the user made them. */
export function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (!isPlain(value) || seen.has(value)) return value;
  seen.add(value);
  for (const child of Object.values(value)) deepFreeze(child, seen);
  return Object.freeze(value);
}

/** Deeper than any real config; a deeper one is refused rather than left to overflow the stack. */
export const MAX_DEPTH = 32;

/** One place in the input that could not be read: `path` is dotted, as in ConfigIssue. */
export interface ReadProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Reads a config's input once, safely: plain objects and arrays are copied (so nothing the user holds can change
 * under the gateway, and no getter runs twice), a getter that throws and nesting past MAX_DEPTH become problems
 * with their path instead of exceptions. Functions and class instances are shared as they are.
 */
export function readInput(value: unknown): { value: unknown; problems: ReadProblem[] } {
  const problems: ReadProblem[] = [];
  const copies = new WeakMap<object, unknown>();
  const read = (v: unknown, path: string[]): unknown => {
    if (!isPlain(v)) return v;
    const done = copies.get(v);
    if (done !== undefined) return done;
    if (path.length >= MAX_DEPTH) {
      problems.push({ path: path.join('.'), message: `nested more than ${MAX_DEPTH} levels deep` });
      return undefined;
    }
    const out: object = Array.isArray(v) ? [] : {};
    copies.set(v, out);
    for (const key of Object.keys(v)) {
      let child: unknown;
      try {
        child = (v as Record<string, unknown>)[key];
      } catch (err) {
        problems.push({ path: [...path, key].join('.'), message: `cannot be read: ${err instanceof Error ? err.message : String(err)}` });
        continue;
      }
      Object.defineProperty(out, key, { value: read(child, [...path, key]), enumerable: true, writable: true, configurable: true });
      if (problems.length > 0 && problems.length >= 20) break; // one pass reports plenty; a hostile input could have millions
    }
    return out;
  };
  return { value: read(value, []), problems };
}
