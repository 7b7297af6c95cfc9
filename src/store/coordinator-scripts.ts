/**
 * @module store/coordinator-scripts: the coordinator's Lua scripts under `defineCommand` names that carry a hash of their text,
 * registered and run through `scripts.ts` like the gateway store's.
 */
import { ADD_OWNER_2 } from './lua/addOwner-2.js';
import { LIVE_MEMBERS_1 } from './lua/liveMembers-1.js';
import { PUT_LOCK_2 } from './lua/putLock-2.js';
import { PUT_MEMBER_3 } from './lua/putMember-3.js';
import { REMOVE_BINDING_2 } from './lua/removeBinding-2.js';
import { REMOVE_LOCK_2 } from './lua/removeLock-2.js';
import { REMOVE_MEMBER_3 } from './lua/removeMember-3.js';
import { REMOVE_OWNER_2 } from './lua/removeOwner-2.js';
import { RESOLVE_DESTINATION_3 } from './lua/resolveDestination-3.js';
import { RESOLVE_LOCK_1 } from './lua/resolveLock-1.js';
import { defineScript, type StoreScript } from '../redis/index.js';

/** Every coordinator script. Each takes the key base and the events channel as ARGV[1] and ARGV[2]. */
export const COORDINATOR_SCRIPTS = {
  putMember: defineScript('kwCoPutMember', 3, PUT_MEMBER_3),
  removeMember: defineScript('kwCoRemoveMember', 3, REMOVE_MEMBER_3),
  liveMembers: defineScript('kwCoLiveMembers', 1, LIVE_MEMBERS_1),
  resolveDestination: defineScript('kwCoResolveDestination', 3, RESOLVE_DESTINATION_3),
  addOwner: defineScript('kwCoAddOwner', 2, ADD_OWNER_2),
  removeOwner: defineScript('kwCoRemoveOwner', 2, REMOVE_OWNER_2),
  removeBinding: defineScript('kwCoRemoveBinding', 2, REMOVE_BINDING_2),
  putLock: defineScript('kwCoPutLock', 2, PUT_LOCK_2),
  removeLock: defineScript('kwCoRemoveLock', 2, REMOVE_LOCK_2),
  resolveLock: defineScript('kwCoResolveLock', 1, RESOLVE_LOCK_1),
} as const satisfies Record<string, StoreScript>;
