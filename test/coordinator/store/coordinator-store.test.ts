import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from '../../../src/errors.js';
import {
  coordinatorKeys,
  createCoordinatorStore,
  RedisCoordinatorStore,
  type CoordinatorEvent,
  type MemberRecord,
  type CoordinatorLayout,
  type ResolveOutcome,
} from '../../../src/coordinator/store/index.js';
import { freePort, randomPrefix, startRedisServer, type RedisServer } from '../../helpers/redis.js';
import { startRedisCluster, type RedisClusterSetup } from '../../helpers/redis-cluster.js';
import { until } from '../../helpers/wait.js';

const TTL = 60_000;
const claim = { claimOnMiss: true, reassignOrphans: false, candidate: null };
const lookup = { claimOnMiss: false, reassignOrphans: false, candidate: null };

let server: RedisServer;
let raw: Redis;
const opened: RedisCoordinatorStore[] = [];

before(async () => {
  server = await startRedisServer();
  raw = new Redis(server.port, server.host);
});
after(async () => {
  await Promise.all(opened.map((s) => s.close()));
  raw.disconnect();
  await server.stop();
});

function openStore(keyPrefix: string, redis: string | Redis | Cluster, layout: CoordinatorLayout): RedisCoordinatorStore {
  const store = new RedisCoordinatorStore(redis, { keyPrefix, layout });
  opened.push(store);
  return store;
}

function open(keyPrefix: string, redis: string | Redis | Cluster = server.url): RedisCoordinatorStore {
  return openStore(keyPrefix, redis, 'keyway');
}

function m(memberId: string, load = 0): MemberRecord {
  return { memberId, address: `http://${memberId}.test:3000`, load };
}

/** Every event published on the store's channel, in order. */
async function listen(store: RedisCoordinatorStore): Promise<CoordinatorEvent[]> {
  const events: CoordinatorEvent[] = [];
  await store.subscribe((e) => events.push(e));
  return events;
}

function memberOf(outcome: ResolveOutcome): string | undefined {
  return 'member' in outcome ? outcome.member.memberId : undefined;
}

/** `calls` per command since Redis started, from INFO commandstats. */
async function commandStats(): Promise<Map<string, number>> {
  const info = await raw.info('commandstats');
  const stats = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(match[1]!, Number(match[2]));
  return stats;
}

/**
 * What `action` sends over `client` (names of the commands written to the socket) and how many EVALSHA/EVAL the
 * server ran meanwhile (INFO commandstats also counts the commands a script runs, so only those two are compared).
 */
async function roundTrips(client: Redis, action: () => Promise<unknown>): Promise<{ sent: string[]; evalsha: number; eval: number }> {
  const sent: string[] = [];
  const original = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    sent.push(command.name);
    return original(command, stream);
  };
  const before = await commandStats();
  try {
    await action();
  } finally {
    client.sendCommand = original;
  }
  const after = await commandStats();
  const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  return { sent, evalsha: delta('evalsha'), eval: delta('eval') };
}

