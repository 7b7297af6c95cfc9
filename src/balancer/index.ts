/** @module balancer: the Strategy interface, one class per strategy, and createStrategy(name). */
export type { Candidate, PickContext, Strategy } from './strategy.js';
export { RoundRobinStrategy } from './round-robin.js';
export { LeastConnectionsStrategy } from './least-connections.js';
export { RandomStrategy } from './random.js';
export type { RandomStrategyOptions } from './random.js';
export { P2CStrategy } from './p2c.js';
export type { P2CStrategyOptions } from './p2c.js';
export { ConsistentHashStrategy } from './consistent-hash.js';
export type { ConsistentHashStrategyOptions } from './consistent-hash.js';
export { CustomStrategy } from './custom.js';
export type { CustomStrategyOptions } from './custom.js';
export { createStrategy } from './create-strategy.js';
export type { CreateStrategyOptions } from './create-strategy.js';
