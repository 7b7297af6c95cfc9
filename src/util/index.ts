/** @module util: pure helpers with no domain words (hashing, backoff, ...). */
export { hash32 } from './hash.js';
export { LruTtlCache, type LruTtlCacheOptions } from './lru-ttl-cache.js';