describe('RedisCoordinatorStore: members', () => {
  it('keeps every key under the hash-tagged prefix and refuses empty ids', async () => {
    const keyPrefix = randomPrefix('co-keys');
    const store = open(keyPrefix);
    const keys = coordinatorKeys(keyPrefix);
    await store.putMember(m('a{b}'), TTL);
    await store.putLock({ lockId: 'l:1', memberId: 'a{b}', destinationId: 'd', metadata: {} }, TTL);
    await store.resolve({ ...claim, destinationId: 'd' });
    const found = (await raw.keys(`{${keyPrefix}}*`)).sort();
    const expected = [keys.members, keys.member('a{b}'), keys.memberLocks('a{b}'), keys.lock('l:1'), keys.destination('d'), keys.epochs];
    assert.deepEqual(found, expected.sort());
    assert.throws(() => keys.member(''), TypeError);
    await assert.rejects(store.resolve({ ...claim, destinationId: '' }), TypeError);
    await assert.rejects(store.putMember(m(''), TTL), TypeError);
    await assert.rejects(store.putMember(m('x', Number.NaN), TTL), TypeError);
    await assert.rejects(store.putMember(m('x'), 0), RangeError);
    assert.throws(() => coordinatorKeys('a}b'), TypeError);
  });

  it('registers the full record, publishes member:up only when it was absent or moved', async () => {
    const store = open(randomPrefix('co-up'));
    const events = await listen(store);
    await store.putMember(m('a', 3), TTL);
    await store.heartbeat(m('a', 5), TTL, TTL);
    await store.putMember({ memberId: 'a', address: 'http://moved:1', load: 5 }, TTL);
    await until(() => events.length >= 2);
    assert.deepEqual(events, [
      { type: 'member:up', member: m('a', 3) },
      { type: 'member:up', member: { memberId: 'a', address: 'http://moved:1', load: 5 } },
    ]);
    assert.deepEqual(await store.liveMembers(), [{ memberId: 'a', address: 'http://moved:1', load: 5 }]);
    const pttl = await raw.pttl(store.keys.member('a'));
    assert.ok(pttl > 0 && pttl <= TTL, `record expires (${pttl})`);
    const expiry = Number(await raw.zscore(store.keys.members, 'a'));
    assert.ok(Math.abs(expiry - (Date.now() + TTL)) < 5000, 'index score is the expiry in epoch ms');
  });

  it('a heartbeat after the record expired restores it with its address and publishes member:up', async () => {
    const store = open(randomPrefix('co-restore'));
    const events = await listen(store);
    await store.putMember(m('a', 1), 200);
    await until(() => events.length === 1);
    await waitGone(store.keys.member('a'));
    await store.heartbeat(m('a', 2), 200_000, 200_000);
    await until(() => events.length === 2);
    assert.deepEqual(events[1], { type: 'member:up', member: m('a', 2) });
    assert.deepEqual(await raw.hgetall(store.keys.member('a')), { address: m('a').address, load: '2' });
    assert.deepEqual(await store.liveMembers(), [m('a', 2)]);
  });

  it('liveMembers prunes expired members, publishes member:down (expired) and removes their locks', async () => {
    const store = open(randomPrefix('co-prune'));
    await store.putMember(m('dead'), 200);
    await store.putMember(m('alive'), TTL);
    await store.putLock({ lockId: 'l1', memberId: 'dead', destinationId: 'd', metadata: {} }, TTL);
    await store.putLock({ lockId: 'l2', memberId: 'alive', destinationId: 'd', metadata: {} }, TTL);
    const events = await listen(store);
    await waitGone(store.keys.member('dead'));
    assert.deepEqual(await store.liveMembers(), [m('alive')]);
    await until(() => events.length >= 2);
    assert.deepEqual(events, [
      { type: 'lock', lockId: 'l1' },
      { type: 'member:down', memberId: 'dead', reason: 'expired' },
    ]);
    assert.equal(await raw.zscore(store.keys.members, 'dead'), null);
    assert.equal(await raw.exists(store.keys.lock('l1'), store.keys.memberLocks('dead')), 0);
    assert.equal(await raw.exists(store.keys.lock('l2')), 1);
    assert.equal(await store.resolveLock('l1'), null);
  });

  it('removeMember removes the record, its index entry and its locks; publishes member:down (deregistered)', async () => {
    const store = open(randomPrefix('co-remove'));
    await store.putMember(m('a'), TTL);
    await store.putLock({ lockId: 'l1', memberId: 'a', destinationId: 'd', metadata: {} }, TTL);
    const events = await listen(store);
    await store.removeMember('a');
    await store.removeMember('a');
    await until(() => events.length >= 2);
    assert.deepEqual(events, [
      { type: 'lock', lockId: 'l1' },
      { type: 'member:down', memberId: 'a', reason: 'deregistered' },
    ]);
    assert.equal(await raw.exists(store.keys.member('a'), store.keys.memberLocks('a'), store.keys.lock('l1')), 0);
    assert.deepEqual(await store.liveMembers(), []);
  });
});

