/**
 * @module singleton/store/keys: every key and channel of one singleton. They share the hash tag `{<name>}`, so a
 * script may touch all of them on Redis Cluster, and different singletons spread over the slots (the prefix is not
 * in the tag: one hot prefix would put every singleton on one node).
 */

export interface SingletonKeys {
  /** `<token> <owner>`, PX leaseMs. */
  readonly lease: string;
  /** Hash: token (the last one handed out), owner, seq and committed (the token of the last commit). */
  readonly meta: string;
  /** Hash: one field per top-level key of the state, its JSON. Never expires. */
  readonly state: string;
  /** Hash: idempotency key -> result, with `doneAt` (zset of when each was recorded) bounding it. */
  readonly done: string;
  readonly doneAt: string;
  /** Channel: claims and releases (published by the scripts) and deltas (published by the commit script). */
  readonly events: string;
  /** Channel: action requests; only the owner listens. */
  readonly requests: string;
  /** Channel of one instance's replies for this singleton. */
  reply(instanceId: string): string;
}

/** Longest singleton name (bytes of UTF-16, roughly): keys stay short. */
export const MAX_NAME_LENGTH = 200;

/** Throws a TypeError naming what is wrong with `keyPrefix` or `name`. */
export function checkSingletonName(keyPrefix: string, name: string): void {
  if (typeof keyPrefix !== 'string' || keyPrefix === '' || /[{}\s]/.test(keyPrefix)) {
    throw new TypeError(`singleton keyPrefix must be a non-empty string without braces or spaces, got ${JSON.stringify(keyPrefix)}`);
  }
  if (typeof name !== 'string' || name === '' || name.length > MAX_NAME_LENGTH || /[{}\s|]/.test(name)) {
    throw new TypeError(
      `singleton name must be 1-${MAX_NAME_LENGTH} characters without braces, spaces or '|', got ${JSON.stringify(name)}`,
    );
  }
}

/**
 * The keys of singleton `name` under `keyPrefix`: `<keyPrefix>:sg:{<name>}:<what>`.
 *
 * @example
 * singletonKeys('app', 'scores').lease // 'app:sg:{scores}:lease'
 */
export function singletonKeys(keyPrefix: string, name: string): SingletonKeys {
  checkSingletonName(keyPrefix, name);
  const base = `${keyPrefix}:sg:{${name}}:`;
  return {
    lease: `${base}lease`,
    meta: `${base}meta`,
    state: `${base}state`,
    done: `${base}done`,
    doneAt: `${base}done-at`,
    events: `${base}ch`,
    requests: `${base}rq`,
    reply: (instanceId) => `${base}re:${instanceId}`,
  };
}
