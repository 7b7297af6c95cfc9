/**
 * Rooms on a real 3-master Redis Cluster: every key of a room is in one slot (the scripts run), messages travel by
 * sharded pub/sub (SPUBLISH/SSUBSCRIBE) on the node of the room's slot, and rooms spread over the shards.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RoomGroup } from '../../src/rooms/index.js';
import { startRedisCluster, type RedisClusterSetup } from '../helpers/redis-cluster.js';
import { randomPrefix } from '../helpers/redis.js';
import { Recorder } from './helpers.js';

let setup: RedisClusterSetup;
const groups: RoomGroup[] = [];

before(async () => {
  setup = await startRedisCluster(3);
});
after(async () => {
  await Promise.all(groups.map((g) => g.close()));
  await setup?.stop();
});

const open = (keyPrefix: string): RoomGroup => {
  const g = new RoomGroup({ redis: { cluster: [...setup.seeds] }, keyPrefix, presenceTtlMs: 2000 });
  groups.push(g);
  return g;
};

test('rooms work across instances on a Cluster, on the shard of their slot, spread over the shards', { timeout: 30_000 }, async () => {
  const prefix = randomPrefix('rmc');
  const [a, b] = [open(prefix), open(prefix)];
  const names = Array.from({ length: 12 }, (_, i) => `room-${i}`);
  const recorders = new Map(names.map((n) => [n, new Recorder()]));
  for (const n of names) await b.room(n).subscribe(recorders.get(n)!.handler);
  for (const n of names) {
    await a.room(n).join(`m-${n}`, { n });
    await a.room(n).publish('hello', { n });
    await a.room(n).mergeState({ topic: n, list: [] });
  }
  for (const n of names) {
    const r = recorders.get(n)!;
    await r.waitFor(3);
    assert.deepEqual(r.messages.map((m) => m.type), ['join', 'event', 'state']);
    assert.deepEqual(r.seqs(), [1, 2, 3]);
    assert.deepEqual((await b.room(n).members()).map((m) => m.id), [`m-${n}`]);
    assert.deepEqual((await b.room(n).getState()).state, { topic: n, list: [] });
  }
  // Each room's channel is subscribed (sharded) on exactly one node, and the rooms use more than one node.
  const used = new Set<number>();
  for (const n of names) {
    const channel = `${prefix}:rm:{${n}}:ch`;
    const counts = await Promise.all(setup.nodes.map(async (node) => Number((await node.cli('PUBSUB', 'SHARDNUMSUB', channel)).trim().split('\n')[1] ?? 0)));
    assert.equal(counts.filter((c) => c > 0).length, 1, `${channel}: ${counts.join(',')}`);
    used.add(counts.findIndex((c) => c > 0));
  }
  assert.ok(used.size > 1, 'the rooms spread over the shards');
});
