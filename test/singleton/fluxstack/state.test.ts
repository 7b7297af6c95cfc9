/** The drop-in's state mirror and singleton state, and corrupt JSON in either (the seed's scenarios, black-box). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisClusterAdapter } from '../../../src/singleton/fluxstack/index.js';
import { randomPrefix, startRedisServer, type RedisServer } from '../../helpers/redis.js';

let server: RedisServer;
let raw: Redis;
let adapter: RedisClusterAdapter;
const prefix = `${randomPrefix('fx-state')}:`;

before(async () => {
  server = await startRedisServer();
  raw = new Redis(server.port, server.host);
  adapter = new RedisClusterAdapter({ redis: raw, prefix, stateTtl: 60, singletonTtl: 10, heartbeatInterval: 60_000 });
  await adapter.start();
});
after(async () => {
  await adapter.shutdown();
  raw.disconnect();
  await server.stop();
});

describe('saveState / loadState / deleteState', () => {
  test('saves and loads a component state with instanceId and updatedAt', async () => {
    await adapter.saveState('comp-1', 'Counter', { count: 5 });
    const loaded = await adapter.loadState('comp-1');
    assert.ok(loaded);
    assert.equal(loaded.componentName, 'Counter');
    assert.deepEqual(loaded.state, { count: 5 });
    assert.equal(loaded.instanceId, adapter.instanceId);
    assert.ok(loaded.updatedAt > 0);
    const ttl = await raw.pttl(`${prefix}state:comp-1`);
    assert.ok(ttl > 0 && ttl <= 60_000, `TTL ${ttl}`);
  });

  test('a missing state is null', async () => {
    assert.equal(await adapter.loadState('non-existent'), null);
  });

  test('deletes a state', async () => {
    await adapter.saveState('comp-2', 'Counter', { count: 5 });
    await adapter.deleteState('comp-2');
    assert.equal(await adapter.loadState('comp-2'), null);
  });

  test('overwrites a state', async () => {
    await adapter.saveState('comp-3', 'Counter', { count: 5 });
    await adapter.saveState('comp-3', 'Counter', { count: 10 });
    assert.deepEqual((await adapter.loadState('comp-3'))?.state, { count: 10 });
  });

  test('stateTtl 0 stores without expiry', async () => {
    const forever = new RedisClusterAdapter({ redis: raw, prefix, stateTtl: 0 });
    await forever.saveState('comp-4', 'Counter', { count: 1 });
    await forever.saveSingletonState('Forever', { count: 1 });
    assert.equal(await raw.pttl(`${prefix}state:comp-4`), -1);
    assert.equal(await raw.pttl(`${prefix}singleton-state:Forever`), -1);
  });
});

describe('saveSingletonState / loadSingletonState', () => {
  test('saves and loads by name, stored as {state, updatedAt}', async () => {
    await adapter.saveSingletonState('Counter', { count: 42 });
    assert.deepEqual(await adapter.loadSingletonState('Counter'), { count: 42 });
    const stored = JSON.parse((await raw.get(`${prefix}singleton-state:Counter`)) ?? 'null') as Record<string, unknown>;
    assert.deepEqual(stored.state, { count: 42 });
    assert.equal(typeof stored.updatedAt, 'number');
  });

  test('a missing singleton state is null', async () => {
    assert.equal(await adapter.loadSingletonState('NonExistent'), null);
  });

  test('overwrites a singleton state', async () => {
    await adapter.saveSingletonState('Overwritten', { count: 1 });
    await adapter.saveSingletonState('Overwritten', { count: 99 });
    assert.deepEqual(await adapter.loadSingletonState('Overwritten'), { count: 99 });
  });
});

describe('corrupt data', () => {
  test('corrupt JSON in state:* loads as null, without throwing', async () => {
    await adapter.saveState('corrupt-comp', 'TestComp', { count: 1 });
    assert.ok(await adapter.loadState('corrupt-comp'));
    await raw.set(`${prefix}state:corrupt-comp`, '{invalid json!!!}');
    assert.equal(await adapter.loadState('corrupt-comp'), null);
  });

  test('corrupt JSON in singleton-state:* loads as null, and a claim recovers nothing from it', async () => {
    await adapter.saveSingletonState('TestSingleton', { value: 1 });
    assert.ok(await adapter.loadSingletonState('TestSingleton'));
    await raw.set(`${prefix}singleton-state:TestSingleton`, 'not-json');
    assert.equal(await adapter.loadSingletonState('TestSingleton'), null);
    const claim = await adapter.claimSingleton('TestSingleton', 'comp-t');
    assert.equal(claim.claimed, true);
    assert.equal(claim.recoveredState, undefined);
  });
});
