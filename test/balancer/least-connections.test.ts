/** @module test/balancer/least-connections: lowest inflight/weight wins; ties rotate by weight. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeastConnectionsStrategy } from '../../src/balancer/index.js';
import type { TestCandidate } from './fixtures.js';
import { candidates } from './fixtures.js';

function withInflight(list: TestCandidate[], ...inflight: number[]): TestCandidate[] {
  list.forEach((c, i) => (c.inflight = inflight[i] ?? 0));
  return list;
}

function picks(lc: LeastConnectionsStrategy, list: readonly TestCandidate[], n: number): string {
  return Array.from({ length: n }, () => lc.pick(list, {})?.id).join(' ');
}

describe('LeastConnectionsStrategy', () => {
  it('prefers the lowest inflight per unit of weight', () => {
    const lc = new LeastConnectionsStrategy();
    assert.equal(lc.pick(withInflight(candidates(['a', 1], ['b', 1], ['c', 1]), 3, 1, 2), {})?.id, 'b');
    // Same inflight, b has twice the weight: 4/2 < 4/1.
    assert.equal(lc.pick(withInflight(candidates(['a', 1], ['b', 2]), 4, 4), {})?.id, 'b');
    // 1/1 < 4/3 although b has the higher weight.
    assert.equal(lc.pick(withInflight(candidates(['a', 1], ['b', 3]), 1, 4), {})?.id, 'a');
  });

  it('alternates between equal idle candidates', () => {
    const lc = new LeastConnectionsStrategy();
    assert.equal(picks(lc, candidates(['a', 1], ['b', 1]), 6), 'a b a b a b');
    assert.equal(picks(lc, withInflight(candidates(['a', 1], ['b', 1], ['c', 1]), 2, 2, 2), 6), 'a b c a b c');
  });

  it('rotates among the tied ones only', () => {
    const lc = new LeastConnectionsStrategy();
    assert.equal(picks(lc, withInflight(candidates(['a', 1], ['b', 1], ['c', 1]), 0, 5, 0), 6), 'a c a c a c');
  });

  it('breaks ties by weight, so idle traffic still follows the weights', () => {
    const lc = new LeastConnectionsStrategy();
    assert.equal(picks(lc, candidates(['a', 2], ['b', 1]), 6), 'a b a a b a');
  });

  it('reacts to load as it changes', () => {
    const lc = new LeastConnectionsStrategy();
    const list = candidates(['a', 1], ['b', 1], ['c', 1]);
    for (let i = 0; i < 30; i++) lc.pick(list, {})!.inflight++;
    assert.deepEqual(list.map((c) => c.inflight), [10, 10, 10]);
    list[0]!.inflight = 0;
    assert.equal(lc.pick(list, {})?.id, 'a');
  });
});
