/** @module registry: Member and Registry: members, destinations, locks, resolution cache. */
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
} from './strategies.js';
