/**
 * @module test/coordinator/store/platformatic-layout: keyway's coordinator on @platformatic/coordinator's Valkey layout
 * (`layout: 'platformatic'`), sharing one Redis with that package's pods: records written by plain commands, as its
 * pods write them, are read by keyway's Registry, and what keyway's Member writes is what its readers expect. The
 * keyway guarantees hold on that layout (one-script claims, a heartbeat restoring an expired record, lazy pruning,
 * owner-safe locks, cache invalidation, fencing epochs in a key its readers ignore).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { Member, Registry } from '../../../src/coordinator/index.js';
import { RedisCoordinatorStore } from '../../../src/coordinator/store/index.js';
import { Member as RootMember } from '../../../src/index.js';
import { randomPrefix, startRedisServer, type RedisServer } from '../../helpers/redis.js';
import { nextEvent } from '../helpers.js';

describe("coordinator on platformatic's layout", () => {
  let server: RedisServer;
  let raw: Redis;
  const closers: (() => Promise<unknown>)[] = [];
  before(async () => {
    server = await startRedisServer();
    raw = new Redis(server.port, server.host);
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    raw.disconnect();
    await server.stop();
  });
  const registry = (keyPrefix: string, options: Record<string, unknown> = {}): Registry => {
    const r = new Registry({ redis: server.url, keyPrefix, layout: 'platformatic', ...options });
    closers.push(() => r.close());
    return r;
  };
  const member = (keyPrefix: string, memberId: string, options: Record<string, unknown> = {}): Member => {
    const m = new Member({ redis: server.url, keyPrefix, memberId, address: `http://${memberId}.pods:3000`, layout: 'platformatic', ...options });
    closers.push(() => m.close());
    return m;
  };

  it("reads what platformatic's pods write with plain commands", async () => {
    const p = randomPrefix('pf-read');
    // As @platformatic/coordinator's Member.register, addToDestination and registerLock write them.
    await raw.sadd(`${p}:members`, 'pod-1');
    await raw.hset(`${p}:member:pod-1`, { address: 'http://10.0.0.1:3000', load: '3' });
    await raw.expire(`${p}:member:pod-1`, 30);
    await raw.sadd(`${p}:destination:t1`, 'pod-1');
    await raw.hset(`${p}:lock:tx1`, { podId: 'pod-1', destinationId: 't1', step: 'two' });
    const r = registry(p, { cache: false });
    assert.deepEqual(await r.listLiveMembers(), [{ memberId: 'pod-1', address: 'http://10.0.0.1:3000', load: 3 }]);
    assert.equal((await r.resolveDestination('t1'))?.address, 'http://10.0.0.1:3000');
    assert.deepEqual({ ...(await r.resolveLock('tx1')) }, { address: 'http://10.0.0.1:3000', memberId: 'pod-1' });
    const claimed = await r.resolveDestination('t2', { claimOnMiss: true });
    assert.equal(claimed?.memberId, 'pod-1');
    assert.deepEqual(await raw.smembers(`${p}:destination:t2`), ['pod-1'], 'the claim is a plain SET member, as platformatic reads it');
    assert.equal(Number(await raw.hget(`${p}:epochs`, 't2')), claimed?.epoch, 'the epoch sits in a key of its own');
  });

  it("writes what platformatic's readers expect", async () => {
    const p = randomPrefix('pf-write');
    const m = member(p, 'pod-a', { ttl: 30, getLoad: () => 5 });
    await m.register();
    assert.deepEqual(await raw.smembers(`${p}:members`), ['pod-a']);
    assert.deepEqual(await raw.hgetall(`${p}:member:pod-a`), { address: 'http://pod-a.pods:3000', load: '5' });
    const ttl = await raw.ttl(`${p}:member:pod-a`);
    assert.ok(ttl > 25 && ttl <= 30, `ttl ${ttl}`);
    await m.addToDestination('d1');
    assert.deepEqual(await raw.smembers(`${p}:destination:d1`), ['pod-a']);
    await m.registerLock('tx', 'd1', { podId: 'someone-else', step: '1' });
    assert.deepEqual(await raw.hgetall(`${p}:lock:tx`), { podId: 'pod-a', destinationId: 'd1', step: '1' }, 'metadata cannot replace the owner');
    await m.deregister();
    assert.deepEqual(await raw.smembers(`${p}:members`), []);
    assert.equal(await raw.exists(`${p}:member:pod-a`, `${p}:lock:tx`), 0, 'its locks go with it');
  });

  it('one owner under 100 concurrent first touches; a heartbeat after expiry restores the record; expired members are pruned', async () => {
    const p = randomPrefix('pf-claim');
    for (const id of ['m1', 'm2', 'm3']) await member(p, id).register();
    const registries = [registry(p), registry(p), registry(p)];
    await Promise.all(registries.map((r) => r.ready()));
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => registries[i % 3]!.resolveDestination('hot', { claimOnMiss: true })));
    assert.equal(new Set(results.map((x) => x?.memberId)).size, 1);
    assert.equal(await raw.scard(`${p}:destination:hot`), 1);

    const short = member(p, 'short', { ttl: 1 });
    await short.register();
    await raw.del(`${p}:member:short`); // expired, as far as any reader can tell
    await short.heartbeat();
    assert.deepEqual(await raw.hgetall(`${p}:member:short`), { address: 'http://short.pods:3000', load: '0' });
    await raw.sadd(`${p}:members`, 'gone'); // a pod that died without deregistering
    const live = (await registries[0]!.listLiveMembers()).map((x) => x.memberId).sort();
    assert.deepEqual(live, ['m1', 'm2', 'm3', 'short']);
    assert.equal(await raw.sismember(`${p}:members`, 'gone'), 0, 'pruned from the set on the way');
  });

  it('a change through one registry evicts the cached resolution of another', async () => {
    const p = randomPrefix('pf-cache');
    await member(p, 'm1').register();
    const [a, b] = [registry(p), registry(p)];
    await Promise.all([a.ready(), b.ready()]);
    await a.resolveDestination('doc', { claimOnMiss: true });
    assert.equal((await b.resolveDestination('doc'))?.memberId, 'm1');
    const seen = nextEvent(b, 'destination:changed', (id: string) => id === 'doc', 2000);
    await a.deregisterDestination('doc');
    await seen;
    assert.equal(await b.resolveDestination('doc'), null);
  });

  it("the keyway-node/coordinator entry defaults to platformatic's layout, the package root to keyway's", async () => {
    const p = randomPrefix('pf-default');
    const entry = new Member({ redis: server.url, keyPrefix: p, memberId: 'e', address: 'http://e:1' });
    const root = new RootMember({ redis: server.url, keyPrefix: p, memberId: 'r', address: 'http://r:1' });
    closers.push(() => entry.close(), () => root.close());
    await entry.register();
    await root.register();
    assert.deepEqual(await raw.smembers(`${p}:members`), ['e']);
    assert.deepEqual(await raw.zrange(`{${p}}:co:members`, '0', '-1'), ['r']);
  });

  it('refuses a Redis Cluster (no hash tag in those keys)', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    try {
      assert.throws(() => new RedisCoordinatorStore(cluster, { layout: 'platformatic' }), /Cluster/);
    } finally {
      cluster.disconnect();
    }
  });
});
