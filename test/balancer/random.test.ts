/** @module test/balancer/random: weighted draws, exclusions and cache invalidation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RandomStrategy } from '../../src/balancer/index.js';
import { candidates, countPicks, seededRandom } from './fixtures.js';

describe('RandomStrategy', () => {
  it('maps the injected uniform value onto the weight intervals', () => {
    const list = candidates(['a', 1], ['zero', 0], ['b', 3]);
    const at = (u: number) => new RandomStrategy({ random: () => u }).pick(list, {})?.id;
    assert.equal(at(0), 'a');
    assert.equal(at(0.2499), 'a');
    assert.equal(at(0.25), 'b');
    assert.equal(at(1 - Number.EPSILON / 2), 'b');
  });

  it('stays weighted among the rest when some are excluded', () => {
    const list = candidates(['a', 6], ['b', 3], ['c', 1]);
    const counts = countPicks(new RandomStrategy({ random: seededRandom(4) }), list, 10_000, () => ({
      exclude: new Set(['a']),
    }));
    assert.ok(Math.abs(counts.get('b')! - 7500) < 300, `b got ${counts.get('b')}`);
    assert.equal(counts.get('a'), undefined);
  });

  it('notices a weight changed in place on the same array', () => {
    const random = new RandomStrategy({ random: seededRandom(8) });
    const list = candidates(['a', 1], ['b', 1]);
    assert.equal(countPicks(random, list, 1000).size, 2);
    (list[1] as { weight: number }).weight = 0;
    assert.deepEqual([...countPicks(random, list, 1000)], [['a', 1000]]);
  });
});
