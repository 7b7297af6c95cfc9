/**
 * @module gateway/service-pool: one named pool as the gateway runs it: its upstreams, the picker with its own
 * strategy and sticky cookie, its health checker and its drain tracker, and the pool it falls back to.
 */
import { createStrategy } from '../balancer/index.js';
import type { GatewayConfig, PoolConfig } from '../config/index.js';
import { HealthChecker } from '../health/index.js';
import { StickySessions, compileKeyExtractor } from '../sticky/index.js';
import type { Logger } from '../types.js';
import { UpstreamPool, type Upstream } from '../upstream/index.js';
import type { RedisClient } from '../redis/index.js';
import { BackendPicker } from './backend-picker.js';
import { DestinationRouting } from './destination-routing.js';
import { DrainTracker } from './drain-tracker.js';

export interface ServicePoolParts {
  readonly logger: Logger;
  /** The resolved sticky secret (shared by every pool and every replica). */
  readonly stickySecret: string;
  /** Where health verdicts go (the shared view merges them with other replicas'). */
  readonly decide: (u: Upstream, healthy: boolean) => void;
  readonly onDrained: (u: Upstream) => void;
  /** The Redis connection destination pools share (created by the gateway when one exists). */
  readonly redisClient: () => RedisClient;
  /** Called after a destination pool adds or drops a member upstream. */
  readonly onMembersChanged: () => void;
}

export class ServicePool {
  readonly name: string;
  readonly config: PoolConfig;
  readonly pool: UpstreamPool;
  readonly picker: BackendPicker;
  readonly checker: HealthChecker;
  readonly drains: DrainTracker;
  /** Serves when this pool has no backend that may take traffic; set once every pool exists. */
  fallback: ServicePool | null = null;
  /** Routing by destination to coordinator members, for a `destination` pool; else null. */
  readonly destination: DestinationRouting | null;

  constructor(config: PoolConfig, gateway: GatewayConfig, parts: ServicePoolParts) {
    this.name = config.name;
    this.config = config;
    this.pool = new UpstreamPool(config.backends, {
      slowStartMs: gateway.slowStartMs,
      outlier: gateway.outlier,
      whenAllDown: gateway.whenAllDown,
    });
    const sticky = config.sticky === false ? null : new StickySessions(config.sticky, config.sticky.secret ?? parts.stickySecret);
    const keyOf = config.hashKey === undefined ? null : compileKeyExtractor(config.hashKey);
    this.picker = new BackendPicker(this.pool, createStrategy(config.strategy), sticky, keyOf);
    this.checker = new HealthChecker(this.pool, { logger: parts.logger, decide: parts.decide });
    this.drains = new DrainTracker(this.pool, gateway.drainTimeoutMs, parts.onDrained);
    this.destination =
      config.destination === null ? null : new DestinationRouting(config, this.pool, parts.redisClient(), parts.logger, parts.onMembersChanged);
  }

  async close(): Promise<void> {
    await this.destination?.close();
    await this.checker.close();
    this.drains.close();
    await this.pool.close();
  }
}
