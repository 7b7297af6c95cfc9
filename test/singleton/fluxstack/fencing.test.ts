/**
 * What keyway fixes in the seed's ownership: a stale instance can neither delete the new owner's claim nor
 * overwrite its state, the heartbeat compares before it extends, and every claim carries a larger fencing token.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RedisClusterAdapter, type RedisClusterAdapterOptions } from '../../../src/singleton/fluxstack/index.js';
import { randomPrefix, waitFor } from '../../helpers/redis.js';
import { adapterRig } from './rig.js';
import { until } from '../../helpers/wait.js';

const rig = adapterRig();


interface Opened {
  readonly adapter: RedisClusterAdapter;
  /** Names passed to onOwnershipLost, in order. */
  readonly lost: string[];
}

async function open(prefix: string, options: Partial<RedisClusterAdapterOptions> = {}): Promise<Opened> {
  const redis = rig.client();
  const adapter = new RedisClusterAdapter({ redis, prefix, stateTtl: 60, singletonTtl: 10, heartbeatInterval: 60_000, ...options });
  rig.track(adapter);
  const lost: string[] = [];
  adapter.onOwnershipLost((name) => lost.push(name));
  await adapter.start();
  return { adapter, lost };
}

async function tokenOf(prefix: string, name: string): Promise<number> {
  return Number(await rig.raw.hget(`${prefix}singleton-token:${name}`, 'token'));
}

const fresh = (): string => `${randomPrefix('fx-fence')}:`;

describe('release and state writes are fenced', () => {
  test("a stale instance's release does not delete the new owner's claim", async () => {
    const prefix = fresh();
    const { adapter: a } = await open(prefix);
    const { adapter: b } = await open(prefix);
    await a.claimSingleton('Counter', 'comp-a');
    await rig.raw.del(`${prefix}singleton:Counter`); // A's claim expired, as far as Redis knows
    assert.equal((await b.claimSingleton('Counter', 'comp-b')).claimed, true);
    await a.releaseSingleton('Counter');
    assert.deepEqual(await b.getSingletonOwner('Counter'), { instanceId: b.instanceId, componentId: 'comp-b' });
    assert.equal(await b.verifySingletonOwnership('Counter'), true);
    await a.shutdown();
    assert.equal(await b.verifySingletonOwnership('Counter'), true);
  });

  test("a stale owner's state write after another took over is refused, counted, and reports the loss", async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const { adapter: b } = await open(prefix);
    await a.adapter.claimSingleton('Counter', 'comp-a');
    await rig.raw.del(`${prefix}singleton:Counter`);
    await b.claimSingleton('Counter', 'comp-b');
    await b.saveSingletonState('Counter', { count: 2 });
    await a.adapter.saveSingletonState('Counter', { count: 1 }); // resolves: @fluxstack/live does not await it
    assert.deepEqual(await b.loadSingletonState('Counter'), { count: 2 });
    assert.equal(a.adapter.stats.refusedWrites, 1);
    assert.deepEqual(a.lost, ['Counter']);
    // Once lost, further refused writes are counted but not reported again.
    await a.adapter.saveSingletonState('Counter', { count: 0 });
    assert.equal(a.adapter.stats.refusedWrites, 2);
    assert.deepEqual(a.lost, ['Counter']);
  });

  test('a stale owner cannot write after a newer claim was released either (its token is older)', async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const { adapter: b } = await open(prefix);
    await a.adapter.claimSingleton('Counter', 'comp-a');
    await rig.raw.del(`${prefix}singleton:Counter`);
    await b.claimSingleton('Counter', 'comp-b');
    await b.saveSingletonState('Counter', { count: 7 });
    await b.releaseSingleton('Counter');
    await a.adapter.saveSingletonState('Counter', { count: 1 });
    assert.deepEqual(await b.loadSingletonState('Counter'), { count: 7 });
    assert.equal(a.adapter.stats.refusedWrites, 1);
    assert.deepEqual(a.lost, ['Counter']);
  });

  test("the owner's writes carry its token", async () => {
    const prefix = fresh();
    const { adapter: a } = await open(prefix);
    await a.claimSingleton('Counter', 'comp-a');
    await a.saveSingletonState('Counter', { count: 1 });
    const stored = JSON.parse((await rig.raw.get(`${prefix}singleton-state:Counter`)) ?? '{}') as { token?: number };
    assert.equal(stored.token, await tokenOf(prefix, 'Counter'));
  });
});

