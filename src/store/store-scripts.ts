/** @module store/store-scripts: the gateway store's Lua scripts (`lua/*.lua`), registered and run through `redis/`. */
import { defineScript, keysOf, loadLua, type StoreScript } from '../redis/index.js';

const LUA = new URL('./lua/', import.meta.url);
const script = (command: string, file: string): StoreScript => defineScript(command, keysOf(file), loadLua(LUA, file));

/** Every script the gateway store runs. */
export const SCRIPTS = {
  putVerdict: script('kwPutVerdict', 'putVerdict-1'),
  putRegister: script('kwPutRegister', 'putRegister-1'),
  readState: script('kwReadState', 'readState-3'),
} as const satisfies Record<string, StoreScript>;
