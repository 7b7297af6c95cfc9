/**
 * The shared state under concurrent writers: 4 instances (child processes) each start 500 `mergeState` calls on
 * one room at once, each call setting a field of its own instance and one of 8 fields every instance writes. No
 * field is lost; every value is stored as the exact JSON text written (checked on the raw Redis hash: `[]`, nested
 * objects, 2^53 + 1 as a BigInt) and `getState()` returns it deepEqual on every instance; every shared field holds
 * the value of the last change (by version) that set it; the version went up by exactly 2,000, each call getting
 * its own; and a subscriber on every instance saw the 2,000 `state` messages in version order, each with the patch
 * its call wrote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomPrefix } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';
import type { RoomState } from '../../src/rooms/index.js';
import { ownField, ownValue, patchFor, sharedField, sharedValue, SHARED_FIELDS } from './fixtures/patches.js';
import { instanceRig, openAll, type RoomClient, type RoomInstance } from './instances.js';

const INSTANCES = 4;
const CALLS = 500;
const TOTAL = INSTANCES * CALLS;

const rig = instanceRig();

/** The raw hash: field -> the text Redis holds (redis-cli prints a non-tty reply raw, one line each). */
async function rawHash(key: string): Promise<Map<string, string>> {
  const lines = (await rig.redis.cli('HGETALL', key)).split('\n');
  if (lines.at(-1) === '') lines.pop();
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < lines.length; i += 2) out.set(lines[i] as string, lines[i + 1] as string);
  return out;
}

test('4 instances x 500 concurrent mergeState on one room: no field lost, values byte-identical, version +2,000, 2,000 state messages in order', { timeout: 60_000 }, async () => {
  const prefix = randomPrefix('rm-state');
  const stateKey = `${prefix}:rm:{s}:state`;
  const instances = await rig.start(prefix, INSTANCES);
  const tags = instances.map((_, n) => `i${n}`);
  const watchers = rig.track(await openAll(instances, (inst) => inst.connect('s')));
  // Something there already: the changes go on from its version.
  await instances[0]!.ask('publish', { room: 's', n: 3 });
  await (instances[0] as RoomInstance).ask('merge', { room: 's', tag: 'pre', n: 2 });
  const v0 = (await instances[1]!.ask<RoomState<Record<string, unknown>>>('state', { room: 's' })).version;
  assert.equal(v0, 2);

  const results = await Promise.all(
    instances.map((inst, n) => inst.ask<{ i: number; seq: number; version: number }[]>('merge', { room: 's', tag: tags[n], n: CALLS }, 40_000)),
  );
  const versions = results.flat().map((r) => r.version);
  assert.equal(new Set(versions).size, TOTAL, 'every call got its own version');
  assert.equal(Math.min(...versions), v0 + 1);
  assert.equal(Math.max(...versions), v0 + TOTAL);

  const stateOf = (c: RoomClient) => c.of('state').filter((m) => m.version > v0);
  await until(() => watchers.every((c) => stateOf(c).length >= TOTAL), 20_000, () => `2,000 state messages on every watcher (${watchers.map((c) => stateOf(c).length).join(', ')})`);
  await new Promise((r) => setTimeout(r, 200));
  // Which call each version was: the origin instance and the number in its own field.
  const callOf = new Map<number, { tag: string; i: number }>();
  results.forEach((rs, n) => rs.forEach((r) => callOf.set(r.version, { tag: tags[n] as string, i: r.i })));
  for (const c of watchers) {
    const seen = stateOf(c);
    assert.equal(seen.length, TOTAL, 'each change announced once');
    assert.deepEqual(seen.map((m) => m.version), Array.from({ length: TOTAL }, (_, k): number => v0 + 1 + k), 'in version order, none missing');
    for (const m of seen) {
      const call = callOf.get(m.version)!;
      assert.deepEqual(m.patch, patchFor(call.tag, call.i), `version ${m.version}: the patch of call ${call.tag}.${call.i}`);
      assert.equal(m.origin, instances[tags.indexOf(call.tag)]!.instanceId);
    }
  }

  // What the state must be: every own field as written, every shared field as its last writer (by version) left it.
  const expectedText = new Map<string, string>();
  const expected: Record<string, unknown> = {};
  for (let i = 0; i < 2; i++) {
    expectedText.set(ownField('pre', i), ownValue('pre', i).text);
    expected[ownField('pre', i)] = ownValue('pre', i).value;
  }
  for (let v = 1; v <= 2 + TOTAL; v++) {
    const call = v <= v0 ? { tag: 'pre', i: v - 1 } : callOf.get(v)!;
    expectedText.set(sharedField(call.i), sharedValue(call.tag, call.i).text);
    expected[sharedField(call.i)] = sharedValue(call.tag, call.i).value;
  }
  for (const tag of tags) {
    for (let i = 0; i < CALLS; i++) {
      expectedText.set(ownField(tag, i), ownValue(tag, i).text);
      expected[ownField(tag, i)] = ownValue(tag, i).value;
    }
  }
  assert.equal(expectedText.size, 2 + TOTAL + SHARED_FIELDS);

  const raw = await rawHash(stateKey);
  assert.equal(raw.size, expectedText.size, 'no field lost, none extra');
  for (const [field, text] of expectedText) assert.equal(raw.get(field), text, `raw text of ${field}`);
  // The same, one field at a time, for each kind of value.
  for (let i = 0; i < 6; i++) assert.equal((await rig.redis.cli('HGET', stateKey, ownField('i3', i))).replace(/\n$/, ''), ownValue('i3', i).text);
  assert.equal((await rig.redis.cli('HGET', stateKey, ownField('i1', 2))).trim(), '9007199254740993');
  assert.equal((await rig.redis.cli('HGET', stateKey, ownField('i1', 0))).trim(), '[]');

  for (const inst of instances) {
    const read = await inst.ask<RoomState<Record<string, unknown>>>('state', { room: 's' });
    assert.equal(read.version, v0 + TOTAL, 'the version went up by exactly 2,000');
    assert.deepEqual(read.state, expected);
    assert.equal(read.state[ownField('i2', 2)], 2n ** 53n + 1n);
  }
});
