/** @module rooms/store: the rooms' Redis keys, Lua scripts and their typed calls. */
export { roomKeys, checkRoomName, MAX_ROOM_NAME_LENGTH, type RoomKeys } from './keys.js';
export { ROOM_SCRIPTS } from './scripts.js';
export { RoomStore, type AppendOptions, type Appended, type HistoryRead, type MergeResult, type StateRead } from './room-store.js';
