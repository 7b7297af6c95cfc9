/** @module store/store-scripts: the gateway store's Lua scripts, registered and run through `redis/`. */
import { defineScript, type StoreScript } from '../redis/index.js';
import { PUT_REGISTER_1 } from './lua/putRegister-1.js';
import { PUT_VERDICT_1 } from './lua/putVerdict-1.js';
import { READ_STATE_3 } from './lua/readState-3.js';

/** Every script the gateway store runs. */
export const SCRIPTS = {
  putVerdict: defineScript('kwPutVerdict', 1, PUT_VERDICT_1),
  putRegister: defineScript('kwPutRegister', 1, PUT_REGISTER_1),
  readState: defineScript('kwReadState', 3, READ_STATE_3),
} as const satisfies Record<string, StoreScript>;
