/**
 * `suspect`: a member the caller just failed to reach is dead for that one resolution. It is never returned, never
 * taken as the new owner (neither as the strategy's candidate nor as the script's least-loaded pick), and its
 * record stays for other callers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { suiteFixture } from './helpers.js';

describe('Registry: suspect', () => {
  const f = suiteFixture();

  it('an owner reported unreachable is replaced by another member, even when every pick would prefer it', async () => {
    // member-1 is the least loaded: the least-loaded strategy's candidate and the script's own choice.
    const m1 = await f.member('member-1', { getLoad: () => 0 });
    await f.member('member-2', { getLoad: () => 5 });
    await f.member('member-3', { getLoad: () => 9 });
    const registry = await f.registry({ strategy: 'least-loaded' });
    await m1.addToDestination('doc');
    const before = await registry.resolveDestination('doc');
    assert.equal(before?.memberId, 'member-1');
    const moved = await registry.resolveDestination('doc', { reassignOrphans: true, suspect: 'member-1' });
    assert.ok(moved);
    assert.equal(moved.memberId, 'member-2');
    assert.equal(moved.reassigned, true);
    assert.ok((moved.epoch ?? 0) > (before?.epoch ?? 0), 'a new fencing epoch');
    const live = await registry.listLiveMembers();
    assert.ok(live.some((m) => m.memberId === 'member-1'), 'the suspect\'s record stays');
  });

  it('with the random strategy, 40 reassignments away from a suspect never land on it', async () => {
    const m1 = await f.member('member-1');
    await f.member('member-2');
    await f.member('member-3');
    const registry = await f.registry({ strategy: 'random', cache: false });
    for (let i = 0; i < 40; i++) {
      const id = `room-${i}`;
      await m1.addToDestination(id);
      const r = await registry.resolveDestination(id, { reassignOrphans: true, claimOnMiss: true, suspect: 'member-1' });
      assert.ok(r && r.memberId !== 'member-1', `${id}: ${r?.memberId}`);
    }
  });

  it('a first touch with a suspect never claims the suspect', async () => {
    await f.member('member-1', { getLoad: () => 0 });
    await f.member('member-2', { getLoad: () => 1 });
    const registry = await f.registry({ strategy: 'least-loaded' });
    for (let i = 0; i < 10; i++) {
      const r = await registry.resolveDestination(`new-${i}`, { claimOnMiss: true, suspect: 'member-1' });
      assert.equal(r?.memberId, 'member-2');
    }
  });

  it('when the suspect is the only member, no owner is returned (the caller answers 503), and the binding stays', async () => {
    const m1 = await f.member('member-1');
    const registry = await f.registry({ cache: false });
    await m1.addToDestination('solo');
    const r = await registry.resolveDestination('solo', { reassignOrphans: true, suspect: 'member-1' });
    assert.equal(r, null, JSON.stringify(r));
    assert.equal((await registry.resolveDestination('solo'))?.memberId, 'member-1');
  });
});
