/** `keyway:coordinator:ownership`: a first-touch claim and a reassignment are published with their fencing epochs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics_channel from 'node:diagnostics_channel';
import { suiteFixture } from './helpers.js';

describe('Registry: ownership diagnostics', () => {
  const f = suiteFixture();

  it('claims and reassignments reach a subscriber of keyway:coordinator:ownership', async (t) => {
    const seen: Record<string, unknown>[] = [];
    const fn = (m: unknown): void => void seen.push(m as Record<string, unknown>);
    diagnostics_channel.subscribe('keyway:coordinator:ownership', fn);
    t.after(() => diagnostics_channel.unsubscribe('keyway:coordinator:ownership', fn));
    await f.member('member-1', { getLoad: () => 0 });
    await f.member('member-2', { getLoad: () => 1 });
    const registry = await f.registry({ strategy: 'least-loaded', cache: false });
    const claimed = await registry.resolveDestination('doc', { claimOnMiss: true });
    const moved = await registry.resolveDestination('doc', { reassignOrphans: true, suspect: claimed?.memberId ?? '' });
    const mine = seen.filter((m) => m.destinationId === 'doc');
    assert.deepEqual(mine, [
      { destinationId: 'doc', memberId: 'member-1', epoch: claimed?.epoch, change: 'claimed', previous: [] },
      { destinationId: 'doc', memberId: 'member-2', epoch: moved?.epoch, change: 'reassigned', previous: ['member-1'] },
    ]);
  });
});
