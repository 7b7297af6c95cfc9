/**
 * @module singleton: cluster singletons. One owner per name at a time, fenced by a token that only goes up; actions
 * forwarded to the owner and committed to Redis before they are answered; mirrors that follow the committed state;
 * failover within about a second. The `keyway-node/fluxstack` entry adapts it to @fluxstack/live-redis.
 */
export { SingletonGroup, type SingletonGroupStats } from './group.js';
export { Singleton, type CallOptions, type LostReason, type SingletonEventMap, type SingletonRole } from './singleton.js';
export {
  SINGLETON_DEFAULTS,
  type Action,
  type ActionContext,
  type SingletonDefinition,
  type SingletonGroupOptions,
} from './singleton-options.js';
export type { StateObject } from './field-state.js';
export { MessageSigner, MAC_CHARS } from './messages.js';
export { ServerClock } from './server-clock.js';
