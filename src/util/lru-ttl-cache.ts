/**
 * @module util/lru-ttl-cache: a bounded map whose entries expire a fixed time after they were set and whose
 * least recently used entry is dropped when it is full. O(1) `get` and `set`, built on `Map` insertion order.
 */

export interface LruTtlCacheOptions {
  /** Most entries kept (an integer >= 1); setting one more drops the least recently used. */
  readonly max: number;
  /** How long an entry lives after its `set` (ms, > 0; `Infinity` for never). Reads do not extend it. */
  readonly ttlMs: number;
  /** The clock (ms). Default `Date.now`; tests inject a fake one. */
  readonly now?: () => number;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

/**
 * LRU + TTL cache. A hit moves the entry to the most recently used end (one `Map` delete and set, no
 * allocation); an expired entry is removed when it is read, or when it reaches the old end of the map.
 *
 * @example
 * const cache = new LruTtlCache<string, number>({ max: 1000, ttlMs: 5000 });
 * cache.set('a', 1);
 * cache.get('a'); // => 1 for the next 5 s
 */
export class LruTtlCache<K, V> {
  readonly #map = new Map<K, Entry<V>>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: LruTtlCacheOptions) {
    if (!Number.isInteger(options.max) || options.max < 1) {
      throw new RangeError(`LruTtlCache max must be an integer >= 1 (got ${String(options.max)})`);
    }
    if (typeof options.ttlMs !== 'number' || Number.isNaN(options.ttlMs) || options.ttlMs <= 0) {
      throw new RangeError(`LruTtlCache ttlMs must be a number of ms > 0 (got ${String(options.ttlMs)})`);
    }
    this.#max = options.max;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  /** Entries held, counting expired ones not yet removed. */
  get size(): number {
    return this.#map.size;
  }

  /** The live value for `key` (and marks it most recently used), or undefined when absent or expired. */
  get(key: K): V | undefined {
    const entry = this.#map.get(key);
    if (entry === undefined) return undefined;
    this.#map.delete(key);
    if (entry.expiresAt <= this.#now()) return undefined;
    this.#map.set(key, entry);
    return entry.value;
  }

  /** Stores `value` for `ttlMs` as the most recently used entry, dropping the least recently used when full. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    // `Map` iterates in insertion order, so its first key is the least recently used.
    while (this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done === true) break;
      this.#map.delete(oldest.value);
    }
    this.#map.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
  }

  /** Removes `key`; true when it was there. */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Removes every entry for which `predicate(value, key)` is true (expired entries too); returns how many. */
  deleteWhere(predicate: (value: V, key: K) => boolean): number {
    let removed = 0;
    // Deleting the current key while iterating a Map is safe: iteration continues with the next one.
    for (const [key, entry] of this.#map) {
      if (predicate(entry.value, key)) {
        this.#map.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
  }
}
