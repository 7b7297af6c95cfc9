/**
 * @module rooms/json-text: JSON that keeps integers past 2^53 (as BigInt). The shared state is stored as JSON text and
 * never decoded by Lua, so what one instance writes another reads back byte for byte; this codec is what makes
 * that true in JavaScript too. Pure.
 */

/** A string no JSON writer emits by accident: a NUL then a tag (written escaped, as JSON requires). */
const MARK = '\u0000kwbig:';
const MARKED = /"\\u0000kwbig:(-?\d+)"/g;
/** A run of 16 digits: the only texts that may hold an unsafe integer take the slow path. */
const LONG_DIGITS = /\d{16}/;

/**
 * `JSON.stringify`, with a BigInt written as the integer literal it is.
 *
 * @example
 * encodeJson({ n: 2n ** 53n + 1n }) // '{"n":9007199254740993}'
 */
export function encodeJson(value: unknown): string {
  let big = false;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    big = true;
    return `${MARK}${v.toString()}`;
  });
  if (text === undefined) throw new TypeError('value has no JSON form');
  return big ? text.replace(MARKED, '$1') : text;
}

/**
 * `JSON.parse`, with an integer literal JavaScript cannot hold exactly read as a BigInt (so `encodeJson` writes the
 * same text back).
 */
export function decodeJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  const marked = markUnsafeIntegers(text);
  if (marked === text) return JSON.parse(text);
  return JSON.parse(marked, (_key, v: unknown) => (typeof v === 'string' && v.startsWith(MARK) ? BigInt(v.slice(MARK.length)) : v));
}

/** `text` with every unsafe integer literal outside strings quoted and marked. */
function markUnsafeIntegers(text: string): string {
  let out = '';
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 /* \ */ ? 2 : 1;
      i++;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      const start = i;
      i++;
      while (i < text.length && isNumberChar(text.charCodeAt(i))) i++;
      const literal = text.slice(start, i);
      if (/^-?\d+$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        out += `${text.slice(from, start)}"\\u0000kwbig:${literal}"`;
        from = i;
      }
      continue;
    }
    i++;
  }
  return from === 0 ? text : out + text.slice(from);
}

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}
