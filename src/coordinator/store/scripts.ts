/**
 * @module coordinator/store/scripts: the coordinator's Lua scripts (`lua/*.lua`, on `lua/_coordinator.lua`), under
 * `defineCommand` names that carry a hash of their text, registered and run through `redis/` like the gateway store's.
 */
import { luaScripts, type StoreScript } from '../../redis/index.js';

const script = luaScripts(new URL('./lua/', import.meta.url));

/** Every coordinator script. Each takes the key base and the events channel as ARGV[1] and ARGV[2]. */
export const COORDINATOR_SCRIPTS = {
  putMember: script('kwCoPutMember', 'putMember-3'),
  removeMember: script('kwCoRemoveMember', 'removeMember-3'),
  liveMembers: script('kwCoLiveMembers', 'liveMembers-1'),
  resolveDestination: script('kwCoResolveDestination', 'resolveDestination-3'),
  addOwner: script('kwCoAddOwner', 'addOwner-2'),
  removeOwner: script('kwCoRemoveOwner', 'removeOwner-2'),
  removeBinding: script('kwCoRemoveBinding', 'removeBinding-2'),
  putLock: script('kwCoPutLock', 'putLock-2'),
  removeLock: script('kwCoRemoveLock', 'removeLock-2'),
  resolveLock: script('kwCoResolveLock', 'resolveLock-1'),
} as const satisfies Record<string, StoreScript>;
