/**
 * @module config/mask: a JSON-safe view of the config for `keyway check` and status pages. Status pages that print
 * secrets are a classic leak, so anything that may be one is replaced, and odd values never make it throw.
 */
import type { GatewayConfig } from './types.js';

/** What every secret value becomes. */
export const MASK = '***';

/** Keys whose values are treated as secrets anywhere in the tree (`pass`, `apiKey`, `clientSecret`, ...). */
const SECRET_KEY = /pass|secret|token|key/i;
/** Known keyway fields that match SECRET_KEY by name but are not secrets. Only checked at the top level. */
const NOT_SECRET_TOP_LEVEL = new Set(['hashKey']);

/**
 * Returns a plain, JSON-serialisable copy of `config` with `sticky.secret`, `admin.token`, every health header
 * value, password-like `email` fields and URL passwords replaced by `"***"`, and functions by `"[function]"`.
 * Unset secrets stay absent, so the output still tells whether one is configured.
 *
 * @example
 * JSON.stringify(maskConfig(config), null, 2);
 */
export function maskConfig(config: GatewayConfig): Record<string, unknown> {
  const out = toSafe(config, [], new WeakSet());
  return typeof out === 'object' && out !== null && !Array.isArray(out) ? (out as Record<string, unknown>) : {};
}

function isSecretPath(path: readonly string[]): boolean {
  const key = path[path.length - 1];
  if (key === undefined) return false;
  // Health header values (global `health.headers.*` and `backends.N.health.headers.*`) often carry tokens.
  if (path[path.length - 2] === 'headers' && path[path.length - 3] === 'health') return true;
  // Webhook headers usually carry the receiver's credentials.
  if (path[path.length - 2] === 'headers' && path[0] === 'alerts') return true;
  if (path.length === 1 && NOT_SECRET_TOP_LEVEL.has(key)) return false;
  return SECRET_KEY.test(key);
}

function toSafe(value: unknown, path: readonly string[], seen: WeakSet<object>): unknown {
  if (value === undefined) return undefined;
  if (isSecretPath(path)) return MASK;
  if (typeof value === 'function') return '[function]';
  if (typeof value === 'bigint' || typeof value === 'symbol') return String(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    return Array.isArray(value) ? value.map((v, i) => toSafe(v, [...path, String(i)], seen)) : safeObject(value, path, seen);
  } finally {
    seen.delete(value); // shared (not circular) references print in both places
  }
}

function safeObject(value: object, path: readonly string[], seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    let child: unknown;
    try {
      child = (value as Record<string, unknown>)[key];
    } catch {
      child = '[unreadable]'; // a throwing getter in a JS config must not break `keyway check`
    }
    const childPath = [...path, key];
    const safe =
      isWebhookUrlPath(childPath) && typeof child === 'string'
        ? maskWebhookUrl(child)
        : isUrlPath(childPath) && typeof child === 'string'
          ? maskUrl(child)
          : toSafe(child, childPath, seen);
    if (safe !== undefined) Object.defineProperty(out, key, { value: safe, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function isUrlPath(path: readonly string[]): boolean {
  return path.length === 3 && path[0] === 'backends' && path[2] === 'url';
}

function isWebhookUrlPath(path: readonly string[]): boolean {
  return path.length === 4 && path[0] === 'alerts' && path[1] === 'webhooks' && path[3] === 'url';
}

/** Webhook URLs (Slack's, for one) carry their secret in the path: only the origin is shown. */
function maskWebhookUrl(raw: string): string {
  try {
    return `${new URL(raw).origin}/${MASK}`;
  } catch {
    return MASK;
  }
}

/** `http://user:pw@host/` -> `http://user:***@host/`; anything unparsable comes back unchanged. */
function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password === '') return raw;
    url.password = MASK;
    return url.href;
  } catch {
    return raw;
  }
}
