/** @module upstream: backends, the pool that holds them, passive outlier ejection and slow start. */
export { Upstream, STICKY_SEPARATOR, addressTarget, type UpstreamTarget, type AdminState } from './upstream.js';
export { UpstreamPool, type PoolEvents, type UpstreamPoolOptions, type WhenAllDown } from './pool.js';
export { OutlierDetector, type OutlierOptions } from './outlier-detector.js';
export { slowStartFactor } from './slow-start.js';
