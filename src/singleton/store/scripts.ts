/**
 * @module singleton/store/scripts: the singleton's Lua scripts (`lua/*.lua`), under `defineCommand` names that carry
 * a hash of their text. `lua/_fence.lua` (the fencing token rule) is shared with the @fluxstack/live-redis adapter.
 */
import { luaScripts, type StoreScript } from '../../redis/index.js';

const script = luaScripts(new URL('./lua/', import.meta.url));

export const SINGLETON_SCRIPTS = {
  claim: script('kwSgClaim', 'claim-3'),
  renew: script('kwSgRenew', 'renew-2'),
  release: script('kwSgRelease', 'release-2'),
  forward: script('kwSgForward', 'forward-1'),
  peek: script('kwSgPeek', 'peek-3'),
  commit: script('kwSgCommit', 'commit-5'),
} as const satisfies Record<string, StoreScript>;

/** Where `--! include fence` is found, for scripts of other folders. */
export const FENCE_LIBRARY = new URL('./lua/', import.meta.url);
