/**
 * @module test/coordinator/allocation-strategies: the allocation strategies, re-expressing @platformatic/coordinator's strategy
 * tests, plus one conformance suite run over every built-in strategy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALLOCATION_STRATEGY_NAMES,
  LeastLoadedStrategy,
  RandomStrategy,
  RoundRobinStrategy,
  createStrategy,
  type AllocationStrategy,
  type AllocationStrategyName,
} from '../../src/coordinator/allocation-strategies.js';
import type { MemberRecord } from '../../src/coordinator/store/types.js';

const members: MemberRecord[] = [
  { memberId: 'pod-1', address: 'http://localhost:3001', load: 5 },
  { memberId: 'pod-2', address: 'http://localhost:3002', load: 2 },
  { memberId: 'pod-3', address: 'http://localhost:3003', load: 8 },
];

function picks(strategy: AllocationStrategy, list: readonly MemberRecord[], n: number): string {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(strategy.pick(list, { destinationId: `d${i}` })?.memberId ?? 'null');
  return ids.join(' ');
}

describe('allocation strategies: conformance', () => {
  for (const name of ALLOCATION_STRATEGY_NAMES) {
    describe(name, () => {
      it('returns null for an empty list', () => {
        assert.equal(createStrategy(name).pick([], {}), null);
      });

      it('returns one of the given members, the same object', () => {
        const strategy = createStrategy(name);
        for (let i = 0; i < 20; i++) {
          const picked = strategy.pick(members, {});
          assert.ok(picked && members.includes(picked));
        }
      });

      it('picks the only member of a one-member list', () => {
        const only = members[0]!;
        assert.equal(picks(createStrategy(name), [only], 3), 'pod-1 pod-1 pod-1');
      });

      it('works without a destinationId in the context', () => {
        assert.ok(createStrategy(name).pick(members, {}));
      });
    });
  }
});

describe('RoundRobinStrategy', () => {
  it('cycles through members in order', () => {
    assert.equal(picks(new RoundRobinStrategy(), members, 4), 'pod-1 pod-2 pod-3 pod-1');
  });

  it('keeps cycling when the list shrinks', () => {
    const rr = new RoundRobinStrategy();
    assert.equal(picks(rr, members, 2), 'pod-1 pod-2');
    assert.equal(picks(rr, members.slice(0, 2), 3), 'pod-1 pod-2 pod-1');
  });

  it('accepts a call without a context (platformatic 1.x callers)', () => {
    assert.equal(new RoundRobinStrategy().pick(members)?.memberId, 'pod-1');
  });
});

describe('LeastLoadedStrategy', () => {
  it('picks the member with the lowest load', () => {
    const picked = new LeastLoadedStrategy().pick(members, {});
    assert.equal(picked?.memberId, 'pod-2');
    assert.equal(picked?.load, 2);
  });

  it('breaks ties round robin among the tied members only', () => {
    const tied: MemberRecord[] = [
      { memberId: 'pod-a', address: 'http://a', load: 3 },
      { memberId: 'pod-b', address: 'http://b', load: 3 },
      { memberId: 'pod-c', address: 'http://c', load: 5 },
    ];
    assert.equal(picks(new LeastLoadedStrategy(), tied, 4), 'pod-a pod-b pod-a pod-b');
  });

  it('follows load changes between picks', () => {
    const ll = new LeastLoadedStrategy();
    assert.equal(ll.pick(members, {})?.memberId, 'pod-2');
    const changed = members.map((m) => (m.memberId === 'pod-2' ? { ...m, load: 9 } : m));
    assert.equal(ll.pick(changed, {})?.memberId, 'pod-1');
  });
});

describe('RandomStrategy', () => {
  it('spreads picks over the members', () => {
    const ids = new Set<string>();
    const strategy = new RandomStrategy();
    for (let i = 0; i < 50; i++) ids.add(strategy.pick(members, {})!.memberId);
    assert.ok(ids.size > 1, 'random should pick different members');
  });

  it('maps the injected random source onto the list, never past its end', () => {
    const values = [0, 0.34, 0.67, 0.9999999999999999];
    const strategy = new RandomStrategy({ random: () => values.shift() ?? 0 });
    assert.equal(picks(strategy, members, 4), 'pod-1 pod-2 pod-3 pod-3');
  });
});

describe('createStrategy', () => {
  it('returns the strategy a name stands for', () => {
    assert.ok(createStrategy('round-robin') instanceof RoundRobinStrategy);
    assert.ok(createStrategy('least-loaded') instanceof LeastLoadedStrategy);
    assert.ok(createStrategy('random') instanceof RandomStrategy);
  });

  it('returns a fresh instance each time (no shared cursor)', () => {
    assert.notEqual(createStrategy('round-robin'), createStrategy('round-robin'));
  });

  it('passes through an object with a pick() method', () => {
    const custom: AllocationStrategy = { pick: (list) => list.at(-1) ?? null };
    assert.equal(createStrategy(custom), custom);
    assert.equal(createStrategy(custom).pick(members, {})?.memberId, 'pod-3');
  });

  it('throws a TypeError naming the accepted values for an unknown name (no silent fallback)', () => {
    for (const bad of ['unknown', 'toString', '__proto__', 42, null, {}]) {
      assert.throws(
        () => createStrategy(bad as AllocationStrategyName),
        (err: unknown) =>
          err instanceof TypeError && /round-robin, least-loaded, random/.test(err.message) && /pick\(\)/.test(err.message),
        `for ${String(bad)}`,
      );
    }
  });
});
