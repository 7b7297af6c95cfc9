/**
 * @module store/coordinator-scripts: the coordinator's Lua scripts under their versioned `defineCommand` names,
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
import type { StoreScript } from './scripts.js';

/** Every coordinator script. Each takes the key base and the events channel as ARGV[1] and ARGV[2]. */
export const COORDINATOR_SCRIPTS = {
  putMember: { command: 'kwCoPutMemberV1', numberOfKeys: 3, lua: PUT_MEMBER_3 },
  removeMember: { command: 'kwCoRemoveMemberV1', numberOfKeys: 3, lua: REMOVE_MEMBER_3 },
  liveMembers: { command: 'kwCoLiveMembersV1', numberOfKeys: 1, lua: LIVE_MEMBERS_1 },
  resolveDestination: { command: 'kwCoResolveDestinationV1', numberOfKeys: 3, lua: RESOLVE_DESTINATION_3 },
  addOwner: { command: 'kwCoAddOwnerV1', numberOfKeys: 2, lua: ADD_OWNER_2 },
  removeOwner: { command: 'kwCoRemoveOwnerV1', numberOfKeys: 2, lua: REMOVE_OWNER_2 },
  removeBinding: { command: 'kwCoRemoveBindingV1', numberOfKeys: 2, lua: REMOVE_BINDING_2 },
  putLock: { command: 'kwCoPutLockV1', numberOfKeys: 2, lua: PUT_LOCK_2 },
  removeLock: { command: 'kwCoRemoveLockV1', numberOfKeys: 2, lua: REMOVE_LOCK_2 },
  resolveLock: { command: 'kwCoResolveLockV1', numberOfKeys: 1, lua: RESOLVE_LOCK_1 },
} as const satisfies Record<string, StoreScript>;
