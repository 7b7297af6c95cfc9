/** @module test/balancer/round-robin: smooth weighted round robin's exact sequences. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoundRobinStrategy } from '../../src/balancer/index.js';
import type { Candidate } from '../../src/balancer/index.js';
import { candidates } from './fixtures.js';

function sequence(rr: RoundRobinStrategy, list: readonly Candidate[], n: number, exclude?: Set<string>): string {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(rr.pick(list, { exclude })?.id ?? 'null');
  return ids.join(' ');
}

describe('RoundRobinStrategy', () => {
  it("gives nginx's sequence a a b a c a a for weights 5:1:1, and repeats it", () => {
    const rr = new RoundRobinStrategy();
    const list = candidates(['a', 5], ['b', 1], ['c', 1]);
    assert.equal(sequence(rr, list, 7), 'a a b a c a a');
    assert.equal(sequence(rr, list, 7), 'a a b a c a a');
    assert.equal(sequence(rr, list, 7), 'a a b a c a a');
  });

  it('never picks the same candidate twice in a row when weights are equal', () => {
    const rr = new RoundRobinStrategy();
    const list = candidates(['a', 2], ['b', 2], ['c', 2], ['d', 2]);
    let previous = '';
    for (let i = 0; i < 400; i++) {
      const id = rr.pick(list, {})!.id;
      assert.notEqual(id, previous, `pick ${i} repeated ${id}`);
      previous = id;
    }
    assert.equal(sequence(rr, list, 4), 'a b c d');
  });

  it('keeps its place in the cycle when the pool hands out a new array with the same ids', () => {
    const rr = new RoundRobinStrategy();
    const list = candidates(['a', 5], ['b', 1], ['c', 1]);
    const first = sequence(rr, list, 3);
    const rest = sequence(rr, [...list], 4);
    assert.equal(`${first} ${rest}`, 'a a b a c a a');
  });

  it('lets excluded candidates sit out without gaining weight', () => {
    const rr = new RoundRobinStrategy();
    const list = candidates(['a', 1], ['b', 1], ['c', 1]);
    assert.equal(sequence(rr, list, 4, new Set(['b'])), 'a c a c');
    // b banked nothing while it sat out, so it does not burst now: the plain cycle resumes.
    assert.equal(sequence(rr, list, 6), 'a b c a b c');
  });

  it('follows a weight change even within the same array', () => {
    const rr = new RoundRobinStrategy();
    const list = candidates(['a', 1], ['b', 1]);
    assert.equal(sequence(rr, list, 2), 'a b');
    (list[1] as { weight: number }).weight = 0;
    assert.equal(sequence(rr, list, 3), 'a a a');
  });
});
