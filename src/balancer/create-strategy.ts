/** @module balancer/create-strategy: the config's `strategy` value -> a Strategy instance. */
import { STRATEGY_NAMES } from '../config/index.js';
import type { CustomStrategyFn, StrategyName } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { ConsistentHashStrategy } from './consistent-hash.js';
import { CustomStrategy } from './custom.js';
import { LeastConnectionsStrategy } from './least-connections.js';
import { P2CStrategy } from './p2c.js';
import { RandomStrategy } from './random.js';
import { RoundRobinStrategy } from './round-robin.js';
import type { Strategy } from './strategy.js';

/** Tuning passed on to the strategies that use it; every field is optional. */
export interface CreateStrategyOptions {
  /** Uniform source in [0, 1) for random, p2c and consistent-hash's keyless fallback. Default `Math.random`. */
  readonly random?: (() => number) | undefined;
  /** consistent-hash's bounded-load factor (>= 1). Default 1.25. */
  readonly loadFactor?: number | undefined;
  /** consistent-hash's virtual nodes per unit of weight. Default 160. */
  readonly pointsPerWeight?: number | undefined;
  /** Told when a custom strategy function throws. Default: ignore. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** A Record, so adding a name to STRATEGY_NAMES without a factory here fails to compile. */
const FACTORIES: Readonly<Record<StrategyName, (options: CreateStrategyOptions) => Strategy>> = {
  'round-robin': () => new RoundRobinStrategy(),
  'least-connections': () => new LeastConnectionsStrategy(),
  random: (options) => new RandomStrategy(options),
  p2c: (options) => new P2CStrategy(options),
  'consistent-hash': (options) => new ConsistentHashStrategy(options),
};

/**
 * Builds the strategy a config names, or wraps a custom function. An unknown name throws a `ConfigError`
 * (`KW_ERR_CONFIG_INVALID`) whose issue has path `strategy`; it never falls back to a default.
 *
 * @example
 * const strategy = createStrategy(config.strategy);
 * strategy.pick(pool.candidates(), { hashKey });
 */
export function createStrategy(spec: StrategyName | CustomStrategyFn, options: CreateStrategyOptions = {}): Strategy {
  if (typeof spec === 'function') return new CustomStrategy(spec, options);
  // `spec` may come from untyped JS: check own keys only, so `toString` or `__proto__` are unknown too.
  if (typeof spec === 'string' && Object.hasOwn(FACTORIES, spec)) return FACTORIES[spec](options);
  const got = JSON.stringify(spec) ?? String(spec);
  const message = `unknown value ${got} (expected one of ${STRATEGY_NAMES.join(', ')}, or a function)`;
  throw new ConfigError([{ path: 'strategy', message }]);
}
