/** @module upstream: backends and the pool that holds them. */
export { Upstream, type UpstreamTarget } from './upstream.js';
export { UpstreamPool, type PoolEvents } from './pool.js';
