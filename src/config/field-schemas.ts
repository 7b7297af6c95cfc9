/**
 * @module config/field-schemas: the zod building blocks the option schemas share (integers, tokens, URLs, header
 * maps, strategy, hash key) and the helpers behind their messages. Each block sets its own short message, so no
 * zod wording reaches users.
 */
import { z } from 'zod';
import { STRATEGY_NAMES, type CustomStrategyFn, type StrategyName } from './types.js';

/** RFC 9110 `token`: header names, methods and cookie names must match it. */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const HASH_KEY_MESSAGE = 'must be "ip" or "header:<name>", "cookie:<name>", "query:<name>"';

/** How a value's type reads in a message: `string`, `array`, `null`, `NaN`. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

/** A valid backend id: an integer or a non-empty string. Shared with the duplicate-id check. */
export function isBackendId(value: unknown): value is string | number {
  return (typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'string' && value !== '');
}

/** `header:X-User` -> `header:x-user`; undefined when malformed. Header names are case-insensitive, others not. */
export function normaliseHashKey(raw: string): string | undefined {
  if (raw.toLowerCase() === 'ip') return 'ip';
  const colon = raw.indexOf(':');
  const kind = raw.slice(0, colon).toLowerCase();
  const name = raw.slice(colon + 1);
  if (colon < 0 || !TOKEN.test(name)) return undefined;
  if (kind === 'header') return `header:${name.toLowerCase()}`;
  return kind === 'cookie' || kind === 'query' ? `${kind}:${name}` : undefined;
}

/** `new URL(raw)`, or undefined when `raw` is not a URL. */
export function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/** Cross-field checks also run when sibling fields failed, so all problems surface in one pass. */
export const ALWAYS = { when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null };

export const int = (min: number, message: string, max = Number.MAX_SAFE_INTEGER) =>
  z.number().refine((v) => Number.isInteger(v) && v >= min && v <= max, { message });
export const positiveInt = () => int(1, 'must be a positive integer');
export const nonNegativeInt = () => int(0, 'must be an integer >= 0');
export const nonEmpty = () => z.string().min(1, { message: 'must be a non-empty string' });
export const token = (what: string) => z.string().regex(TOKEN, { message: `must be a valid ${what}` });
export const absolutePath = () => z.string().refine((p) => p.startsWith('/'), { message: 'must start with "/"' });
export const method = () => token('HTTP method').transform((m) => m.toUpperCase());
export const algorithm = () => z.enum(['http', 'http-status']);

export function fn<T>() {
  return z.custom<T>((v) => typeof v === 'function', {
    error: (issue) => `expected function, got ${describeType(issue.input)}`,
  });
}

/** A string mapped through `normalise`; when that gives undefined, the input is refused with `message`. */
export function normalisedString<T>(normalise: (raw: string) => T | undefined, message: string | ((raw: string) => string)) {
  return z.string().transform((raw, ctx) => {
    const value = normalise(raw);
    if (value === undefined) ctx.addIssue({ code: 'custom', message: typeof message === 'string' ? message : message(raw) });
    return value ?? z.NEVER;
  });
}

/** A refinement that reports, at its own path, every key of a record that does not match `pattern`. */
export function keysMatching(pattern: RegExp, message: string) {
  return (record: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    for (const name of Object.keys(record)) {
      if (!pattern.test(name)) ctx.addIssue({ code: 'custom', path: [name], message });
    }
  };
}

export const headers = () => z.record(z.string(), z.string()).superRefine(keysMatching(TOKEN, 'must be a valid header name'));

export const url = z.string().superRefine((raw, ctx) => {
  const parsed = parseUrl(raw);
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a valid URL' });
  } else if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `must be an http(s) URL, got ${JSON.stringify(raw)}` });
  }
});

export const strategy = z.custom<StrategyName | CustomStrategyFn>(
  (v) => typeof v === 'function' || (STRATEGY_NAMES as readonly unknown[]).includes(v),
  {
    error: (issue) =>
      typeof issue.input === 'string'
        ? `unknown value ${JSON.stringify(issue.input)} (expected one of ${STRATEGY_NAMES.join(', ')}, or a function)`
        : `expected string or function, got ${describeType(issue.input)}`,
  },
);

export const hashKey = normalisedString(normaliseHashKey, HASH_KEY_MESSAGE);
