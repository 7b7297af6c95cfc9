/**
 * @module config/mask: a JSON-safe view of the config for `keyway check` and status pages. Status pages that print
 * secrets are a classic leak, so anything that may be one is replaced, and odd values never make it throw.
 */
import type { GatewayConfig } from './types.js';

/** What every secret value becomes. */
export const MASK = '***';

/** Keys whose values are treated as secrets anywhere in the tree (`pass`, `apiKey`, `clientSecret`, ...). */
const SECRET_KEY = /pass|secret|token|key/i;
/**
 * Known keyway fields that match SECRET_KEY by name but are not secrets, as path patterns (`*` stands for an
 * array index). Only these exact places are exempt: the same key inside `email` stays masked.
 */
const NOT_SECRET = new Set(['hashKey', 'pools.*.hashKey', 'redis.keyPrefix', 'retries.idempotencyKey']);
/** Known secrets whose names SECRET_KEY does not catch. */
const SECRET = new Set(['redis.username']);
/** Backend URLs: only a password in them is hidden, the rest says where traffic goes. */
const BACKEND_URL = new Set(['backends.*.url', 'pools.*.backends.*.url']);

/**
 * Returns a plain, JSON-serialisable copy of `config` with `sticky.secret`, `admin.token`, every health header
 * value, password-like `email` fields, URL passwords and Redis credentials (`redis.username`, `redis.password`
 * and both in `redis.url`) replaced by `"***"`, and functions by `"[function]"`. Unset secrets stay absent, so
 * the output still tells whether one is configured.
 *
 * @example
 * JSON.stringify(maskConfig(config), null, 2);
 */
export function maskConfig(config: GatewayConfig): Record<string, unknown> {
  const out = toSafe(config, [], new WeakSet());
  return typeof out === 'object' && out !== null && !Array.isArray(out) ? (out as Record<string, unknown>) : {};
}

/** `['pools', '0', 'hashKey']` -> `pools.*.hashKey`. */
function pattern(path: readonly string[]): string {
  return path.map((part) => (/^\d+$/.test(part) ? '*' : part)).join('.');
}

function isSecretPath(path: readonly string[]): boolean {
  const key = path[path.length - 1];
  if (key === undefined) return false;
  // Health header values (global `health.headers.*`, `backends.N.health.headers.*`, pools') often carry tokens.
  if (path[path.length - 2] === 'headers' && path[path.length - 3] === 'health') return true;
  // Webhook headers usually carry the receiver's credentials.
  if (path[path.length - 2] === 'headers' && path[0] === 'alerts') return true;
  const where = pattern(path);
  if (SECRET.has(where)) return true;
  if (NOT_SECRET.has(where)) return false;
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
    const safe = typeof child === 'string' ? maskUrlAt(pattern(childPath), child) : undefined;
    const shown = safe ?? toSafe(child, childPath, seen);
    if (shown !== undefined) Object.defineProperty(out, key, { value: shown, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The masked form of a URL field, or undefined when `where` is not a URL field. */
function maskUrlAt(where: string, raw: string): string | undefined {
  if (where === 'alerts.webhooks.*.url') return maskWebhookUrl(raw);
  if (where === 'redis.url') return maskRedisUrl(raw);
  if (BACKEND_URL.has(where)) return maskUrlPassword(raw);
  return undefined;
}

/** Redis URLs carry an ACL user and password: both go (`redis://***:***@host:6379/0`). */
function maskRedisUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username !== '') url.username = MASK;
    if (url.password !== '') url.password = MASK;
    return url.href;
  } catch {
    return MASK;
  }
}

/** Webhook URLs (Slack's, for one) carry their secret in the path: only the origin is shown. */
function maskWebhookUrl(raw: string): string {
  try {
    return `${new URL(raw).origin}/${MASK}`;
  } catch {
    return MASK;
  }
}

/**
 * `http://user:pw@host/` -> `http://user:***@host/`; anything unparsable comes back unchanged. Every place that
 * shows a backend URL (status JSON, logs, `keyway check`) goes through this.
 */
export function maskUrlPassword(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password === '') return raw;
    url.password = MASK;
    return url.href;
  } catch {
    return raw;
  }
}
