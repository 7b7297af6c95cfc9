/**
 * @module test/coordinator/registry: every scenario of @platformatic/coordinator's registry tests (both its instance
 * and its destination API generations), re-expressed against keyway's Registry with real Members on a real
 * redis-server. Cache, cross-registry invalidation and concurrency live in registry-cache.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry, type AllocationStrategy } from '../../src/index.js';
import { createRedisClient } from '../../src/redis/index.js';
import { testRedisConfig } from '../helpers/redis.js';
import { fixture, nextEvent, suiteFixture, TEST_LAYOUT } from './helpers.js';

describe('Registry', () => {
  const f = suiteFixture();

  const owners = async (destinationId: string): Promise<string[]> =>
    (await f.server.cli('SMEMBERS', f.keys.destination(destinationId))).split('\n').filter(Boolean).sort();

  /** A member that owns `destinationId` and is then deregistered: a dead owner. */
  async function deadOwnerOf(destinationId: string, memberId = 'dead-pod'): Promise<void> {
    const dead = await f.member(memberId);
    await dead.addToDestination(destinationId);
    await dead.deregister();
  }

  describe('members', () => {
    it('listLiveMembers returns [] when no member is registered', async () => {
      const registry = await f.registry({ cache: false });
      assert.deepEqual(await registry.listLiveMembers(), []);
    });

    it('listLiveMembers returns the members with address and load (0 without getLoad)', async () => {
      const m1 = await f.member('member-1', { getLoad: () => 3 });
      const m2 = await f.member('member-2', { getLoad: () => 7 });
      const m3 = await f.member('member-3');
      const registry = await f.registry({ cache: false });
      const live = await registry.listLiveMembers();
      const byId = new Map(live.map((m) => [m.memberId, m]));
      assert.equal(live.length, 3);
      assert.deepEqual(byId.get('member-1'), { memberId: 'member-1', address: m1.address, load: 3 });
      assert.deepEqual(byId.get('member-2'), { memberId: 'member-2', address: m2.address, load: 7 });
      assert.deepEqual(byId.get('member-3'), { memberId: 'member-3', address: m3.address, load: 0 });
    });

    it('listLiveMembers skips a member whose record expired, and the registry reports it down', async () => {
      await f.member('member-1');
      await f.member('short', { ttl: 0.2 });
      const registry = await f.registry({ cache: false, memberListRefreshMs: 50 });
      assert.equal((await registry.listLiveMembers()).length, 2);
      const [memberId, reason] = await nextEvent<[string, string]>(registry, 'member:down');
      assert.deepEqual([memberId, reason], ['short', 'expired']);
      assert.deepEqual(
        (await registry.listLiveMembers()).map((m) => m.memberId),
        ['member-1'],
      );
    });

    it('pickMember round-robins across live members', async () => {
      await f.member('member-1');
      await f.member('member-2');
      const registry = await f.registry({ cache: false });
      const first = await registry.pickMember({ destinationId: 'pick-test' });
      const second = await registry.pickMember({ destinationId: 'pick-test' });
      assert.ok(first && second);
      assert.notEqual(first.memberId, second.memberId, 'round-robin should cycle');
      assert.notEqual(first.address, second.address);
    });

    it('pickMember works without a context and returns null when no member is alive', async () => {
      const registry = await f.registry({ cache: false });
      assert.equal(await registry.pickMember(), null);
    });

    it('pickMember uses the configured strategy', async () => {
      await f.member('light', { getLoad: () => 1 });
      await f.member('heavy', { getLoad: () => 9 });
      const registry = await f.registry({ cache: false, strategy: 'least-loaded' });
      for (let i = 0; i < 3; i++) assert.equal((await registry.pickMember())?.memberId, 'light');
    });
  });

  describe('resolveDestination', () => {
    it('returns null for an unknown destination without claimOnMiss, and binds nothing', async () => {
      await f.member('member-1');
      const registry = await f.registry({ cache: false });
      assert.equal(await registry.resolveDestination('unknown'), null);
      assert.equal(await registry.hasBinding('unknown'), false);
    });

    it('with claimOnMiss binds a live member and returns it, with the epoch Redis holds', async () => {
      const m1 = await f.member('member-1');
      const m2 = await f.member('member-2');
      const registry = await f.registry({ cache: false });
      const result = await registry.resolveDestination('inst-claim', { claimOnMiss: true });
      assert.ok(result);
      assert.ok([m1.address, m2.address].includes(result.address!));
      assert.equal(result.reassigned, false);
      assert.equal(result.epoch, await f.epoch('inst-claim'));
      assert.deepEqual(await owners('inst-claim'), [result.memberId]);
    });

    it('with claimOnMiss returns null when no member is alive', async () => {
      const registry = await f.registry({ cache: false });
      assert.equal(await registry.resolveDestination('inst-none', { claimOnMiss: true }), null);
      assert.equal(await registry.hasBinding('inst-none'), false);
    });

    it('returns the address of an existing single-owner binding', async () => {
      const m1 = await f.member('member-1');
      await f.member('member-2');
      await m1.addToDestination('inst-existing');
      const registry = await f.registry({ cache: false });
      const result = await registry.resolveDestination('inst-existing');
      assert.deepEqual({ ...result }, { address: m1.address, memberId: 'member-1', reassigned: false, epoch: await f.epoch('inst-existing') });
    });

    it('answers null when every owner is dead (resolveBinding names the dead owner), keeping the binding', async () => {
      await f.member('member-1');
      await deadOwnerOf('inst-orphan');
      const registry = await f.registry({ cache: false });
      assert.equal(await registry.resolveDestination('inst-orphan'), null);
      const result = await registry.resolveBinding('inst-orphan');
      assert.deepEqual({ ...result }, { address: null, memberId: 'dead-pod', reassigned: false, epoch: await f.epoch('inst-orphan') });
      assert.deepEqual(await owners('inst-orphan'), ['dead-pod'], 'the dead binding is preserved');
    });

    it('with reassignOrphans moves an orphan to a live member, once, with a new epoch and an event', async () => {
      const m1 = await f.member('member-1');
      const m2 = await f.member('member-2');
      await deadOwnerOf('inst-reassign');
      const registry = await f.registry({ cache: false });
      const event = nextEvent<[{ destinationId: string; memberId: string; previous: string[]; epoch: number }]>(
        registry,
        'destination:reassigned',
      );
      const before = await f.epoch('inst-reassign');
      const result = await registry.resolveDestination('inst-reassign', { reassignOrphans: true });
      assert.ok(result);
      assert.equal(result.reassigned, true);
      assert.ok(result.epoch > before, `new epoch ${result.epoch} above ${before}`);
      assert.ok([m1.address, m2.address].includes(result.address!));
      assert.deepEqual(await owners('inst-reassign'), [result.memberId]);
      const [payload] = await event;
      assert.deepEqual(payload, {
        destinationId: 'inst-reassign',
        memberId: result.memberId,
        address: result.address,
        previous: ['dead-pod'],
        epoch: result.epoch,
      });
      const again = await registry.resolveDestination('inst-reassign', { reassignOrphans: true });
      assert.deepEqual({ ...again }, { ...result, reassigned: false });
    });

    it('with several owners returns a live one and drops the dead ones from the set', async () => {
      const m1 = await f.member('member-1');
      const m2 = await f.member('member-2');
      await deadOwnerOf('inst-multi');
      await m1.addToDestination('inst-multi');
      await m2.addToDestination('inst-multi');
      const registry = await f.registry({ cache: false });
      const result = await registry.resolveDestination('inst-multi');
      assert.ok(result && ['member-1', 'member-2'].includes(result.memberId));
      assert.equal(result.reassigned, false);
      assert.deepEqual(await owners('inst-multi'), ['member-1', 'member-2'], 'dead member removed');
    });

    it('with reassignOrphans but no live member answers null and keeps the binding', async () => {
      await deadOwnerOf('inst-none');
      const registry = await f.registry({ cache: false });
      assert.equal(await registry.resolveDestination('inst-none', { reassignOrphans: true }), null);
      const result = await registry.resolveBinding('inst-none', { reassignOrphans: true });
      assert.deepEqual({ ...result }, { address: null, memberId: 'dead-pod', reassigned: false, epoch: await f.epoch('inst-none') });
      assert.deepEqual(await owners('inst-none'), ['dead-pod']);
    });

    it("a claim goes to the strategy's pick from the local member list", async () => {
      await f.member('member-1');
      await f.member('member-2');
      const registry = await f.registry({ cache: false, strategy: 'round-robin' });
      const claimed: string[] = [];
      for (const id of ['d1', 'd2', 'd3', 'd4']) {
        claimed.push((await registry.resolveDestination(id, { claimOnMiss: true }))!.memberId);
      }
      // Left to itself the script takes the least loaded (ties by id): always member-1. Round-robin alternates
      // (from whichever member the list holds first: a sorted set on keyway's layout, a plain set on platformatic's).
      assert.deepEqual(new Set(claimed), new Set(['member-1', 'member-2']));
      assert.deepEqual([claimed[2], claimed[3]], [claimed[0], claimed[1]]);
      const pinned: AllocationStrategy = { pick: (members) => members.find((m) => m.memberId === 'member-2') ?? null };
      const custom = await f.registry({ cache: false, strategy: pinned });
      assert.equal((await custom.resolveDestination('d5', { claimOnMiss: true }))?.memberId, 'member-2');
    });

    it('a claim before the member list is read lets the script choose (the strategy is not asked)', async () => {
      await f.member('member-1');
      let asked = 0;
      const counting: AllocationStrategy = {
        pick: (members) => {
          asked++;
          return members[0] ?? null;
        },
      };
      const registry = new Registry({ redis: f.server.url, keyPrefix: f.prefix, layout: TEST_LAYOUT, cache: false, strategy: counting });
      try {
        const result = await registry.resolveDestination('cold', { claimOnMiss: true });
        assert.equal(result?.memberId, 'member-1');
        assert.equal(asked, 0);
      } finally {
        await registry.close();
      }
    });
  });

  describe('owners, bindings, locks', () => {
    it('addPodToDestination adds an owner; removePodFromDestination removes it', async () => {
      await f.member('member-1');
      await f.member('member-2');
      const registry = await f.registry({ cache: false });
      await registry.addPodToDestination('inst-add', 'member-1');
      await registry.addPodToDestination('inst-add', 'member-2');
      assert.deepEqual(await owners('inst-add'), ['member-1', 'member-2']);
      await registry.removePodFromDestination('inst-add', 'member-1');
      assert.deepEqual(await owners('inst-add'), ['member-2']);
      assert.equal((await registry.resolveDestination('inst-add'))?.memberId, 'member-2');
    });

    it('hasBinding is true for a bound destination, false otherwise', async () => {
      const m1 = await f.member('member-1');
      const registry = await f.registry({ cache: false });
      assert.equal(await registry.hasBinding('inst-empty'), false);
      await m1.addToDestination('inst-empty');
      assert.equal(await registry.hasBinding('inst-empty'), true);
    });

    it('deregisterDestination deletes the owner set; the destination is then unknown', async () => {
      const m1 = await f.member('member-1');
      const m2 = await f.member('member-2');
      await m1.addToDestination('inst-del');
      await m2.addToDestination('inst-del');
      const registry = await f.registry({ cache: false });
      await registry.deregisterDestination('inst-del');
      assert.equal((await f.server.cli('EXISTS', f.keys.destination('inst-del'))).trim(), '0');
      assert.equal(await registry.resolveDestination('inst-del'), null);
    });

    it('resolveLock returns null for an unknown lock', async () => {
      const registry = await f.registry({ cache: false });
      assert.equal(await registry.resolveLock('missing'), null);
    });

    it('resolveLock returns the owning member and its address', async () => {
      const m1 = await f.member('member-1');
      await m1.registerLock('lock-x', 'dest-1', { txn: 7 });
      const registry = await f.registry({ cache: false });
      assert.deepEqual(await registry.resolveLock('lock-x'), { memberId: 'member-1', address: m1.address });
    });

    it('resolveLock returns null when the owning member is dead', async () => {
      const short = await f.member('short', { ttl: 0.2, lockTtl: 30 });
      await short.registerLock('lock-dead', 'dest-1');
      const registry = await f.registry({ cache: false, memberListRefreshMs: 50 });
      assert.equal((await registry.resolveLock('lock-dead'))?.memberId, 'short');
      await nextEvent(registry, 'member:down', (id: string) => id === 'short');
      assert.equal(await registry.resolveLock('lock-dead'), null);
    });
  });

  describe('lifecycle and options', () => {
    it('keyPrefix isolates two registries on the same Redis', async () => {
      const other = fixture(f.server);
      try {
        await f.member('pod-x');
        const a = await f.registry({ cache: false });
        const b = await other.registry({ cache: false });
        assert.equal((await a.listLiveMembers()).length, 1);
        assert.equal((await b.listLiveMembers()).length, 0);
        await a.resolveDestination('shared-id', { claimOnMiss: true });
        assert.equal(await b.hasBinding('shared-id'), false);
      } finally {
        await other.close();
      }
    });

    it('the default keyPrefix is "coordinator"', async () => {
      const registry = new Registry({ redis: f.server.url });
      try {
        assert.equal(registry.keyPrefix, 'coordinator');
        assert.deepEqual(await registry.listLiveMembers(), []);
      } finally {
        await registry.close();
      }
    });

    it('close() closes the connections it opened, is idempotent, and later calls reject', async () => {
      const registry = new Registry({ redis: f.server.url, keyPrefix: f.prefix, layout: TEST_LAYOUT });
      await registry.ready();
      await Promise.all([registry.close(), registry.close()]);
      await registry.close();
      await assert.rejects(registry.resolveDestination('x'), { code: 'KW_ERR_STORE_UNAVAILABLE' });
      await assert.rejects(registry.listLiveMembers(), { code: 'KW_ERR_STORE_UNAVAILABLE' });
    });

    it('close() right after construction does not hang or report an error', async () => {
      const registry = new Registry({ redis: f.server.url, keyPrefix: f.prefix, layout: TEST_LAYOUT });
      let errors = 0;
      registry.on('error', () => errors++);
      await registry.close();
      await assert.rejects(registry.ready(), { code: 'KW_ERR_STORE_UNAVAILABLE' });
      assert.equal(errors, 0);
    });

    it('close() leaves an injected client open', async () => {
      const client = createRedisClient(testRedisConfig({ url: f.server.url }));
      await client.connect();
      try {
        const registry = new Registry({ redis: client, keyPrefix: f.prefix, layout: TEST_LAYOUT });
        await registry.ready();
        await registry.close();
        assert.equal(client.status, 'ready');
        assert.equal(await client.ping(), 'PONG');
      } finally {
        client.disconnect();
      }
    });

    it('exposes requestTimeout for proxy helpers', async () => {
      const registry = await f.registry({ requestTimeout: 1234 });
      assert.equal(registry.requestTimeout, 1234);
      assert.equal((await f.registry()).requestTimeout, undefined);
    });

    it('rejects bad options, naming the option and the accepted values', () => {
      const redis = f.server.url;
      assert.throws(() => new Registry({ redis, strategy: 'fastest' as 'random' }), {
        name: 'TypeError',
        message: /round-robin, least-loaded, random/,
      });
      assert.throws(() => new Registry({ redis, cache: { ttl: 0 } }), { name: 'RangeError', message: /cache\.ttl/ });
      assert.throws(() => new Registry({ redis, cache: { max: 1.5 } }), { name: 'RangeError', message: /cache\.max/ });
      assert.throws(() => new Registry({ redis, memberListRefreshMs: -1 }), { name: 'RangeError', message: /memberListRefreshMs/ });
      assert.throws(() => new Registry({ redis, keyPrefix: '' }), { name: 'TypeError', message: /keyPrefix/ });
      assert.throws(() => new Registry({ redis: '' }), { name: 'TypeError', message: /redis/ });
    });
  });
});
