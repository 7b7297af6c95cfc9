/**
 * Delta pub/sub between instances: delivery with the right origin, no echo, and the seed's dedup scenarios
 * re-expressed black-box by PUBLISHing raw messages to `{prefix}delta`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RedisClusterAdapter } from '../../../src/singleton/fluxstack/index.js';
import { randomPrefix } from '../../helpers/redis.js';
import { adapterRig } from './rig.js';
import { until } from '../../helpers/wait.js';

const rig = adapterRig();


interface Seen {
  readonly componentId: string;
  readonly componentName: string;
  readonly delta: unknown;
  readonly origin: string;
}

async function open(prefix: string): Promise<{ adapter: RedisClusterAdapter; seen: Seen[] }> {
  const redis = rig.client();
  const adapter = new RedisClusterAdapter({ redis, prefix, heartbeatInterval: 60_000 });
  rig.track(adapter);
  const seen: Seen[] = [];
  adapter.onDelta((componentId, componentName, delta, origin) => seen.push({ componentId, componentName, delta, origin }));
  await adapter.start();
  return { adapter, seen };
}

const fresh = (): string => `${randomPrefix('fx-delta')}:`;

describe('publishDelta / onDelta', () => {
  test('a delta reaches another instance with its origin', async () => {
    const prefix = fresh();
    const { adapter: a } = await open(prefix);
    const { seen } = await open(prefix);
    await a.publishDelta('comp-1', 'Counter', { count: 5 });
    await until(() => seen.length > 0, 3000, 'the delta');
    assert.deepEqual(seen, [{ componentId: 'comp-1', componentName: 'Counter', delta: { count: 5 }, origin: a.instanceId }]);
  });

  test("an instance does not receive its own deltas; start twice is a no-op (one delivery per delta)", async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const b = await open(prefix);
    await a.adapter.start();
    await a.adapter.publishDelta('comp-1', 'Counter', { count: 5 });
    // Published after A's own delta, so once B's delta is in, A's would have arrived before it.
    await b.adapter.publishDelta('comp-2', 'Counter', { count: 6 });
    await until(() => a.seen.length > 0, 3000, "B's delta");
    assert.deepEqual(a.seen.map((s) => s.componentId), ['comp-2']);
    await until(() => b.seen.length > 0, 3000, "A's delta");
    assert.deepEqual(b.seen.map((s) => s.componentId), ['comp-1']);
  });

  test('publishDelta numbers deltas per component: 1, 2, then 1 for another component', async () => {
    const prefix = fresh();
    const { adapter: a } = await open(prefix);
    const sub = rig.client();
    const messages: { seq: number; componentId: string; type: string; origin: string }[] = [];
    sub.on('message', (_channel: string, message: string) => messages.push(JSON.parse(message) as (typeof messages)[number]));
    await sub.subscribe(`${prefix}delta`);
    await a.publishDelta('c1', 'Counter', { x: 1 });
    await a.publishDelta('c1', 'Counter', { x: 2 });
    await a.publishDelta('c2', 'Other', { y: 1 });
    await until(() => messages.length === 3, 3000, 'three deltas');
    assert.deepEqual(messages.map((m) => [m.componentId, m.seq]), [['c1', 1], ['c1', 2], ['c2', 1]]);
    assert.ok(messages.every((m) => m.type === 'delta' && m.origin === a.instanceId));
  });
});

describe('dedup of raw deltas', () => {
  const delta = (origin: string, componentId: string, v: number, seq?: number): string =>
    JSON.stringify({ type: 'delta', origin, componentId, componentName: 'C', delta: { v }, ...(seq === undefined ? {} : { seq }) });

  /** Publishes `messages` in order, then a marker, and resolves with what was delivered before the marker. */
  async function deliver(messages: string[]): Promise<string[]> {
    const prefix = fresh();
    const { seen } = await open(prefix);
    for (const message of messages) await rig.raw.publish(`${prefix}delta`, message);
    await rig.raw.publish(`${prefix}delta`, delta('marker', 'end', 0));
    await until(() => seen.some((s) => s.componentId === 'end'), 3000, 'the marker');
    return seen.filter((s) => s.componentId !== 'end').map((s) => `${s.origin}/${s.componentId}:${(s.delta as { v: number }).v}`);
  }

  test('a fresh delta is delivered once; a redelivered seq is dropped', async () => {
    assert.deepEqual(await deliver([delta('o', 'c1', 1, 5), delta('o', 'c1', 1, 5)]), ['o/c1:1']);
  });

  test('an older seq is dropped', async () => {
    assert.deepEqual(await deliver([delta('o', 'c1', 2, 2), delta('o', 'c1', 1, 1), delta('o', 'c1', 3, 3)]), ['o/c1:2', 'o/c1:3']);
  });

  test('seqs are independent per origin and per component', async () => {
    const got = await deliver([delta('A', 'c1', 1, 1), delta('B', 'c1', 1, 1), delta('A', 'c2', 9, 1)]);
    assert.deepEqual(got, ['A/c1:1', 'B/c1:1', 'A/c2:9']);
  });

  test('deltas without seq are always delivered', async () => {
    assert.deepEqual(await deliver([delta('o', 'c1', 1), delta('o', 'c1', 1)]), ['o/c1:1', 'o/c1:1']);
  });

  test('malformed messages are dropped and counted; later ones still arrive', async () => {
    const prefix = fresh();
    const { adapter, seen } = await open(prefix);
    await rig.raw.publish(`${prefix}delta`, '{not json');
    await rig.raw.publish(`${prefix}delta`, JSON.stringify({ type: 'delta', componentId: 'c1' })); // no origin
    await rig.raw.publish(`${prefix}delta`, delta('o', 'c1', 1, 1));
    await until(() => seen.length > 0, 3000, 'the valid delta');
    assert.equal(adapter.stats.malformedMessages, 2);
    assert.equal(adapter.stats.forgedMessages, 0);
  });
});
