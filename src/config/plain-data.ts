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
