import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Member, type MemberOptions } from '../../src/index.js';
import { createRedisClient, type RedisClient } from '../../src/redis/index.js';
import { coordinatorKeys } from '../../src/coordinator/store/index.js';
import { randomPrefix, startRedisServer, testRedisConfig, type RedisServer } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';

let server: RedisServer;
let raw: RedisClient;
const members: Member[] = [];

before(async () => {
  server = await startRedisServer();
  raw = await connect();
});
after(async () => {
  await Promise.all(members.map((member) => member.close()));
  raw.disconnect();
  await server.stop();
});

/** A connection of the kind applications inject (this folder may not import ioredis itself). */
async function connect(): Promise<RedisClient> {
  const client = createRedisClient(testRedisConfig({ url: server.url }));
  await client.connect();
  return client;
}

function member(options: Partial<MemberOptions> & { keyPrefix: string; memberId: string }): Member {
  const created = new Member({ redis: server.url, address: `http://${options.memberId}.test:3000`, ...options });
  members.push(created);
  return created;
}

describe('Member', () => {
  it('registers, heartbeats and deregisters through Redis', async () => {
    const keyPrefix = randomPrefix('member');
    const keys = coordinatorKeys(keyPrefix);
    const a = member({ keyPrefix, memberId: 'a', ttl: 5 });
    assert.equal(a.memberId, 'a');
    assert.equal(a.address, 'http://a.test:3000');
    await a.register();
    assert.deepEqual(await raw.hgetall(keys.member('a')), { address: 'http://a.test:3000', load: '0' });
    const ttl = await raw.pttl(keys.member('a'));
    assert.ok(ttl > 0 && ttl <= 5000, `record TTL within ttl seconds (${ttl})`);
    await raw.pexpire(keys.member('a'), 100);
    await a.heartbeat();
    assert.ok((await raw.pttl(keys.member('a'))) > 1000, 'heartbeat refreshed the TTL');
    await a.deregister();
    assert.equal(await raw.exists(keys.member('a')), 0);
    assert.deepEqual(await a.listPeerLoad(), []);
  });

  it('reports getLoad in listPeerLoad', async () => {
    const keyPrefix = randomPrefix('member-load');
    let load = 3;
    const a = member({ keyPrefix, memberId: 'a', getLoad: () => load });
    const b = member({ keyPrefix, memberId: 'b', getLoad: async () => 7.5 });
    await Promise.all([a.register(), b.register()]);
    load = 4;
    await a.heartbeat();
    const peers = (await b.listPeerLoad()).sort((x, y) => x.memberId.localeCompare(y.memberId));
    assert.deepEqual(peers, [
      { memberId: 'a', address: 'http://a.test:3000', load: 4 },
      { memberId: 'b', address: 'http://b.test:3000', load: 7.5 },
    ]);
    const broken = member({ keyPrefix, memberId: 'c', getLoad: () => Number.NaN });
    await assert.rejects(broken.register(), TypeError);
  });

  it('heartbeats on its own and stays alive past its TTL; deregister stops it', async () => {
    const keyPrefix = randomPrefix('member-auto');
    const keys = coordinatorKeys(keyPrefix);
    const a = member({ keyPrefix, memberId: 'a', ttl: 0.5, heartbeatIntervalMs: 100 });
    await a.register();
    const started = Date.now();
    // Alive at every probe for three TTLs.
    while (Date.now() - started < 1500) {
      assert.equal(await raw.exists(keys.member('a')), 1, `alive after ${Date.now() - started} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await a.deregister();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await raw.exists(keys.member('a')), 0, 'no heartbeat after deregister');
  });

  it('registers and removes locks, and deregistration removes the rest', async () => {
    const keyPrefix = randomPrefix('member-locks');
    const keys = coordinatorKeys(keyPrefix);
    const a = member({ keyPrefix, memberId: 'a', lockTtl: 20 });
    await a.register();
    await a.registerLock('tx-1', 'tenant-1', { memberId: 'someone-else', note: 'x' });
    await a.registerLock('tx-2', 'tenant-1');
    assert.deepEqual(await raw.hgetall(keys.lock('tx-1')), {
      memberId: 'a', destinationId: 'tenant-1', metadata: JSON.stringify({ memberId: 'someone-else', note: 'x' }),
    });
    const ttl = await raw.pttl(keys.lock('tx-1'));
    assert.ok(ttl > 10_000 && ttl <= 20_000, `lock TTL is lockTtl (${ttl})`);
    await a.unregisterLock('tx-1');
    assert.equal(await raw.exists(keys.lock('tx-1')), 0);
    await a.deregister();
    assert.equal(await raw.exists(keys.lock('tx-2')), 0);
  });

  it('owns destinations', async () => {
    const keyPrefix = randomPrefix('member-dest');
    const keys = coordinatorKeys(keyPrefix);
    const a = member({ keyPrefix, memberId: 'a' });
    await a.addToDestination('tenant-1');
    assert.deepEqual(await raw.smembers(keys.destination('tenant-1')), ['a']);
    await a.removeFromDestination('tenant-1');
    assert.deepEqual(await raw.smembers(keys.destination('tenant-1')), []);
  });

  it('emits background heartbeat failures as error events when listened to, else warns once', async () => {
    let broken = false;
    const getLoad = (): number => {
      if (broken) throw new Error('load unknown');
      return 1;
    };
    const a = member({ keyPrefix: randomPrefix('member-err'), memberId: 'a', heartbeatIntervalMs: 30, getLoad });
    await a.register();
    broken = true;
    const [err] = (await once(a, 'error')) as [Error];
    assert.equal(err.message, 'load unknown');

    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      if (w.message.includes('keyway member b')) warnings.push(w.message);
    };
    process.on('warning', onWarning);
    const b = member({ keyPrefix: randomPrefix('member-warn'), memberId: 'b', heartbeatIntervalMs: 30, getLoad });
    broken = false;
    await b.register();
    broken = true;
    try {
      await until(() => warnings.length > 0, 3000);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(warnings.length, 1, 'one warning per failure streak');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('close() is idempotent, stops the timer and leaves an injected client open', async () => {
    const client = await connect();
    const a = new Member({ redis: client, memberId: 'a', address: 'http://a', keyPrefix: randomPrefix('member-close'), heartbeatIntervalMs: 50, ttl: 1 });
    await a.register();
    await Promise.all([a.close(), a.close()]);
    await a.close();
    assert.equal(await client.ping(), 'PONG');
    await assert.rejects(a.heartbeat());
    client.disconnect();
  });

  it('validates its options at construction', () => {
    const base = { redis: 'redis://127.0.0.1:1', memberId: 'a', address: 'http://a' };
    assert.throws(() => new Member({ ...base, memberId: '' }), TypeError);
    assert.throws(() => new Member({ ...base, ttl: 0 }), RangeError);
    assert.throws(() => new Member({ ...base, ttl: 1, heartbeatIntervalMs: 1000 }), RangeError);
  });
});
