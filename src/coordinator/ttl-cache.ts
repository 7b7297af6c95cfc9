/**
 * @module coordinator/ttl-cache: `TTLCache`, @platformatic/coordinator's exported cache, with its option names and
 * defaults (`ttl` 5000 ms, `max` 10,000), on keyway's one LRU + TTL map (`util/lru-ttl-cache.ts`).
 */
import { LruTtlCache } from '../util/index.js';

export interface CacheOptions {
  /** Entry lifetime (ms). Default 5000. */
  readonly ttl?: number;
  /** Most entries kept; the least recently used goes first. Default 10,000. */
  readonly max?: number;
}

/**
 * A bounded map whose entries expire `ttl` ms after they were set; a read makes an entry the most recently used.
 *
 * @example
 * const cache = new TTLCache<string, string>({ ttl: 1000 });
 * cache.set('tenant-1', 'http://10.0.0.7:3000');
 */
export class TTLCache<K, V> extends LruTtlCache<K, V> {
  constructor(options: CacheOptions = {}) {
    super({ ttlMs: options.ttl ?? 5000, max: options.max ?? 10_000 });
  }
}
