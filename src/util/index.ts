/** @module util: helpers with no domain words (hashing, an LRU with TTL, the one jittered poller). */
export { hash32 } from './hash.js';
export { LruTtlCache, type LruTtlCacheOptions } from './lru-ttl-cache.js';
export { PollLoop, type PollLoopOptions } from './poll-loop.js';
