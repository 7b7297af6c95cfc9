/** @module replication/store/scripts: the gateway store's Lua scripts (`lua/*.lua`), registered and run through `redis/`. */
import { luaScripts, type StoreScript } from '../../redis/index.js';

const script = luaScripts(new URL('./lua/', import.meta.url));

/** Every script the gateway store runs. */
export const SCRIPTS = {
  putVerdict: script('kwPutVerdict', 'putVerdict-1'),
  putRegister: script('kwPutRegister', 'putRegister-1'),
  readState: script('kwReadState', 'readState-3'),
} as const satisfies Record<string, StoreScript>;
