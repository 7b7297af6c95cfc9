/**
 * @module test/balancer/strategies.conformance: the contract every strategy keeps, run over all of
 * STRATEGY_NAMES and a custom function.
 *
 * Weight shares are checked in two regimes, each meaningful for every strategy:
 * - idle (inflight stays 0): load-aware strategies see only ties, and ties follow the weights
 *   (least-connections breaks them by smooth weighted round robin, p2c keeps its first, weighted draw);
 * - steady load: each pick holds its candidate's inflight for the next 60 picks, i.e. 60 requests in
 *   flight of equal length. 60 is 10x the total weight, enough for inflight/weight to track the weights;
 *   with fewer requests than weight units (say 3) least-connections cannot honour 3:2:1 and is not expected to.
 * consistent-hash is given 10,000 distinct keys `key-${i}`, so its shares measure the ring's spread.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStrategy } from '../../src/balancer/index.js';
import type { Candidate, PickContext, Strategy } from '../../src/balancer/index.js';
import { STRATEGY_NAMES } from '../../src/config/index.js';
import type { CustomStrategyFn } from '../../src/config/index.js';
import { candidates, countPicks, countPicksUnderLoad, seededRandom } from './fixtures.js';

/** A well-behaved custom function: weighted random over the non-excluded, positive-weight candidates. */
function weightedRandomFn(random: () => number): CustomStrategyFn {
  return (list, ctx) => {
    const allowed = list.filter((c) => c.weight > 0 && !ctx.exclude?.has(c.id));
    let target = random() * allowed.reduce((sum, c) => sum + c.weight, 0);
    for (const candidate of allowed) {
      target -= candidate.weight;
      if (target < 0) return candidate;
    }
    return allowed.at(-1) ?? null;
  };
}

interface Subject {
  readonly label: string;
  readonly make: () => Strategy;
  /** The context of the i-th pick: a distinct key for consistent-hash, none for the others. */
  readonly ctxOf: (i: number, exclude?: ReadonlySet<string>) => PickContext;
}

const subjects: Subject[] = [
  ...STRATEGY_NAMES.map((name) => ({
    label: name,
    make: () => createStrategy(name, { random: seededRandom(7) }),
    ctxOf:
      name === 'consistent-hash'
        ? (i: number, exclude?: ReadonlySet<string>) => ({ hashKey: `key-${i}`, exclude })
        : (_i: number, exclude?: ReadonlySet<string>) => ({ exclude }),
  })),
  {
    label: 'custom',
    make: () => createStrategy(weightedRandomFn(seededRandom(7))),
    ctxOf: (_i, exclude) => ({ exclude }),
  },
];

function assertShares(counts: Map<string, number>, list: readonly Candidate[], total: number): void {
  const weightSum = list.reduce((sum, c) => sum + c.weight, 0);
  for (const { id, weight } of list) {
    const share = ((counts.get(id) ?? 0) / total) * 100;
    const expected = (weight / weightSum) * 100;
    const detail = `${id}: ${share.toFixed(2)}% picked, expected ${expected.toFixed(2)}% ± 3`;
    assert.ok(Math.abs(share - expected) <= 3, detail);
  }
  assert.equal(counts.get('null'), undefined, 'no pick may be null while candidates are pickable');
}

for (const subject of subjects) {
  describe(`strategy conformance: ${subject.label}`, () => {
    it('has a name', () => {
      assert.equal(subject.make().name, subject.label);
    });

    it('returns null on an empty list', () => {
      const strategy = subject.make();
      assert.equal(strategy.pick([], subject.ctxOf(0)), null);
      assert.equal(strategy.pick([], {}), null);
      assert.equal(strategy.pick([], { hashKey: 'k' }), null);
    });

    it('never returns an excluded id', () => {
      const strategy = subject.make();
      const list = candidates(['a', 3], ['b', 2], ['c', 1]);
      const exclude = new Set(['a', 'c']);
      for (let i = 0; i < 1000; i++) {
        const picked = strategy.pick(list, subject.ctxOf(i, i % 2 === 0 ? exclude : new Set(['a'])));
        assert.ok(picked !== null, `pick ${i} was null`);
        assert.ok(picked.id !== 'a' && (i % 2 !== 0 || picked.id === 'b'), `pick ${i} returned ${picked.id}`);
      }
    });

    it('returns the only non-excluded candidate, and null when all are excluded', () => {
      const strategy = subject.make();
      const list = candidates(['a', 1], ['b', 5], ['c', 2]);
      for (let i = 0; i < 50; i++) {
        assert.equal(strategy.pick(list, subject.ctxOf(i, new Set(['a', 'b'])))?.id, 'c');
        assert.equal(strategy.pick(list, subject.ctxOf(i, new Set(['a', 'b', 'c']))), null);
      }
    });

    it('returns a candidate object from the list itself', () => {
      const strategy = subject.make();
      const list = candidates(['a', 1], ['b', 1]);
      const picked = strategy.pick(list, subject.ctxOf(0));
      assert.ok(picked !== null && list.includes(picked));
    });

    it('never picks a candidate of weight 0 (or less)', () => {
      const strategy = subject.make();
      const list = candidates(['a', 1], ['zero', 0], ['b', 2], ['negative', -1]);
      const counts = countPicks(strategy, list, 2000, (i) => subject.ctxOf(i));
      assert.deepEqual([...counts.keys()].sort(), ['a', 'b']);
      const onlyZero = candidates(['zero', 0], ['negative', -1]);
      for (let i = 0; i < 20; i++) assert.equal(strategy.pick(onlyZero, subject.ctxOf(i)), null);
    });

    it('follows weights 3:2:1 within ±3 points over 10,000 idle picks', () => {
      const list = candidates(['a', 3], ['b', 2], ['c', 1]);
      assertShares(countPicks(subject.make(), list, 10_000, (i) => subject.ctxOf(i)), list, 10_000);
    });

    it('follows weights 3:2:1 within ±3 points over 10,000 picks under a steady load of 60', () => {
      const list = candidates(['a', 3], ['b', 2], ['c', 1]);
      const counts = countPicksUnderLoad(subject.make(), list, 10_000, 60, (i) => subject.ctxOf(i));
      assertShares(counts, list, 10_000);
      assert.deepEqual(list.map((c) => c.inflight), [0, 0, 0], 'the simulation released what it held');
    });
  });
}
