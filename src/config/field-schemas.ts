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

/** An integer from `min` to `max`; `message` for anything else, or `overMessage` (if given) for one above `max`. */
export const int = (min: number, message: string, max = Number.MAX_SAFE_INTEGER, overMessage?: string) =>
  z.number().superRefine((v, ctx) => {
    if (!Number.isInteger(v) || v < min) ctx.addIssue({ code: 'custom', message });
    else if (v > max) ctx.addIssue({ code: 'custom', message: overMessage ?? message });
  });
export const positiveInt = () => int(1, 'must be a positive integer');
export const nonNegativeInt = () => int(0, 'must be an integer >= 0');
/** The longest delay a node timer keeps: a longer one fires at once (node warns and waits 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;
const TOO_LONG = `must be at most ${MAX_TIMER_MS} (ms; node timers cannot wait longer)`;
/** A duration in ms that a timer will wait: >= 1 (or >= 0 with `min` 0) and at most MAX_TIMER_MS. */
export const durationMs = (min: 0 | 1 = 1) => int(min, min === 0 ? 'must be an integer >= 0' : 'must be a positive integer', MAX_TIMER_MS, TOO_LONG);
/** Most a backend's weight may be: far above any real ratio, small enough that sums of weights stay exact. */
export const MAX_WEIGHT = 1_000_000;
export const weight = () => int(0, 'must be an integer >= 0', MAX_WEIGHT, `must be at most ${MAX_WEIGHT}`);
export const nonEmpty = () => z.string().min(1, { message: 'must be a non-empty string' });
export const token = (what: string) => z.string().regex(TOKEN, { message: `must be a valid ${what}` });
/** A path a request line can carry: `/` then visible ASCII (no space, CR, LF or other control character). */
export const absolutePath = () =>
  z.string().superRefine((p, ctx) => {
    if (!p.startsWith('/')) ctx.addIssue({ code: 'custom', message: 'must start with "/"' });
    else if (!/^[\x21-\x7e]*$/.test(p)) ctx.addIssue({ code: 'custom', message: 'must not contain spaces, control characters or non-ASCII (percent-encode them)' });
  });
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

/** RFC 9110 field-value: visible characters, spaces, tabs and obs-text; CR, LF and NUL would split the header. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
export const headers = () =>
  z
    .record(z.string(), z.string().regex(FIELD_VALUE, { message: 'must not contain CR, LF or other control characters' }))
    .superRefine(keysMatching(TOKEN, 'must be a valid header name'));

export const url = z.string().superRefine((raw, ctx) => {
  const parsed = parseUrl(raw);
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a valid URL' });
  } else if (/[^\x21-\x7e\x80-\uffff]/.test(raw)) {
    // The URL parser silently drops tabs and newlines (and trims spaces): refuse what it would have hidden.
    ctx.addIssue({ code: 'custom', message: 'must not contain spaces or control characters' });
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

/** A runtime weight (the admin API's) checked by the very rule the config file's `weight` follows: the problem, or null. */
export function weightProblem(value: unknown): string | null {
  if (typeof value !== 'number') return `must be an integer >= 0, got ${describeType(value)}`;
  const result = weight().safeParse(value);
  return result.success ? null : (result.error.issues[0]?.message ?? 'invalid');
}