for (const layout of ['keyway', 'platformatic'] as const) {
  const open = (keyPrefix: string, redis: string | Redis | Cluster = server.url): RedisCoordinatorStore =>
    openStore(keyPrefix, redis, layout);

  describe(`RedisCoordinatorStore: resolution (${layout} layout)`, () => {
    it('unbound without a claim or without live members; a claim binds the candidate with an epoch from the server clock', async () => {
      const store = open(randomPrefix('co-claim'));
      assert.deepEqual(await store.resolve({ ...claim, destinationId: 'd' }), { kind: 'unbound' });
      await store.putMember(m('a', 1), TTL);
      await store.putMember(m('b', 9), TTL);
      assert.deepEqual(await store.resolve({ ...lookup, destinationId: 'd' }), { kind: 'unbound' });
      assert.equal(await store.hasBinding('d'), false);
      const events = await listen(store);
      const before = Date.now();
      const claimed = await store.resolve({ ...claim, destinationId: 'd', candidate: 'b' });
      const epoch = epochOf(claimed);
      assert.ok(epoch >= before - 1000 && epoch <= Date.now() + 1000, `epoch ${epoch} is the server clock in ms`);
      assert.deepEqual(claimed, { kind: 'claimed', member: m('b', 9), epoch });
      assert.deepEqual(await store.resolve({ ...lookup, destinationId: 'd' }), { kind: 'owner', member: m('b', 9), epoch });
      assert.equal(await store.hasBinding('d'), true);
      await until(() => events.length === 1);
      assert.deepEqual(events, [{ type: 'binding', destinationId: 'd', epoch }]);
    });

    it('a dead or unknown candidate falls back to the least-loaded live member (ties by id)', async () => {
      const store = open(randomPrefix('co-least'));
      await store.putMember(m('c', 2), TTL);
      await store.putMember(m('b', 1), TTL);
      await store.putMember(m('a', 1), TTL);
      await store.putMember(m('gone', 0), 100);
      await waitGone(store.keys.member('gone'));
      const outcome = await store.resolve({ ...claim, destinationId: 'd', candidate: 'gone' });
      assert.deepEqual(outcome, { kind: 'claimed', member: m('a', 1), epoch: epochOf(outcome) });
    });

    it('among live owners prefers the candidate, else the least loaded', async () => {
      const store = open(randomPrefix('co-owners'));
      await store.putMember(m('a', 5), TTL);
      await store.putMember(m('b', 2), TTL);
      await store.addOwner('d', 'a');
      await store.addOwner('d', 'b');
      assert.equal(memberOf(await store.resolve({ ...lookup, destinationId: 'd' })), 'b');
      assert.equal(memberOf(await store.resolve({ ...lookup, destinationId: 'd', candidate: 'a' })), 'a');
      assert.equal(memberOf(await store.resolve({ ...lookup, destinationId: 'd', candidate: 'zzz' })), 'b');
    });

    it('a fanned-out set with one dead owner is cleaned, keeping the epoch', async () => {
      const store = open(randomPrefix('co-fan'));
      await store.putMember(m('a'), TTL);
      await store.putMember(m('b'), 100);
      await store.addOwner('d', 'a');
      await store.addOwner('d', 'b');
      await waitGone(store.keys.member('b'));
      const epoch = Number(await raw.hget(store.keys.epochs, 'd'));
      const events = await listen(store);
      assert.deepEqual(await store.resolve({ ...lookup, destinationId: 'd' }), { kind: 'owner', member: m('a'), epoch });
      assert.deepEqual(await raw.smembers(store.keys.destination('d')), ['a']);
      await until(() => events.length === 1);
      assert.deepEqual(events, [{ type: 'binding', destinationId: 'd', epoch }]);
    });

    it('all owners dead: orphaned (set kept) unless reassignment is asked, which issues a greater epoch', async () => {
      const store = open(randomPrefix('co-orphan'));
      await store.putMember(m('x'), 100);
      await store.putMember(m('y'), 100);
      await store.addOwner('d', 'x');
      await store.addOwner('d', 'y');
      await waitGone(store.keys.member('x'));
      await waitGone(store.keys.member('y'));
      const first = Number(await raw.hget(store.keys.epochs, 'd'));
      assert.deepEqual(await store.resolve({ ...lookup, destinationId: 'd', reassignOrphans: true }), {
        kind: 'orphaned', owners: ['x', 'y'], epoch: first,
      });
      await store.putMember(m('a', 3), TTL);
      await store.putMember(m('b', 4), TTL);
      assert.deepEqual(await store.resolve({ ...lookup, destinationId: 'd' }), { kind: 'orphaned', owners: ['x', 'y'], epoch: first });
      assert.deepEqual((await raw.smembers(store.keys.destination('d'))).sort(), ['x', 'y']);
      const events = await listen(store);
      const moved = await store.resolve({ destinationId: 'd', claimOnMiss: false, reassignOrphans: true, candidate: 'b' });
      const epoch = epochOf(moved);
      assert.ok(epoch > first, `the reassignment's epoch ${epoch} is above the claim's ${first}`);
      assert.deepEqual(moved, { kind: 'reassigned', member: m('b', 4), epoch, previous: ['x', 'y'] });
      assert.deepEqual(await store.resolve({ ...lookup, destinationId: 'd' }), { kind: 'owner', member: m('b', 4), epoch });
      await until(() => events.length === 1);
      assert.deepEqual(events, [{ type: 'binding', destinationId: 'd', epoch }]);
    });

    it('100 concurrent claims from 4 connections agree on one owner and one epoch', async () => {
      const keyPrefix = randomPrefix('co-race');
      const stores = Array.from({ length: 4 }, () => open(keyPrefix));
      await Promise.all(stores.map((s, i) => s.putMember(m(`m${i}`), TTL)));
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, (_, i) => stores[i % 4]!.resolve({ ...claim, destinationId: 'hot', candidate: `m${i % 4}` })),
      );
      const owners = new Set(outcomes.map(memberOf));
      assert.equal(owners.size, 1, `one owner, got ${[...owners].join(',')}`);
      assert.equal(outcomes.filter((o) => o.kind === 'claimed').length, 1);
      assert.ok(outcomes.every((o) => o.kind === 'claimed' || o.kind === 'owner'));
      const epochs = new Set(outcomes.map(epochOf));
      assert.equal(epochs.size, 1, `one epoch, got ${[...epochs].join(',')}`);
      assert.equal(await raw.scard(stores[0]!.keys.destination('hot')), 1);
    });

    it('a claim, a cold resolve, a lock resolve and hasBinding each cost exactly one Redis command', async () => {
      const client = new Redis(server.port, server.host);
      const store = open(randomPrefix('co-rtt'), client);
      await store.putMember(m('a'), TTL);
      await store.putLock({ lockId: 'l', memberId: 'a', destinationId: 'd0', metadata: {} }, TTL);
      // The first call of a script on a connection is an EVAL; later ones are EVALSHA.
      await store.resolve({ ...claim, destinationId: 'warm' });
      await store.resolveLock('l');
      const one = { sent: ['evalsha'], evalsha: 1, eval: 0 };
      assert.deepEqual(await roundTrips(client, () => store.resolve({ ...claim, destinationId: 'd1' })), one);
      assert.deepEqual(await roundTrips(client, () => store.resolve({ ...lookup, destinationId: 'd1' })), one);
      assert.deepEqual(await roundTrips(client, () => store.resolveLock('l')), one);
      assert.deepEqual(await roundTrips(client, () => store.hasBinding('d1')), { sent: ['exists'], evalsha: 0, eval: 0 });
      await store.close();
      client.disconnect();
    });
  });

  describe(`RedisCoordinatorStore: owners and locks (${layout} layout)`, () => {
    it('addOwner (epoch on the first), removeOwner, removeBinding publish binding; a binding made again gets a greater epoch', async () => {
      const store = open(randomPrefix('co-own'));
      const events = await listen(store);
      await store.addOwner('d', 'a');
      await store.addOwner('d', 'a');
      await store.addOwner('d', 'b');
      await store.removeOwner('d', 'a');
      await store.removeOwner('d', 'a');
      assert.deepEqual(await raw.smembers(store.keys.destination('d')), ['b']);
      await store.removeBinding('d');
      await store.removeBinding('d');
      assert.equal(await store.hasBinding('d'), false);
      assert.equal(await raw.hexists(store.keys.epochs, 'd'), 0);
      await until(() => events.length >= 4);
      const epoch = (events[0] as { epoch: number }).epoch;
      assert.ok(epoch > 1, `epoch ${epoch}`);
      assert.deepEqual(events, [
        { type: 'binding', destinationId: 'd', epoch },
        { type: 'binding', destinationId: 'd', epoch },
        { type: 'binding', destinationId: 'd', epoch },
        { type: 'binding', destinationId: 'd', epoch: 0 },
      ]);
      // The epoch was deleted with the binding; the next one still goes up (it never restarts at 1).
      await store.addOwner('d', 'c');
      assert.ok(Number(await raw.hget(store.keys.epochs, 'd')) > epoch);
    });

    it('a lock keeps its owner whatever its metadata says; owner null once the owner is dead', async () => {
      const store = open(randomPrefix('co-lock'));
      await store.putMember(m('a', 2), 300);
      await store.putMember(m('evil'), TTL);
      // keyway keeps metadata as JSON beside the owner; platformatic's layout spreads it into the lock's own fields
      // (strings), where `podId` and `destinationId` are the lock's and are never taken from it.
      const metadata = layout === 'keyway' ? { memberId: 'evil', destinationId: 'other', tx: 7 } : { memberId: 'evil', tx: '7' };
      const given = layout === 'keyway' ? metadata : { ...metadata, podId: 'evil', destinationId: 'other' };
      await store.putLock({ lockId: 'l', memberId: 'a', destinationId: 'd', metadata: given }, TTL);
      const found = await store.resolveLock('l');
      assert.deepEqual(found, { lock: { lockId: 'l', memberId: 'a', destinationId: 'd', metadata }, owner: m('a', 2) });
      await waitGone(store.keys.member('a'));
      assert.deepEqual((await store.resolveLock('l'))?.owner, null);
      assert.equal(await store.resolveLock('nope'), null);
    });

    it('removeLock only by its owner; heartbeat refreshes lock TTLs; a lock moved to another member leaves the old set', async () => {
      const store = open(randomPrefix('co-lock2'));
      await store.putMember(m('a'), TTL);
      await store.putLock({ lockId: 'l', memberId: 'a', destinationId: 'd', metadata: {} }, 1000);
      await store.removeLock('l', 'b');
      assert.equal((await store.resolveLock('l'))?.lock.memberId, 'a');
      await store.heartbeat(m('a'), TTL, 50_000);
      const pttl = await raw.pttl(store.keys.lock('l'));
      assert.ok(pttl > 1000 && pttl <= 50_000, `lock TTL refreshed (${pttl})`);
      const events = await listen(store);
      await store.removeLock('l', 'a');
      assert.equal(await store.resolveLock('l'), null);
      await until(() => events.length === 1);
      assert.deepEqual(events, [{ type: 'lock', lockId: 'l' }]);
      await store.putLock({ lockId: 'l2', memberId: 'a', destinationId: 'd', metadata: {} }, TTL);
      await store.putLock({ lockId: 'l2', memberId: 'b', destinationId: 'd', metadata: {} }, TTL);
      assert.deepEqual(await raw.smembers(store.keys.memberLocks('a')), []);
      await store.removeMember('a');
      assert.equal((await store.resolveLock('l2'))?.lock.memberId, 'b', 'removing a does not remove b’s lock');
    });
  });
}

