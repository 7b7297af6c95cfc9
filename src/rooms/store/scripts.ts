/** @module rooms/store/scripts: the rooms' Lua scripts (`lua/*.lua`), under `defineCommand` names that carry a hash of their text. */
import { luaScripts, type StoreScript } from '../../redis/index.js';

const script = luaScripts(new URL('./lua/', import.meta.url));

export const ROOM_SCRIPTS = {
  publish: script('kwRmPublish', 'publish-2'),
  join: script('kwRmJoin', 'join-4'),
  leave: script('kwRmLeave', 'leave-4'),
  tick: script('kwRmTick', 'tick-1'),
  expired: script('kwRmExpired', 'expired-2'),
  expire: script('kwRmExpire', 'expire-4'),
  members: script('kwRmMembers', 'members-2'),
  merge: script('kwRmMerge', 'merge-3'),
  state: script('kwRmState', 'state-2'),
  history: script('kwRmHistory', 'history-2'),
} as const satisfies Record<string, StoreScript>;
