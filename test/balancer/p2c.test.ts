/** @module test/balancer/p2c: power of two choices steers away from loaded candidates. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { P2CStrategy } from '../../src/balancer/index.js';
import { candidates, countPicks, seededRandom } from './fixtures.js';

describe('P2CStrategy', () => {
  it('avoids a heavily loaded candidate', () => {
    const p2c = new P2CStrategy({ random: seededRandom(3) });
    const list = candidates(['a', 1], ['b', 1], ['hot', 1], ['c', 1], ['d', 1]);
    list[2]!.inflight = 50;
    list.forEach((c, i) => i !== 2 && (c.inflight = i));
    const counts = countPicks(p2c, list, 10_000);
    // Every pair that holds hot also holds a less loaded candidate, so hot never wins; allow 1% anyway.
    assert.ok((counts.get('hot') ?? 0) <= 100, `hot picked ${counts.get('hot')} times`);
    // Among the others, the least loaded wins most often.
    assert.ok(counts.get('a')! > counts.get('d')!);
  });

  it('picks the lower inflight/weight of two, weights included', () => {
    const p2c = new P2CStrategy({ random: seededRandom(5) });
    const list = candidates(['a', 1], ['b', 4]);
    list[0]!.inflight = 2;
    list[1]!.inflight = 4; // 4/4 < 2/1
    for (let i = 0; i < 100; i++) assert.equal(p2c.pick(list, {})?.id, 'b');
  });

  it('returns the only candidate as is', () => {
    const p2c = new P2CStrategy({ random: seededRandom(1) });
    const list = candidates(['solo', 1]);
    list[0]!.inflight = 1000;
    assert.equal(p2c.pick(list, {}), list[0]);
  });

  it('draws two distinct candidates with exclusions too', () => {
    const p2c = new P2CStrategy({ random: seededRandom(9) });
    const list = candidates(['a', 1], ['b', 1], ['c', 1], ['d', 1]);
    list[1]!.inflight = 9;
    const counts = countPicks(p2c, list, 3000, () => ({ exclude: new Set(['a', 'c']) }));
    // Only b and d remain: every pick compares them, so loaded b never wins.
    assert.deepEqual([...counts], [['d', 3000]]);
  });

  it('uses Math.random by default', () => {
    const counts = countPicks(new P2CStrategy(), candidates(['a', 1], ['b', 1]), 1000);
    assert.ok(counts.get('a')! > 300 && counts.get('b')! > 300);
  });
});
