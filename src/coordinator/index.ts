/**
 * @module coordinator: the `keyway-node/coordinator` entry, with @platformatic/coordinator's names exactly (strategies
 * included), so a service switches by changing its import. Members, destination ownership with fencing epochs,
 * locks, the resolution cache, the Redis store (`store/`) and the Fastify helpers (`fastify/`). `Member`, `Registry`
 * and `coordinatorPlugin` here default to platformatic's key layout (`platformatic.ts`); the package root exports
 * them on keyway's own layout, with the allocation strategies renamed where they would clash with the gateway's
 * balancers.
 */
export { Member, Registry, coordinatorPlugin } from './platformatic.js';
export type { MemberEvents, MemberOptions, PeerLoad } from './member.js';
export {
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
export type { CoordinatorLayout } from './store/index.js';
// The Fastify helpers, with the plugin above in place of the package root's.
export {
  lookupAndProxy,
  lookupAndDeregister,
  lookupLockAndProxy,
  pickAndRegister,
  MAX_REGISTER_BODY_BYTES,
  proxyVia,
  proxyRequest,
  streamReply,
  DEFAULT_FORWARD_HEADERS,
} from './fastify/index.js';
export type {
  Coordinator,
  CoordinatorPluginOptions,
  LookupAndProxyOptions,
  LookupAndProxyResult,
  PickAndRegisterOptions,
  PickAndRegisterResult,
  LookupAndDeregisterOptions,
  LookupAndDeregisterResult,
  LookupLockAndProxyOptions,
  LookupLockAndProxyResult,
  ProxyResolver,
  ProxyTarget,
  ProxyViaOptions,
  ProxyRequestOptions,
  ProxyResponse,
  IdExtractor,
  CoordinatorRegistry,
  DestinationResolution,
  MemberTarget,
} from './fastify/index.js';
