/**
 * @module replication/store/keys: the gateway replicas' key schema. Every key is `{<keyPrefix>}:gw:<name>`: the prefix sits in a hash
 * tag, so all gateway keys share one Redis Cluster slot and a script may touch any of them.
 */
import { keyBase } from '../../redis/index.js';
import type { RegisterKind } from './types.js';

/** Every key and channel the Redis store uses under one prefix. */
export interface StoreKeys {
  /** Hash: field `<backendId>|<replicaId>` -> JSON `{ backendId, replicaId, up, sinceMs, expiresAtMs }`. */
  readonly verdicts: string;
  /** Hash: field `<id>` -> JSON `{ value, atMs, by, expiresAtMs }` (admin state of backends). */
  readonly admin: string;
  /** Hash, same shape as `admin` (backends added or removed at runtime). */
  readonly backend: string;
  /** Pub/sub channel carrying `StoreEvent` JSON. */
  readonly events: string;
}

/**
 * Builds the keys for `keyPrefix`. Throws on an empty prefix or one holding `{` or `}`: `{}` is no hash tag
 * (the whole key would be hashed), and a brace inside would cut the tag short.
 *
 * @example
 * storeKeys('keyway').verdicts // '{keyway}:gw:verdicts'
 */
export function storeKeys(keyPrefix: string): StoreKeys {
  const base = keyBase(keyPrefix, 'gw');
  return Object.freeze({
    verdicts: `${base}verdicts`,
    admin: `${base}register:admin`,
    backend: `${base}register:backend`,
    events: `${base}events`,
  });
}

/** The hash holding registers of `kind`. */
export function registerKey(keys: StoreKeys, kind: RegisterKind): string {
  return kind === 'admin' ? keys.admin : keys.backend;
}

/** The hash field of one replica's verdict on one backend. */
export function verdictField(backendId: string, replicaId: string): string {
  return `${backendId}|${replicaId}`;
}
