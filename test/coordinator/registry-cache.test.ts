/**
 * @module test/coordinator/registry-cache: the resolution cache (hits cost no Redis command), its invalidation across
 * registries through the store's events (deregistration, binding changes, member expiry), concurrent first touches
 * from several registries, and claim cost. Real Members and Registries on a real redis-server; waits on events.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Member, Registry } from '../../src/index.js';
import { commandsDuring, nextEvent, scriptsRun, suiteFixture } from './helpers.js';

/** No background refresh during a measurement. */
const QUIET = { memberListRefreshMs: 600_000 } as const;

describe('Registry cache', () => {
  const f = suiteFixture();

  /** Waits until every registry has seen the `binding` event `change()` causes for `destinationId`. */
  async function changed(registries: Registry[], destinationId: string, change: () => Promise<unknown>): Promise<void> {
    const seen = registries.map((r) => nextEvent(r, 'destination:changed', (id: string) => id === destinationId));
    await change();
    await Promise.all(seen);
  }

  /** Binds `destinationId` to `member` and caches that resolution in every registry. */
  async function cached(registries: Registry[], destinationId: string, member: Member): Promise<void> {
    await changed(registries, destinationId, () => member.addToDestination(destinationId));
    for (const registry of registries) assert.equal((await registry.resolveDestination(destinationId))?.memberId, member.memberId);
    for (const registry of registries) {
      const delta = await commandsDuring(f.server, () => registry.resolveDestination(destinationId));
      assert.equal(delta.size, 0, `expected a cache hit, Redis ran ${[...delta.keys()].join(', ')}`);
    }
  }

  it('a hit issues no Redis command and returns the same frozen result', async () => {
    const m1 = await f.member('member-1');
    const registry = await f.registry(QUIET);
    await changed([registry], 'hot', () => m1.addToDestination('hot'));
    const first = await registry.resolveDestination('hot');
    assert.ok(first && Object.isFrozen(first));
    let last = first;
    const delta = await commandsDuring(f.server, async () => {
      for (let i = 0; i < 1000; i++) last = (await registry.resolveDestination('hot', { claimOnMiss: true }))!;
    });
    assert.deepEqual([...delta], [], 'no Redis command for 1000 hits');
    assert.equal(last, first);
    assert.deepEqual({ ...last }, { address: m1.address, memberId: 'member-1', reassigned: false, epoch: await f.epoch('hot') });
  });

  it("a registry's own claim stays cached: the binding event it publishes does not evict it", async () => {
    await f.member('member-1');
    await f.member('member-2');
    const registry = await f.registry({ ...QUIET, strategy: 'round-robin' });
    for (const id of ['own-1', 'own-2', 'own-3', 'own-4']) {
      await changed([registry], id, () => registry.resolveDestination(id, { claimOnMiss: true }));
      const delta = await commandsDuring(f.server, () => registry.resolveDestination(id, { claimOnMiss: true }));
      assert.equal(delta.size, 0, `expected a cache hit after the claim, Redis ran ${[...delta.keys()].join(', ')}`);
    }
    // No extra resolutions consumed round-robin turns: the four claims alternate between the two members.
    const owners = await Promise.all(['own-1', 'own-2', 'own-3', 'own-4'].map(async (id) => (await registry.resolveDestination(id))?.memberId));
    assert.deepEqual(new Set(owners), new Set(['member-1', 'member-2']));
    assert.notEqual(owners[0], owners[1]);
  });

  it('serves the cached owner while Redis changes behind it without an event (TTL bounds it)', async () => {
    const m1 = await f.member('member-1');
    const registry = await f.registry({ ...QUIET, cache: { ttl: 60_000 } });
    await cached([registry], 'inst-cache', m1);
    await f.server.cli('DEL', f.keys.destination('inst-cache'));
    assert.equal((await registry.resolveDestination('inst-cache'))?.address, m1.address);
    registry.invalidateCache('inst-cache');
    assert.equal(await registry.resolveDestination('inst-cache'), null);
  });

  it('is invalidated by deregisterDestination on the same registry', async () => {
    const m1 = await f.member('member-1');
    const registry = await f.registry(QUIET);
    await cached([registry], 'inst-inv', m1);
    await registry.deregisterDestination('inst-inv');
    assert.equal(await registry.resolveDestination('inst-inv'), null);
  });

  it('with cache: false every resolution is one script', async () => {
    const m1 = await f.member('member-1');
    await m1.addToDestination('nocache');
    const registry = await f.registry({ ...QUIET, cache: false });
    for (let i = 0; i < 3; i++) {
      const delta = await commandsDuring(f.server, () => registry.resolveDestination('nocache'));
      assert.equal(scriptsRun(delta), 1);
    }
  });

  it('a claim with a warm member list is one round trip (the cold case: see registry.test.ts)', async () => {
    await f.member('member-1');
    await f.member('member-2');
    const warm = await f.registry(QUIET);
    const delta = await commandsDuring(f.server, () => warm.resolveDestination('claim-warm', { claimOnMiss: true }));
    assert.equal(scriptsRun(delta), 1);
    assert.equal(delta.get('exists') ?? 0, 0);
  });

  it('does not cache dead or unknown destinations', async () => {
    const dead = await f.member('dead-pod');
    await dead.addToDestination('orphan');
    await dead.deregister();
    const registry = await f.registry(QUIET);
    for (const id of ['orphan', 'orphan', 'unknown', 'unknown']) {
      const delta = await commandsDuring(f.server, () => registry.resolveDestination(id));
      assert.equal(scriptsRun(delta), 1, id);
    }
  });

  it('reportFailure drops the entry only while it names that member; the retry reads Redis', async () => {
    const m1 = await f.member('member-1');
    const registry = await f.registry(QUIET);
    await cached([registry], 'flaky', m1);
    assert.equal(registry.reportFailure('flaky', 'someone-else'), false);
    assert.equal(registry.reportFailure('unknown', 'member-1'), false);
    assert.equal(registry.reportFailure('flaky', 'member-1'), true);
    assert.equal(registry.reportFailure('flaky', 'member-1'), false, 'already dropped');
    const delta = await commandsDuring(f.server, () => registry.resolveDestination('flaky'));
    assert.equal(scriptsRun(delta), 1);
  });

  it('keeps at most cache.max destinations, dropping the least recently used', async () => {
    const m1 = await f.member('member-1');
    const registry = await f.registry({ ...QUIET, cache: { max: 2 } });
    for (const id of ['a', 'b', 'c']) await cached([registry], id, m1);
    const delta = await commandsDuring(f.server, () => registry.resolveDestination('a'));
    assert.equal(scriptsRun(delta), 1, 'a was dropped');
  });

  it('100 concurrent first touches from four registries agree on one owner', async () => {
    for (const id of ['member-1', 'member-2', 'member-3']) await f.member(id);
    const registries = await Promise.all([1, 2, 3, 4].map(() => f.registry()));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => registries[i % 4]!.resolveDestination('contended', { claimOnMiss: true })),
    );
    const owners = new Set(results.map((r) => r?.memberId));
    assert.equal(owners.size, 1, `owners: ${[...owners].join(', ')}`);
    const epoch = await f.epoch('contended');
    assert.ok(results.every((r) => r !== null && r.epoch === epoch && !r.reassigned));
    const set = (await f.server.cli('SMEMBERS', f.keys.destination('contended'))).split('\n').filter(Boolean);
    assert.deepEqual(set, [...owners]);
  });

  it('a member deregistering evicts its destinations in every registry', async () => {
    const m1 = await f.member('member-1');
    const [a, b] = [await f.registry(QUIET), await f.registry(QUIET)];
    await cached([a, b], 'tenant-1', m1);
    const downs = [a, b].map((r) => nextEvent<[string, string]>(r, 'member:down'));
    await m1.deregister();
    for (const [memberId, reason] of await Promise.all(downs)) assert.deepEqual([memberId, reason], ['member-1', 'deregistered']);
    for (const registry of [a, b]) {
      assert.equal(await registry.resolveDestination('tenant-1'), null, 'a dead owner: null, as platformatic answers');
      assert.deepEqual({ ...(await registry.resolveBinding('tenant-1')) }, { address: null, memberId: 'member-1', reassigned: false, epoch: await f.epoch('tenant-1') });
    }
  });

  it("deregisterDestination on one registry evicts another's cached entry", async () => {
    const m1 = await f.member('member-1');
    const [a, b] = [await f.registry(QUIET), await f.registry(QUIET)];
    await cached([a, b], 'tenant-2', m1);
    const seen = nextEvent(b, 'destination:changed', (id: string) => id === 'tenant-2', 1000);
    await a.deregisterDestination('tenant-2');
    await seen;
    assert.equal(await b.resolveDestination('tenant-2'), null);
  });

  it("owner changes made through one registry evict another's cached entry", async () => {
    const m1 = await f.member('member-1');
    const m2 = await f.member('member-2');
    const [a, b] = [await f.registry(QUIET), await f.registry(QUIET)];
    await cached([a, b], 'tenant-3', m1);
    await changed([b], 'tenant-3', () => a.addPodToDestination('tenant-3', 'member-2'));
    await changed([b], 'tenant-3', () => a.removePodFromDestination('tenant-3', 'member-1'));
    assert.deepEqual({ ...(await b.resolveDestination('tenant-3')) }, { address: m2.address, memberId: 'member-2', reassigned: false, epoch: await f.epoch('tenant-3') });
  });

  it('a member that expires is evicted everywhere; a later reassignment moves its destination once, with a new epoch', async () => {
    await f.member('short', { ttl: 1 });
    const [a, b] = [await f.registry({ memberListRefreshMs: 50 }), await f.registry({ memberListRefreshMs: 50 })];
    await changed([a, b], 'tenant-4', () => a.resolveDestination('tenant-4', { claimOnMiss: true }));
    for (const registry of [a, b]) assert.equal((await registry.resolveDestination('tenant-4'))?.memberId, 'short');
    const survivor = await f.member('survivor');
    const downs = [a, b].map((r) => nextEvent<[string, string]>(r, 'member:down', (id: string) => id === 'short'));
    for (const [, reason] of await Promise.all(downs)) assert.equal(reason, 'expired');

    const claimedEpoch = await f.epoch('tenant-4');
    assert.equal(await b.resolveDestination('tenant-4'), null);
    assert.deepEqual({ ...(await b.resolveBinding('tenant-4')) }, { address: null, memberId: 'short', reassigned: false, epoch: claimedEpoch });
    const event = nextEvent<[{ previous: string[]; epoch: number }]>(a, 'destination:reassigned');
    const moved = await a.resolveDestination('tenant-4', { reassignOrphans: true });
    const epoch = moved?.epoch ?? 0;
    assert.ok(epoch > claimedEpoch, `new epoch ${epoch} above ${claimedEpoch}`);
    assert.deepEqual({ ...moved }, { address: survivor.address, memberId: 'survivor', reassigned: true, epoch });
    const [payload] = await event;
    assert.deepEqual([payload.previous, payload.epoch], [['short'], epoch]);
    const again = await a.resolveDestination('tenant-4', { reassignOrphans: true });
    assert.deepEqual({ ...again }, { address: survivor.address, memberId: 'survivor', reassigned: false, epoch });
    assert.equal((await b.resolveDestination('tenant-4', { reassignOrphans: true }))?.memberId, 'survivor');
  });

  it('a member back on a new address (its record had vanished) evicts the entries naming the old one', async () => {
    const old = await f.member('member-1');
    const registry = await f.registry(QUIET);
    await cached([registry], 'tenant-5', old);
    await f.server.cli('DEL', f.keys.member('member-1'));
    const up = nextEvent(registry, 'member:up');
    const moved = await f.member('member-1');
    await up;
    assert.notEqual(moved.address, old.address);
    assert.equal((await registry.resolveDestination('tenant-5'))?.address, moved.address);
  });

  it('emits member:up and member:down in every registry', async () => {
    const [a, b] = [await f.registry(QUIET), await f.registry(QUIET)];
    const ups = [a, b].map((r) => nextEvent<[{ memberId: string; load: number }]>(r, 'member:up'));
    const m1 = await f.member('member-1', { getLoad: () => 4 });
    for (const [member] of await Promise.all(ups)) assert.deepEqual(member, { memberId: 'member-1', address: m1.address, load: 4 });
    const downs = [a, b].map((r) => nextEvent<[string, string]>(r, 'member:down'));
    await m1.deregister();
    for (const args of await Promise.all(downs)) assert.deepEqual(args, ['member-1', 'deregistered']);
  });

  it('Redis unreachable: the last live owner is answered, marked stale, instead of failing the caller', { timeout: 20_000 }, async () => {
    const m1 = await f.member('member-1');
    const registry = await f.registry({ ...QUIET, cache: { ttl: 1 }, callTimeoutMs: 1000 });
    const fresh = await registry.resolveDestination('kept', { claimOnMiss: true });
    assert.equal(fresh?.memberId, 'member-1');
    await f.server.kill('SIGKILL');
    try {
      // The cache entry expired long ago (1 ms); the last known owner is still kept.
      const stale = await until(async () => {
        const r = await registry.resolveDestination('kept', { claimOnMiss: true });
        return r?.stale === true ? r : undefined;
      }, 5000);
      assert.deepEqual({ ...stale }, { address: m1.address, memberId: 'member-1', reassigned: false, epoch: fresh!.epoch, stale: true });
      await assert.rejects(registry.resolveDestination('never-seen', { claimOnMiss: true }), /redis/i, 'nothing known: the caller is told');
    } finally {
      await f.server.restart();
    }
  });
});

/** Calls `probe` until it returns a value, at most `ms`. */
async function until<T>(probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`no value within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
