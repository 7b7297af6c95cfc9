/**
 * On Redis Cluster: with a hash-tagged prefix every script's keys share a slot, so claims, fenced writes, deltas and
 * actions work; the seed's default prefix has no tag, and a script across slots is refused with CROSSSLOT.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from 'ioredis';
import { RedisClusterAdapter } from '../../../src/singleton/fluxstack/index.js';
import { startRedisCluster, type RedisClusterSetup } from '../../helpers/redis-cluster.js';
import { randomPrefix } from '../../helpers/redis.js';
import { until, within } from '../../helpers/wait.js';

let setup: RedisClusterSetup;
const clients: Cluster[] = [];
const adapters: RedisClusterAdapter[] = [];

before(async () => {
  setup = await startRedisCluster(3);
});
after(async () => {
  await Promise.all(adapters.map((a) => a.shutdown()));
  for (const client of clients) client.disconnect();
  await setup.stop();
});

async function open(prefix: string): Promise<RedisClusterAdapter> {
  const redis = new Cluster([...setup.seeds]);
  clients.push(redis);
  const adapter = new RedisClusterAdapter({ redis, prefix, heartbeatInterval: 60_000 });
  adapters.push(adapter);
  await adapter.start();
  return adapter;
}

test('a hash-tagged prefix keeps each singleton in one slot: claim, fenced write, recovery, deltas, actions', async () => {
  const prefix = `{${randomPrefix('fx')}}:cluster:`;
  const a = await open(prefix);
  const b = await open(prefix);
  assert.equal((await a.claimSingleton('Counter', 'comp-a')).claimed, true);
  assert.equal((await b.claimSingleton('Counter', 'comp-b')).claimed, false);
  await a.saveSingletonState('Counter', { count: 42 });
  await b.saveSingletonState('Counter', { count: -1 }); // refused: A holds it
  assert.equal(b.stats.refusedWrites, 1);
  await a.releaseSingleton('Counter');
  assert.deepEqual(await b.claimSingleton('Counter', 'comp-b'), { claimed: true, recoveredState: { count: 42 } });

  const deltas: unknown[] = [];
  b.onDelta((_id, _name, delta) => deltas.push(delta));
  await a.publishDelta('comp-a', 'Other', { v: 1 });
  await until(() => deltas.length === 1, 5000, 'the delta');

  b.onActionForward(async (req) => ({ success: true, result: req.action, requestId: req.requestId }));
  const request = {
    requestId: 'r1',
    componentName: 'Counter',
    componentId: 'comp-b',
    action: 'ping',
    payload: null,
    sourceInstanceId: a.instanceId,
    targetInstanceId: b.instanceId,
  };
  assert.deepEqual(await within(a.forwardAction(request), 5000, 'the response'), { success: true, result: 'ping', requestId: 'r1' });
});

test('the default prefix has no hash tag: a claim across slots is refused by Redis Cluster', async () => {
  const a = await open('fluxstack:cluster:');
  await assert.rejects(a.claimSingleton(`Counter-${randomPrefix()}`, 'comp-a'), /CROSSSLOT/);
});
