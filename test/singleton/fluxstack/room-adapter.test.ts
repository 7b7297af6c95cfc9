/**
 * The seed's `RedisRoomAdapter` scenarios against keyway's drop-in (same options, methods and handler events), then
 * what it does better: arrays and big integers kept, null deleting a field, order across instances, signed messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisRoomAdapter } from '../../../src/singleton/fluxstack/index.js';
import { randomPrefix } from '../../helpers/redis.js';
import { adapterRig } from './rig.js';

const rig = adapterRig();
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pair(extra: { secret?: string } = {}, extra2: { secret?: string } = extra) {
  const prefix = `${randomPrefix('fxr')}:room:`;
  const a = rig.track(new RedisRoomAdapter({ redis: rig.client(), prefix, stateTtl: 60, ...extra }));
  const b = rig.track(new RedisRoomAdapter({ redis: rig.client(), prefix, ...extra2 }));
  return { a, b, prefix };
}

/** Resolves once `list` has `n` entries (or fails after `ms`). */
async function until(list: unknown[], n: number, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (list.length < n && Date.now() < end) await wait(10);
  assert.equal(list.length, n, `${list.length} of ${n} after ${ms} ms`);
}

test('an event from another instance arrives; own events are not echoed', { timeout: 10_000 }, async () => {
  const { a, b } = pair();
  const got: unknown[] = [];
  await a.subscribe('room-1', (event, data) => got.push({ event, data }));
  await a.publish('room-1', 'message:new', { text: 'own' });
  await b.publish('room-1', 'message:new', { text: 'hello' });
  await until(got, 1);
  await wait(100);
  assert.deepEqual(got, [{ event: 'message:new', data: { text: 'hello' } }]);
});

test('unsubscribe stops delivery; two handlers in one room each get every event', { timeout: 10_000 }, async () => {
  const { a, b } = pair();
  const first: unknown[] = [];
  const second: unknown[] = [];
  const gone: unknown[] = [];
  await a.subscribe('room-1', (e) => first.push(e));
  await a.subscribe('room-1', (e) => second.push(e));
  const unsub = await a.subscribe('room-2', (e) => gone.push(e));
  unsub();
  await wait(50);
  await b.publish('room-1', 'x', 1);
  await b.publish('room-2', 'y', 2);
  await until(first, 1);
  await until(second, 1);
  await wait(100);
  assert.deepEqual(gone, []);
});

test('membership arrives as $sub:join / $sub:leave with subscriberId', { timeout: 10_000 }, async () => {
  const { a, b } = pair();
  const got: { event: string; data: unknown }[] = [];
  await b.subscribe('room-1', (event, data) => got.push({ event, data }));
  await a.publishMembership('room-1', 'join', 'comp-1');
  await a.publishMembership('room-1', 'leave', 'comp-1');
  await until(got, 2);
  assert.deepEqual(got, [
    { event: '$sub:join', data: { subscriberId: 'comp-1' } },
    { event: '$sub:leave', data: { subscriberId: 'comp-1' } },
  ]);
});

test('state: persisted, merged, null for none, deleted; a change is broadcast as $state:update', { timeout: 10_000 }, async () => {
  const { a, b } = pair();
  const got: { event: string; data: unknown }[] = [];
  await b.subscribe('room-1', (event, data) => got.push({ event, data }));
  await a.publishStateChange('room-1', { count: 5 });
  await a.publishStateChange('room-1', { name: 'test' });
  assert.deepEqual(await b.getPersistedState('room-1'), { count: 5, name: 'test' });
  assert.equal(await a.getPersistedState('non-existent'), null);
  await until(got, 2);
  assert.deepEqual(got[0], { event: '$state:update', data: { state: { count: 5 } } });
  assert.equal(await a.deletePersistedState('room-1'), true);
  assert.equal(await a.getPersistedState('room-1'), null);
  assert.equal(await a.deletePersistedState('room-1'), false);
});

test('50 + 50 interleaved writes from two instances keep all 100 fields', { timeout: 10_000 }, async () => {
  const { a, b } = pair();
  const ops: Promise<void>[] = [];
  for (let i = 0; i < 50; i++) {
    ops.push(a.publishStateChange('race', { [`a${i}`]: i }));
    ops.push(b.publishStateChange('race', { [`b${i}`]: i }));
  }
  await Promise.all(ops);
  const state = (await a.getPersistedState<Record<string, number>>('race'))!;
  assert.equal(Object.keys(state).length, 100);
  for (let i = 0; i < 50; i++) assert.ok(state[`a${i}`] === i && state[`b${i}`] === i);
});

test('keyway: arrays, nested objects and 2^53 + 1 come back as written; null deletes; the state key has the seed name and TTL', { timeout: 10_000 }, async () => {
  const { a, b, prefix } = pair();
  const big = 2n ** 53n + 1n;
  await a.publishStateChange('s', { list: [], nested: { x: [] }, big, gone: true });
  await a.publishStateChange('s', { gone: null });
  assert.deepEqual(await b.getPersistedState('s'), { list: [], nested: { x: [] }, big });
  assert.equal(await rig.raw.hget(`${prefix}state:s`, 'big'), '9007199254740993');
  const ttl = await rig.raw.ttl(`${prefix}state:s`);
  assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
});

test('keyway: events from several instances arrive in one order everywhere', { timeout: 10_000 }, async () => {
  const { a, b, prefix } = pair();
  const c = rig.track(new RedisRoomAdapter({ redis: rig.client(), prefix }));
  const atB: unknown[] = [];
  const atC: unknown[] = [];
  await b.subscribe('o', (_e, d) => atB.push(d));
  await c.subscribe('o', (_e, d) => atC.push(d));
  await Promise.all(Array.from({ length: 100 }, (_, i) => a.publish('o', 'n', i)));
  await until(atB, 100);
  await until(atC, 100);
  assert.deepEqual(atB, atC);
});

test('keyway: with a secret, messages from an adapter without it (or a raw PUBLISH) are dropped', { timeout: 10_000 }, async () => {
  const { a, b, prefix } = pair({ secret: 'room-secret-0123456789' }, {});
  const got: unknown[] = [];
  await a.subscribe('sec', (_e, d) => got.push(d));
  await b.publish('sec', 'x', 'forged');
  await rig.raw.publish(`${prefix}ch:sec`, JSON.stringify({ type: 'event', roomId: 'sec', event: 'x', data: 'raw', origin: 'z' }));
  await wait(200);
  assert.deepEqual(got, []);
});

test('shutdown with active subscriptions does not throw, and twice is fine', { timeout: 10_000 }, async () => {
  const { a } = pair();
  await a.subscribe('room-1', () => undefined);
  await a.subscribe('room-2', () => undefined);
  await a.shutdown();
  await a.shutdown();
});