describe('RedisCoordinatorStore: connections', () => {
  it('skips malformed messages and survives a throwing listener', async () => {
    const store = open(randomPrefix('co-msg'));
    const events = await listen(store);
    await store.subscribe(() => {
      throw new Error('listener bug');
    });
    await raw.publish(store.keys.events, 'not json');
    await raw.publish(store.keys.events, JSON.stringify({ type: 'member:down', memberId: 'x', reason: 'bored' }));
    await raw.publish(store.keys.events, JSON.stringify({ type: 'lock', lockId: 'ok' }));
    await until(() => events.length === 1);
    assert.deepEqual(events, [{ type: 'lock', lockId: 'ok' }]);
  });

  it('subscribes again after its connection is killed', async () => {
    const store = open(randomPrefix('co-resub'));
    const events = await listen(store);
    await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    const deadline = Date.now() + 10_000;
    for (let i = 0; events.length === 0; i++) {
      assert.ok(Date.now() < deadline, 'no event after the subscriber reconnected');
      await store.addOwner(`d${i}`, 'a');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(events[0]?.type, 'binding');
  });

  it('close() is idempotent and leaves an injected client open', async () => {
    const client = new Redis(server.port, server.host);
    const store = createCoordinatorStore(client, { keyPrefix: randomPrefix('co-inject') });
    await store.putMember(m('a'), TTL);
    await store.subscribe(() => undefined);
    await Promise.all([store.close(), store.close()]);
    await store.close();
    assert.equal(await client.ping(), 'PONG');
    await assert.rejects(store.liveMembers(), StoreUnavailableError);
    client.disconnect();
  });

  it('rejects with StoreUnavailableError when Redis cannot be reached', async () => {
    const port = await freePort();
    const store = new RedisCoordinatorStore(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 300, callTimeoutMs: 300 });
    await assert.rejects(store.resolve({ ...claim, destinationId: 'd' }), StoreUnavailableError);
    await store.close();
  });

  it('each caller waits on its own deadline: one that arrives late is not failed by the first one\'s timer', async () => {
    const port = await freePort();
    const store = new RedisCoordinatorStore(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 200, callTimeoutMs: 600 });
    const t0 = Date.now();
    const first = store.liveMembers().then(() => 0, () => Date.now() - t0);
    await new Promise((r) => setTimeout(r, 400));
    const t1 = Date.now();
    const late = store.liveMembers().then(() => 0, () => Date.now() - t1);
    const [firstMs, lateMs] = await Promise.all([first, late]);
    assert.ok(firstMs >= 550 && firstMs < 2000, `first caller failed after ${firstMs} ms`);
    assert.ok(lateMs >= 550, `the late caller waited its own 600 ms, not what was left of the first's (${lateMs} ms)`);
    await store.close();
  });

  it('a caller waiting while Redis is down gets its answer once Redis is back within its deadline', async () => {
    const down = await startRedisServer();
    await down.kill('SIGKILL');
    const store = new RedisCoordinatorStore(down.url, { connectTimeoutMs: 500, callTimeoutMs: 8000 });
    try {
      const pending = store.liveMembers();
      await new Promise((r) => setTimeout(r, 500));
      await down.restart();
      assert.deepEqual(await pending, []);
    } finally {
      await store.close();
      await down.stop();
    }
  });

  it('confirmReplicas: a claim no replica acknowledged is answered confirmed: false', async () => {
    const store = new RedisCoordinatorStore(server.url, { keyPrefix: randomPrefix('co-confirm'), confirmReplicas: 1 });
    try {
      await store.putMember(m('a'), TTL);
      const t0 = Date.now();
      const outcome = await store.resolve({ ...claim, destinationId: 'd' });
      assert.equal(outcome.kind, 'claimed');
      assert.equal('confirmed' in outcome && outcome.confirmed, false, 'this server has no replica');
      assert.ok(Date.now() - t0 >= 90, 'the claim waited for a replica');
      const again = await store.resolve({ ...claim, destinationId: 'd' });
      assert.equal(again.kind, 'owner', 'the binding is there; only its durability is unknown');
    } finally {
      await store.close();
    }
  });
});

