/**
 * @module redis/keys: the hash-tag rule every key schema builds on. Each feature's keys start with
 * `{<keyPrefix>}:<area>:`, so all keys of one prefix share one Redis Cluster slot and a script may touch any of
 * them (or build more at run time from the base).
 */

/**
 * `{<keyPrefix>}`, the hash tag every key starts with. Throws on an empty prefix or one holding `{` or `}`: `{}`
 * is no hash tag (the whole key would be hashed), and a brace inside would cut the tag short.
 */
export function hashTag(keyPrefix: string): string {
  if (keyPrefix === '' || /[{}]/.test(keyPrefix)) {
    throw new TypeError(`redis key prefix must be non-empty and free of braces, got ${JSON.stringify(keyPrefix)}`);
  }
  return `{${keyPrefix}}`;
}

/**
 * `{<keyPrefix>}:<area>:`, the base of one feature's keys (`gw` for gateway replicas, `co` for the coordinator).
 *
 * @example
 * keyBase('keyway', 'gw') // '{keyway}:gw:'
 */
export function keyBase(keyPrefix: string, area: string): string {
  return `${hashTag(keyPrefix)}:${area}:`;
}
