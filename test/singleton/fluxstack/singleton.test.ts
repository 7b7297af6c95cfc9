/** The drop-in's singleton claims, owners, release, recovery and ownership checks (the seed's scenarios, black-box). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RedisClusterAdapter, type RedisClusterAdapterOptions } from '../../../src/singleton/fluxstack/index.js';
import { randomPrefix } from '../../helpers/redis.js';
import { adapterRig } from './rig.js';

const rig = adapterRig();


/** A started adapter on its own connection, like each instance of the seed's tests. */
async function open(prefix: string, options: Partial<RedisClusterAdapterOptions> = {}): Promise<RedisClusterAdapter> {
  const redis = rig.client();
  const adapter = new RedisClusterAdapter({ redis, prefix, stateTtl: 60, singletonTtl: 10, heartbeatInterval: 60_000, ...options });
  rig.track(adapter);
  await adapter.start();
  return adapter;
}

const fresh = (): string => `${randomPrefix('fx-single')}:`;

describe('claimSingleton / getSingletonOwner / releaseSingleton', () => {
  test('a claim succeeds, with no recovered state, and is stored as <instanceId>:<componentId> with the TTL', async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const claim = await a.claimSingleton('Counter', 'comp-1');
    assert.deepEqual(claim, { claimed: true });
    assert.equal(await rig.raw.get(`${prefix}singleton:Counter`), `${a.instanceId}:comp-1`);
    const ttl = await rig.raw.pttl(`${prefix}singleton:Counter`);
    assert.ok(ttl > 9000 && ttl <= 10_000, `TTL ${ttl}`);
    assert.doesNotMatch(a.instanceId, /:/);
  });

  test("a second instance's claim is rejected", async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const b = await open(prefix);
    await a.claimSingleton('Counter', 'comp-1');
    assert.deepEqual(await b.claimSingleton('Counter', 'comp-2'), { claimed: false });
  });

  test('the owner info names the instance and component; an unclaimed singleton has none', async () => {
    const prefix = fresh();
    const a = await open(prefix);
    await a.claimSingleton('Counter', 'comp-1');
    assert.deepEqual(await a.getSingletonOwner('Counter'), { instanceId: a.instanceId, componentId: 'comp-1' });
    assert.equal(await a.getSingletonOwner('NonExistent'), null);
    await rig.raw.set(`${prefix}singleton:Malformed`, 'no-colon');
    assert.equal(await a.getSingletonOwner('Malformed'), null);
  });

  test('release removes the claim, and a re-claim then works', async () => {
    const prefix = fresh();
    const a = await open(prefix);
    await a.claimSingleton('Counter', 'comp-1');
    await a.releaseSingleton('Counter');
    assert.equal(await a.getSingletonOwner('Counter'), null);
    assert.equal((await a.claimSingleton('Counter', 'comp-2')).claimed, true);
  });

  test('a claim after save and release recovers the state', async () => {
    const prefix = fresh();
    const a = await open(prefix);
    await a.saveSingletonState('Counter', { count: 42 });
    await a.releaseSingleton('Counter');
    assert.deepEqual(await a.claimSingleton('Counter', 'comp-new'), { claimed: true, recoveredState: { count: 42 } });
  });

  test("another instance's claim recovers the previous owner's state", async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const b = await open(prefix);
    await a.claimSingleton('Counter', 'comp-a');
    await a.saveSingletonState('Counter', { count: 3 });
    await a.releaseSingleton('Counter');
    assert.deepEqual(await b.claimSingleton('Counter', 'comp-b'), { claimed: true, recoveredState: { count: 3 } });
  });
});

describe('verifySingletonOwnership', () => {
  test('true for its own claim, false when unclaimed or held by another instance', async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const b = await open(prefix);
    await a.claimSingleton('Counter', 'comp-1');
    assert.equal(await a.verifySingletonOwnership('Counter'), true);
    assert.equal(await a.verifySingletonOwnership('NonExistent'), false);
    await b.claimSingleton('Other', 'comp-2');
    assert.equal(await a.verifySingletonOwnership('Other'), false);
  });
});

describe('start / shutdown', () => {
  test("shutdown releases this instance's claims and only those", async () => {
    const prefix = fresh();
    const a = await open(prefix);
    const b = await open(prefix);
    await a.claimSingleton('A', 'comp-a');
    await a.claimSingleton('B', 'comp-b');
    await b.claimSingleton('C', 'comp-c');
    await a.shutdown();
    assert.equal(await rig.raw.get(`${prefix}singleton:A`), null);
    assert.equal(await rig.raw.get(`${prefix}singleton:B`), null);
    assert.equal(await rig.raw.get(`${prefix}singleton:C`), `${b.instanceId}:comp-c`);
  });

  test('options are validated at construction, without touching Redis', () => {
    const redis = rig.raw;
    assert.throws(() => new RedisClusterAdapter({ redis, singletonTtl: 0 }), /singletonTtl must be a finite number > 0/);
    assert.throws(() => new RedisClusterAdapter({ redis, stateTtl: -1 }), /stateTtl must be a finite number >= 0/);
    assert.throws(() => new RedisClusterAdapter({ redis, instanceId: 'a:b' }), /instanceId/);
    assert.throws(() => new RedisClusterAdapter({ redis, secret: '' }), /secret/);
    assert.equal(new RedisClusterAdapter({ redis, instanceId: 'fixed' }).instanceId, 'fixed');
    assert.notEqual(new RedisClusterAdapter({ redis }).instanceId, new RedisClusterAdapter({ redis }).instanceId);
  });
});
