/**
 * @module rooms: cross-instance rooms. Every message of a room (events, joins and leaves, state changes) is numbered
 * by the script that publishes it, so every member on every instance sees one order, once; gaps are repaired from a
 * bounded history and what is past it becomes an explicit `resync`; presence expires with the instance that held
 * it; the shared state is JSON text per field, changed and announced by one script. The `keyway-node/fluxstack`
 * entry adapts it to @fluxstack/live-redis's `RedisRoomAdapter`.
 */
export { RoomGroup, type RoomGroupStats } from './room-group.js';
export { Room, type RoomMember, type RoomState, type StateChange, type SubscribeOptions } from './room.js';
export type { RoomHandler } from './room-subscribers.js';
export type {
  RoomEventMessage,
  RoomJoinMessage,
  RoomLeaveMessage,
  RoomMessage,
  RoomResyncMessage,
  RoomStateMessage,
} from './room-messages.js';
export { ROOM_DEFAULTS, type RoomGroupOptions, type RoomOptions } from './room-options.js';
export { encodeJson, decodeJson } from './json-text.js';
