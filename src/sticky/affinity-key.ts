/**
 * @module sticky/affinity-key: turns a `hashKey` spec (`header:<name>`, `cookie:<name>`, `query:<name>`,
 * `ip`) into a function that reads that key from a request, once at startup.
 */
import type { IncomingMessage } from 'node:http';
import { readCookie } from './cookies.js';

export type KeyExtractor = (req: IncomingMessage) => string | undefined;

/** Compiles a validated `hashKey` spec. Throws TypeError on a spec that validation should have refused. */
export function compileKeyExtractor(spec: string): KeyExtractor {
  if (spec === 'ip') return (req) => req.socket.remoteAddress;
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const name = spec.slice(colon + 1);
  switch (kind) {
    case 'header': {
      const lower = name.toLowerCase();
      return (req) => {
        const v = req.headers[lower];
        return Array.isArray(v) ? v[0] : v;
      };
    }
    case 'cookie':
      return (req) => readCookie(req.headers.cookie, name);
    case 'query':
      return (req) => readQueryParam(req.url, name);
    default:
      throw new TypeError(`unknown hashKey spec "${spec}"`);
  }
}

/** The first value of query parameter `name` in a request target, decoded; undefined when absent. */
export function readQueryParam(url: string | undefined, name: string): string | undefined {
  if (!url) return undefined;
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const value = new URLSearchParams(url.slice(q + 1)).get(name);
  return value ?? undefined;
}
