/**
 * @module rooms/store/keys: every key and the channel of one room. They share the hash tag `{<room>}`, so a script
 * may touch all of them on Redis Cluster (and SPUBLISH the channel from the same script), and rooms spread over
 * the slots.
 */

export interface RoomKeys {
  /** Hash: seq (last number given), ver (shared state's version), epoch (when the numbering began). */
  readonly meta: string;
  /** Stream of the recent messages, ids `<seq>-<server ms>`: bounded by length and age. */
  readonly history: string;
  /** Hash: field -> JSON text. */
  readonly state: string;
  /** Hash: member -> `<instance>|<meta json>`. */
  readonly presence: string;
  /** Hash: instance -> server ms until which its members are alive. */
  readonly instances: string;
  /** Channel of every message of the room. */
  readonly channel: string;
}

/** Longest room name (characters): keys stay short. */
export const MAX_ROOM_NAME_LENGTH = 200;

/** Throws a TypeError naming what is wrong with `name`. */
export function checkRoomName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '' || name.length > MAX_ROOM_NAME_LENGTH || /[{}\s|]/.test(name)) {
    throw new TypeError(`room name must be 1-${MAX_ROOM_NAME_LENGTH} characters without braces, spaces or '|', got ${JSON.stringify(name)}`);
  }
}

/**
 * The keys of room `name` under `keyPrefix`: `<keyPrefix>:rm:{<name>}:<what>`.
 *
 * @example
 * roomKeys('app', 'lobby').channel // 'app:rm:{lobby}:ch'
 */
export function roomKeys(keyPrefix: string, name: string): RoomKeys {
  checkRoomName(name);
  const base = `${keyPrefix}:rm:{${name}}:`;
  return {
    meta: `${base}meta`,
    history: `${base}hist`,
    state: `${base}state`,
    presence: `${base}members`,
    instances: `${base}instances`,
    channel: `${base}ch`,
  };
}
