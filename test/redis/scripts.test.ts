/**
 * The Lua scripts' registered names carry a hash of their text (a changed script never runs under an old name),
 * every name is unique, and each script declares as many keys as its text uses (`KEYS[n]`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { COORDINATOR_SCRIPTS } from '../../src/coordinator/store/scripts.js';
import { defineScript } from '../../src/redis/index.js';
import { SCRIPTS } from '../../src/replication/store/scripts.js';

const ALL = { ...SCRIPTS, ...COORDINATOR_SCRIPTS };

test('each script is registered as <name>_<12 hex of the SHA-1 of its text>, and names are unique', () => {
  const names = new Set<string>();
  for (const [key, script] of Object.entries(ALL)) {
    const hash = createHash('sha1').update(script.lua).digest('hex').slice(0, 12);
    assert.ok(script.command.endsWith(`_${hash}`), `${key}: ${script.command}`);
    assert.ok(!names.has(script.command), `${script.command} twice`);
    names.add(script.command);
  }
});

test('a one-character change to a script changes its registered name', () => {
  const a = defineScript('kwX', 1, "return redis.call('GET', KEYS[1])");
  const b = defineScript('kwX', 1, "return redis.call('GET', KEYS[1]) ");
  assert.notEqual(a.command, b.command);
});

test('each script uses exactly the keys it declares', () => {
  for (const [key, script] of Object.entries(ALL)) {
    const used = new Set([...script.lua.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])));
    const highest = Math.max(0, ...used);
    assert.equal(highest, script.numberOfKeys, `${key} uses KEYS up to ${highest}, declares ${script.numberOfKeys}`);
  }
});

test('loadLua inlines each `--! include` once, nested includes too; keysOf reads the count from the name', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  const { keysOf, loadLua } = await import('../../src/redis/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'keyway-lua-'));
  writeFileSync(join(dir, '_a.lua'), 'local A = 1\n');
  writeFileSync(join(dir, '_b.lua'), '--! include a\nlocal B = A + 1\n');
  writeFileSync(join(dir, 'doIt-2.lua'), '-- KEYS[1] x\n--! include b\n--! include a\nreturn redis.call("GET", KEYS[2])\n');
  const text = loadLua(pathToFileURL(`${dir}/`), 'doIt-2');
  assert.equal(text.match(/local A = 1/g)?.length, 1);
  assert.ok(text.indexOf('local A') < text.indexOf('local B'));
  assert.ok(!text.includes('--! include'));
  assert.equal(keysOf('doIt-2'), 2);
  assert.throws(() => keysOf('doIt'), /-<numberOfKeys>/);
});
