/**
 * @module backend/canonical-json: one text per value, whatever order its keys were written in, so two
 * processes holding equal settings compute equal hashes.
 */
import { createHash } from 'node:crypto';

/**
 * The canonical JSON text of `value`: JSON.stringify's rules (`toJSON` is honoured, `undefined`, functions
 * and symbols are left out of objects and become `null` in arrays, non-finite numbers become `null`) with
 * object keys sorted by UTF-16 code units, as in RFC 8785. Two additions, because JSON would turn them into
 * `{}` and hide every difference: a `Map` becomes an array of `[key, value]` pairs and a `Set` an array,
 * both in canonical order (their insertion order is not part of the setting). A top-level `undefined` is
 * `null`, so an unset environment variable has a hash.
 *
 * @throws TypeError for a bigint or a cycle, as JSON.stringify does.
 * @example canonicalJson({ b: 1, a: [true, null] }) // => '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return encode(value, new Set()) ?? 'null';
}

/** Lower-case hex SHA-256 of the canonical JSON of `value`: what a setting's hash is. */
export function hashSetting(value: unknown): string {
  return sha256(canonicalJson(value));
}

/** Lower-case hex SHA-256 of a UTF-8 string. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `undefined` means "left out" (inside an object) or `null` (inside an array). */
function encode(value: unknown, seen: Set<object>): string | undefined {
  const v = toJsonValue(value);
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'bigint':
      throw new TypeError('canonicalJson: a bigint has no JSON form; convert it to a string');
    case 'object':
      return encodeObject(v, seen);
    default:
      return undefined; // undefined, function, symbol
  }
}

function encodeObject(obj: object, seen: Set<object>): string {
  if (seen.has(obj)) throw new TypeError('canonicalJson: the value contains a cycle');
  seen.add(obj);
  try {
    if (obj instanceof Map) return sortedArray([...obj].map(([k, v]) => `[${encode(k, seen) ?? 'null'},${encode(v, seen) ?? 'null'}]`));
    if (obj instanceof Set) return sortedArray([...obj].map((v) => encode(v, seen) ?? 'null'));
    if (Array.isArray(obj)) return `[${obj.map((v: unknown) => encode(v, seen) ?? 'null').join(',')}]`;
    const parts: string[] = [];
    const record = obj as Record<string, unknown>;
    for (const key of Object.keys(record).sort()) {
      const text = encode(record[key], seen);
      if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    seen.delete(obj); // a value reached twice without a cycle (a shared sub-object) is fine
  }
}

function sortedArray(texts: string[]): string {
  return `[${texts.sort().join(',')}]`;
}

function toJsonValue(value: unknown): unknown {
  const candidate = value as { toJSON?: unknown } | null | undefined;
  if (candidate !== null && typeof candidate === 'object' && typeof candidate.toJSON === 'function') {
    return (candidate.toJSON as () => unknown)();
  }
  return value;
}
