/**
 * @module redis/lua: Lua scripts read from `.lua` files, each opening with its KEYS/ARGV/Returns header (bullmq's
 * layout). A script cannot `require`, so a line `--! include <lib>` is replaced by the file `_<lib>.lua` of the
 * script's own folder, or else of `redis/lua/` (helpers every feature shares), once per script however often it
 * is asked for. Read once, at load time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { defineScript, type StoreScript } from './scripts.js';

const INCLUDE = /^--! include ([\w-]+)[ \t]*$/gm;
/** The shared helpers (`_now-ms.lua`, `_compare-bytes.lua`). */
const SHARED = new URL('./lua/', import.meta.url);

/**
 * The text of `<dir>/<name>.lua` with its includes inlined. A library is looked for in `libraries` first (in order:
 * a variant of the script's own helpers, such as another key layout), then in `dir`, then in `redis/lua/`.
 */
export function loadLua(dir: URL, name: string, libraries: readonly URL[] = []): string {
  const included = new Set<string>();
  const read = (file: string): string => readFileSync(new URL(file, dir), 'utf8');
  const searched = [...libraries, dir];
  const readLib = (file: string): string => {
    const found = searched.map((d) => new URL(file, d)).find((u) => existsSync(u));
    return readFileSync(found ?? new URL(file, SHARED), 'utf8');
  };
  const expand = (text: string): string =>
    text.replace(INCLUDE, (_line, lib: string) => {
      if (included.has(lib)) return '';
      included.add(lib);
      return expand(readLib(`_${lib}.lua`));
    });
  return expand(read(`${name}.lua`));
}

/**
 * A maker of scripts from the `.lua` files of `dir`: `script('kwPutVerdict', 'putVerdict-1')` loads the file, takes
 * the number of keys from its name and registers it under a name carrying its hash.
 */
export function luaScripts(dir: URL, libraries: readonly URL[] = []): (command: string, file: string) => StoreScript {
  return (command, file) => defineScript(command, keysOf(file), loadLua(dir, file, libraries));
}

/** How many keys a script takes, from its file name (`<verbNoun>-<numberOfKeys>`, STYLE.md's convention). */
export function keysOf(name: string): number {
  const n = Number(/-(\d+)$/.exec(name)?.[1]);
  if (!Number.isInteger(n)) throw new Error(`lua script name ${name} must end in -<numberOfKeys>`);
  return n;
}