describe('RedisCoordinatorStore on a 3-master Cluster', () => {
  let cluster: RedisClusterSetup;
  const clients: Cluster[] = [];
  const stores: RedisCoordinatorStore[] = [];
  before(async () => {
    cluster = await startRedisCluster(3);
    clients.push(new Cluster([...cluster.seeds]), new Cluster([...cluster.seeds]));
    const keyPrefix = randomPrefix('co-cluster');
    for (const client of clients) stores.push(new RedisCoordinatorStore(client, { keyPrefix }));
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const client of clients) client.disconnect();
    await cluster.stop();
  });

  it('claims once under concurrency, resolves locks, prunes and publishes', async () => {
    const [a, b] = stores as [RedisCoordinatorStore, RedisCoordinatorStore];
    const events = await listen(a);
    await a.putMember(m('a', 1), TTL);
    await b.putMember(m('b', 2), 200);
    await b.putLock({ lockId: 'l', memberId: 'b', destinationId: 'd', metadata: { memberId: 'a' } }, TTL);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).resolve({ ...claim, destinationId: 'hot', candidate: i % 2 ? 'b' : 'a' })),
    );
    assert.equal(new Set(outcomes.map(memberOf)).size, 1);
    const epochs = new Set(outcomes.map(epochOf));
    assert.equal(epochs.size, 1, `one epoch, got ${[...epochs].join(',')}`);
    assert.equal((await a.resolveLock('l'))?.lock.memberId, 'b');
    await until(() => events.some((e) => e.type === 'binding'));
    await waitGone(a.keys.member('b'), clients[0]);
    assert.deepEqual(await a.liveMembers(), [m('a', 1)]);
    await until(() => events.some((e) => e.type === 'member:down'));
    assert.equal(await a.resolveLock('l'), null);
  });
});

/** Waits until `key` has expired (there is no event for expiry). */
async function waitGone(key: string, client: Redis | Cluster = raw): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await client.exists(key)) === 1) {
    if (Date.now() > deadline) throw new Error(`${key} did not expire`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The epoch of a resolution outcome that has one. */
function epochOf(outcome: ResolveOutcome): number {
  assert.ok('epoch' in outcome, `no epoch in ${JSON.stringify(outcome)}`);
  return outcome.epoch;
}
