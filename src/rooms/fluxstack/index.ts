/**
 * @module rooms/fluxstack: the drop-in for @fluxstack/live-redis's `RedisRoomAdapter`. It is exported from the
 * `keyway-node/fluxstack` entry, beside the `RedisClusterAdapter` drop-in.
 */
export { RedisRoomAdapter, type RedisRoomAdapterOptions, type RoomEventHandler } from './redis-room-adapter.js';
