/** @module singleton/store: the singleton's Redis keys, Lua scripts and their typed calls. */
export { singletonKeys, checkSingletonName, MAX_NAME_LENGTH, type SingletonKeys } from './keys.js';
export { SINGLETON_SCRIPTS, FENCE_LIBRARY } from './scripts.js';
export {
  SingletonStore,
  type ClaimResult,
  type CommitInput,
  type CommitResult,
  type ForwardResult,
  type PeekResult,
  type RenewResult,
} from './singleton-store.js';
