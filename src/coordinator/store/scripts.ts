/**
 * @module coordinator/store/scripts: the coordinator's Lua scripts (`lua/*.lua`, on `lua/_coordinator.lua`), under
 * `defineCommand` names that carry a hash of their text, registered and run through `redis/` like the gateway store's.
 * Each script exists once and is built twice: for keyway's layout (`lua/_layout.lua`) and for @platformatic/
 * coordinator's (`lua/platformatic/_layout.lua` in its place).
 */
import { luaScripts, type StoreScript } from '../../redis/index.js';
import type { CoordinatorLayout } from './keys.js';

const DIR = new URL('./lua/', import.meta.url);

function build(prefix: string, libraries: readonly URL[]) {
  const script = luaScripts(DIR, libraries);
  return {
    putMember: script(`${prefix}PutMember`, 'putMember-3'),
    removeMember: script(`${prefix}RemoveMember`, 'removeMember-3'),
    liveMembers: script(`${prefix}LiveMembers`, 'liveMembers-1'),
    resolveDestination: script(`${prefix}ResolveDestination`, 'resolveDestination-3'),
    addOwner: script(`${prefix}AddOwner`, 'addOwner-2'),
    removeOwner: script(`${prefix}RemoveOwner`, 'removeOwner-2'),
    removeBinding: script(`${prefix}RemoveBinding`, 'removeBinding-2'),
    putLock: script(`${prefix}PutLock`, 'putLock-2'),
    removeLock: script(`${prefix}RemoveLock`, 'removeLock-2'),
    resolveLock: script(`${prefix}ResolveLock`, 'resolveLock-1'),
  } as const satisfies Record<string, StoreScript>;
}

/** Every coordinator script, keyway's layout. Each takes the key base and the events channel as ARGV[1] and ARGV[2]. */
export const COORDINATOR_SCRIPTS = build('kwCo', []);
/** The same scripts on @platformatic/coordinator's layout. */
export const PLATFORMATIC_SCRIPTS = build('kwCoP', [new URL('./lua/platformatic/', import.meta.url)]);

/** The scripts of `layout`. */
export function scriptsFor(layout: CoordinatorLayout): typeof COORDINATOR_SCRIPTS {
  return layout === 'platformatic' ? PLATFORMATIC_SCRIPTS : COORDINATOR_SCRIPTS;
}