describe('fencing tokens', () => {
  test('every claim gets a strictly larger token, whichever instance makes it; the token key never expires', async () => {
    const prefix = fresh();
    const { adapter: a } = await open(prefix);
    const { adapter: b } = await open(prefix);
    const tokens: number[] = [];
    for (const adapter of [a, b, a, b]) {
      assert.equal((await adapter.claimSingleton('Counter', 'comp')).claimed, true);
      tokens.push(await tokenOf(prefix, 'Counter'));
      await adapter.releaseSingleton('Counter');
    }
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, `tokens ${tokens.join(', ')}`);
    assert.equal(await rig.raw.pttl(`${prefix}singleton-token:Counter`), -1);
  });
});

describe('heartbeat', () => {
  test('a vanished claim is re-claimed atomically under a larger token', async () => {
    const prefix = fresh();
    const a = await open(prefix, { heartbeatInterval: 50 });
    await a.adapter.claimSingleton('Counter', 'comp-a');
    const before = await tokenOf(prefix, 'Counter');
    await rig.raw.del(`${prefix}singleton:Counter`);
    const key = `${prefix}singleton:Counter`;
    await waitFor('the re-claim', async () => (await rig.raw.get(key)) === `${a.adapter.instanceId}:comp-a`, 3000);
    assert.ok((await tokenOf(prefix, 'Counter')) > before);
    assert.ok((await rig.raw.pttl(key)) > 9000);
    assert.deepEqual(a.lost, []);
    // The new token is the one its writes are fenced with.
    await a.adapter.saveSingletonState('Counter', { count: 5 });
    assert.equal(a.adapter.stats.refusedWrites, 0);
  });

  test('the heartbeat extends the TTL of a claim it still holds', async () => {
    const prefix = fresh();
    const a = await open(prefix, { heartbeatInterval: 50, singletonTtl: 10 });
    await a.adapter.claimSingleton('Counter', 'comp-a');
    const key = `${prefix}singleton:Counter`;
    await rig.raw.pexpire(key, 5000);
    await waitFor('the renewal', async () => (await rig.raw.pttl(key)) > 9000, 3000);
    assert.equal(await rig.raw.get(key), `${a.adapter.instanceId}:comp-a`);
  });

  test('a claim held by someone else is lost, reported once, and left alone', async () => {
    const prefix = fresh();
    const a = await open(prefix, { heartbeatInterval: 50 });
    await a.adapter.claimSingleton('Counter', 'comp-a');
    await rig.raw.set(`${prefix}singleton:Counter`, 'intruder:comp-x', 'PX', 10_000);
    await until(() => a.lost.length > 0, 3000, 'the ownership loss');
    assert.deepEqual(a.lost, ['Counter']);
    assert.equal(await rig.raw.get(`${prefix}singleton:Counter`), 'intruder:comp-x');
    await a.adapter.saveSingletonState('Counter', { count: 1 });
    assert.equal(a.adapter.stats.refusedWrites, 1);
    assert.deepEqual(a.lost, ['Counter']);
  });

  test('a vanished claim that someone else claimed meanwhile is lost, not re-claimed', async () => {
    const prefix = fresh();
    const a = await open(prefix, { heartbeatInterval: 50 });
    await a.adapter.claimSingleton('Counter', 'comp-a');
    // Another instance claimed (token + 1) and released, all between two heartbeats.
    await rig.raw.multi().del(`${prefix}singleton:Counter`).hincrby(`${prefix}singleton-token:Counter`, 'token', 1).exec();
    await until(() => a.lost.length > 0, 3000, 'the ownership loss');
    assert.deepEqual(a.lost, ['Counter']);
    assert.equal(await rig.raw.get(`${prefix}singleton:Counter`), null);
  });
});
