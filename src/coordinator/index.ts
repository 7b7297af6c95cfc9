/**
 * @module coordinator: the `keyway-node/coordinator` entry, with @platformatic/coordinator's names exactly (strategies
 * included), so a service switches by changing its import. Members, destination ownership with fencing epochs,
 * locks, the resolution cache, the Redis store (`store/`) and the Fastify helpers (`fastify/`). The package root
 * exports the same classes, with the allocation strategies renamed where they would clash with the gateway's
 * balancers.
 */
export { Member, type MemberEvents, type MemberOptions, type PeerLoad } from './member.js';
export {
  Registry,
  type DestinationReassignedEvent,
  type MemberAddress,
  type MemberDownReason,
  type RegistryEvents,
  type ResolveDestinationOptions,
} from './registry.js';
export { REGISTRY_DEFAULTS, type RegistryCacheOptions, type RegistryOptions } from './registry-options.js';
export type { ResolveResult } from './resolution-cache.js';
export {
  ALLOCATION_STRATEGY_NAMES,
  LeastLoadedStrategy,
  RandomStrategy,
  RoundRobinStrategy,
  createStrategy,
  type AllocationContext,
  type AllocationStrategy,
  type AllocationStrategyName,
  type MemberInfo,
  type RandomStrategyOptions,
} from './allocation-strategies.js';
export { TTLCache, type CacheOptions } from './ttl-cache.js';
export * from './fastify/index.js';
