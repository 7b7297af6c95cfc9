/**
 * @module redis: the one Redis layer, and the only folder that imports ioredis: connections (URL, Sentinel, Cluster,
 * TLS), the script runner (names carry a hash of the script's text), error mapping, connection watching and the
 * one subscribe-with-retry. The gateway's replica store and the coordinator build on it; so will every new
 * Redis-backed feature.
 */
export { createRedisClient, describeRedis, isCluster, usesSentinel, type RedisClient, type RedisClientOptions } from './redis-client.js';
export { closeClient, watchClient, type ClientWatch, type WatchHandlers } from './connection-watch.js';
export { defineScript, defineScripts, runScript, runScriptConfirmed, scriptStatus, type StoreScript } from './scripts.js';
export { toStoreError } from './errors.js';
export { ReadyGate, MAX_READY_WAITERS } from './ready-gate.js';
export { keysOf, loadLua, luaScripts } from './lua.js';
export { hashTag, keyBase } from './keys.js';
export { ChannelSubscription, type ChannelSubscriptionOptions } from './channel-subscription.js';
export { ScriptCaller, replyArray, replyNumber } from './script-caller.js';
