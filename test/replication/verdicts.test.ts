/** @module test/replication/verdicts: merging replicas' verdicts (latest wins, quorum) and the remote table. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeVerdicts, VerdictTable, type Opinion } from '../../src/replication/index.js';

const up = (sinceMs: number): Opinion => ({ up: true, sinceMs });
const down = (sinceMs: number): Opinion => ({ up: false, sinceMs });

describe('mergeVerdicts', () => {
  it('knows nothing without an opinion', () => {
    assert.equal(mergeVerdicts([], undefined), undefined);
    assert.equal(mergeVerdicts([], 2), undefined);
  });

  const latestRows: readonly [string, Opinion[], boolean][] = [
    ['a lone verdict', [down(5)], false],
    ['the most recent change wins (down)', [up(1), down(2), up(1)], false],
    ['the most recent change wins (up)', [down(1), up(3), down(2)], true],
    ['on a tie, down wins', [up(7), down(7)], false],
    ['on a tie, down wins whatever the order', [down(7), up(7)], false],
    ['an older down loses to a newer up', [down(1), up(2)], true],
  ];
  for (const [name, opinions, expected] of latestRows) {
    it(`default rule: ${name}`, () => assert.equal(mergeVerdicts(opinions, undefined), expected));
  }

  const quorumRows: readonly [string, number, Opinion[], boolean][] = [
    ['one down of three with quorum 2 stays up', 2, [down(9), up(1), up(1)], true],
    ['two down of three with quorum 2 is down', 2, [down(1), down(2), up(9)], false],
    ['a lone replica needs only itself (min(N, replicas))', 3, [down(1)], false],
    ['two replicas, quorum 3: both down is enough', 3, [down(1), down(1)], false],
    ['two replicas, quorum 3: one down is not', 3, [down(1), up(1)], true],
    ['quorum 1: any down is down', 1, [up(9), down(1)], false],
    ['quorum ignores recency', 2, [up(1), down(9)], true],
  ];
  for (const [name, quorum, opinions, expected] of quorumRows) {
    it(`quorum: ${name}`, () => assert.equal(mergeVerdicts(opinions, quorum), expected));
  }
});

describe('VerdictTable', () => {
  const v = (backendId: string, replicaId: string, o: Opinion) => ({ backendId, replicaId, ...o });

  it('counts a verdict for ttlMs after it was received', () => {
    const t = new VerdictTable(100);
    assert.equal(t.put(v('x', 'b', down(1)), 1000), true);
    assert.deepEqual(t.fresh('x', 1099).map((e) => e.up), [false]);
    assert.deepEqual(t.fresh('x', 1100), [], 'expired at receipt + ttl');
    assert.deepEqual(t.replicas(1050), ['b']);
    assert.deepEqual(t.replicas(1100), []);
  });

  it('a refresh extends the life and reports no change; a change reports one', () => {
    const t = new VerdictTable(100);
    t.put(v('x', 'b', down(1)), 1000);
    assert.equal(t.put(v('x', 'b', down(1)), 1080), false, 'same verdict: a refresh');
    assert.equal(t.fresh('x', 1150).length, 1);
    assert.equal(t.put(v('x', 'b', up(2)), 1160), true);
  });

  it('ignores a verdict older than the one held for that replica (crossed event and read)', () => {
    const t = new VerdictTable(100);
    t.put(v('x', 'b', up(20)), 1000);
    assert.equal(t.put(v('x', 'b', down(10)), 1001), false);
    assert.deepEqual(t.fresh('x', 1002).map((e) => e.up), [true]);
  });

  it('takes an older verdict once the held one expired (a replica restarted with the same id)', () => {
    const t = new VerdictTable(100);
    t.put(v('x', 'b', up(20)), 1000);
    assert.equal(t.put(v('x', 'b', down(10)), 1200), true);
    assert.deepEqual(t.fresh('x', 1201).map((e) => e.up), [false]);
  });

  it('replaceAll drops entries the read lacks, unless received after the read started', () => {
    const t = new VerdictTable(1000);
    t.put(v('x', 'gone', down(1)), 100);
    t.put(v('x', 'late', down(1)), 205); // by event while the read was in flight
    t.put(v('y', 'kept', up(1)), 100);
    t.replaceAll([v('y', 'kept', up(1)), v('z', 'new', down(3))], 200, 210);
    assert.deepEqual(t.fresh('x', 211).length, 1);
    assert.deepEqual(t.replicas(211), ['kept', 'late', 'new']);
    assert.deepEqual([...t.backends()].sort(), ['x', 'y', 'z']);
  });

  it('prune removes expired entries and empty backends; forget drops a backend', () => {
    const t = new VerdictTable(100);
    t.put(v('x', 'b', up(1)), 0);
    t.put(v('y', 'b', up(1)), 50);
    t.prune(120);
    assert.deepEqual([...t.backends()], ['y']);
    t.forget('y');
    assert.deepEqual([...t.backends()], []);
  });
});
