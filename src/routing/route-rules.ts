/**
 * @module routing/route-rules: the allocation-free matchers behind `Router`: path prefixes at a path boundary,
 * hosts without port and case, header conditions. Each works on the raw request strings with offsets, so the hot
 * path never lower-cases, splits or slices.
 */
import type { IncomingHttpHeaders } from 'node:http';

const SLASH = 47;
const QUESTION = 63;
const HASH = 35;
const DOT = 46;
const OPEN_BRACKET = 91;
const UPPER_A = 65;
const UPPER_Z = 90;

/** `/api/` -> `/api`; `/` stays. The trailing slash carries no meaning once matching is at path boundaries. */
export function normalisePrefix(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/**
 * Whether the path of `url` (an origin-form request target) starts with `prefix` at a path boundary: `/api`
 * matches `/api`, `/api/x` and `/api?q`, not `/apix`. `prefix` is normalised (no trailing slash but for `/`).
 */
export function hasPathPrefix(url: string, prefix: string): boolean {
  if (prefix === '/') return url.charCodeAt(0) === SLASH;
  return hasPathAt(url, 0, prefix);
}

/** Whether `url` holds `part` at `offset`, followed by a path boundary (end, `/`, `?` or `#`). */
export function hasPathAt(url: string, offset: number, part: string): boolean {
  if (!url.startsWith(part, offset)) return false;
  const end = offset + part.length;
  if (url.length === end) return true;
  const next = url.charCodeAt(end);
  return next === SLASH || next === QUESTION || next === HASH;
}

/**
 * `/api/x?q` less the prefix `/api` is `/x?q`; `/api` less `/api` is `/`. A URL that does not start with `prefix`
 * comes back unchanged. For the proxy, with `RouteMatch.stripPrefix`.
 */
export function stripPathPrefix(url: string, prefix: string): string {
  if (prefix === '' || prefix === '/' || !url.startsWith(prefix)) return url;
  const rest = url.slice(prefix.length);
  return rest.charCodeAt(0) === SLASH ? rest : `/${rest}`;
}

/** Where the host name in a Host header ends: before the port, and before a trailing dot (`example.com.`). */
export function hostNameEnd(host: string): number {
  if (host.charCodeAt(0) === OPEN_BRACKET) {
    const close = host.indexOf(']'); // an IPv6 literal keeps its brackets, as a configured host does
    return close < 0 ? host.length : close + 1;
  }
  let end = host.length;
  const colon = host.indexOf(':');
  if (colon >= 0) end = colon;
  if (end > 0 && host.charCodeAt(end - 1) === DOT) end -= 1;
  return end;
}

/** `host.slice(offset, offset + lower.length).toLowerCase() === lower`, without the copies. */
function equalsIgnoreCaseAt(host: string, offset: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = host.charCodeAt(offset + i);
    if (c >= UPPER_A && c <= UPPER_Z) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * A configured host, lower case without port: `example.com` matches that name only; `*.example.com` matches any
 * subdomain at any depth (`a.example.com`, `a.b.example.com`), not `example.com` itself.
 */
export class HostCondition {
  readonly #name: string;
  readonly #wildcard: boolean;

  constructor(host: string) {
    const lower = host.toLowerCase();
    const end = hostNameEnd(lower);
    const name = lower.slice(0, end);
    this.#wildcard = name.startsWith('*.');
    this.#name = this.#wildcard ? name.slice(1) : name; // `*.example.com` keeps `.example.com`
  }

  /** `host` is the request's Host header, `end` its `hostNameEnd()`. */
  matches(host: string, end: number): boolean {
    const name = this.#name;
    if (!this.#wildcard) return end === name.length && equalsIgnoreCaseAt(host, 0, name);
    return end > name.length && equalsIgnoreCaseAt(host, end - name.length, name);
  }
}

/** A header (name lower case) that must be present, and equal `value` when one is given (exact, case-sensitive). */
export class HeaderCondition {
  readonly #name: string;
  readonly #value: string | undefined;

  constructor(name: string, value: string | undefined) {
    this.#name = name.toLowerCase();
    this.#value = value;
  }

  matches(headers: IncomingHttpHeaders): boolean {
    const got = headers[this.#name];
    if (got === undefined) return false;
    if (this.#value === undefined) return true;
    // Node joins repeated headers with ", " except a few (set-cookie) it keeps as arrays.
    return typeof got === 'string' ? got === this.#value : got.includes(this.#value);
  }
}

