/** @module test/balancer/consistent-hash: ring stability, bounded loads and the keyless fallback. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsistentHashStrategy } from '../../src/balancer/index.js';
import type { Candidate } from '../../src/balancer/index.js';
import { hash32 } from '../../src/util/index.js';
import type { TestCandidate } from './fixtures.js';
import { candidates, countPicks, seededRandom } from './fixtures.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `key-${i}`);

function owners(ch: ConsistentHashStrategy, list: readonly Candidate[]): string[] {
  return KEYS.map((hashKey) => ch.pick(list, { hashKey })!.id);
}

function five(): TestCandidate[] {
  return candidates(['b1', 1], ['b2', 1], ['b3', 1], ['b4', 1], ['b5', 1]);
}

describe('hash32', () => {
  it('is deterministic, unsigned 32-bit and seed dependent', () => {
    assert.equal(hash32('backend#0'), hash32('backend#0'));
    assert.notEqual(hash32('backend#0'), hash32('backend#1'));
    assert.notEqual(hash32('x', 1), hash32('x', 2));
    for (const key of ['', 'a', 'ключ', 'key-9999']) {
      const h = hash32(key);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
    }
  });

  it('spreads similar keys over the whole range', () => {
    const buckets = new Array<number>(16).fill(0);
    for (const key of KEYS) buckets[hash32(key) >>> 28]!++;
    for (const count of buckets) assert.ok(count > 500 && count < 750, `bucket of ${count} (expected ~625)`);
  });
});

describe('ConsistentHashStrategy', () => {
  it('sends the same key to the same backend while loads are low', () => {
    const ch = new ConsistentHashStrategy();
    const list = five();
    const before = owners(ch, list);
    list.forEach((c) => (c.inflight = 1));
    assert.deepEqual(owners(new ConsistentHashStrategy(), list), before, 'another instance agrees');
    assert.deepEqual(owners(ch, [...list].reverse()), before, 'array order does not matter');
  });

  it('moves only the removed backend keys, and returns them when it comes back', () => {
    const ch = new ConsistentHashStrategy();
    const list = five();
    const before = owners(ch, list);
    const without = owners(ch, list.filter((c) => c.id !== 'b3'));
    let moved = 0;
    const receivers = new Set<string>();
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] === 'b3') {
        moved++;
        receivers.add(without[i]!);
        assert.notEqual(without[i], 'b3');
      } else {
        assert.equal(without[i], before[i], `${KEYS[i]} moved off ${before[i]}`);
      }
    }
    assert.ok(moved > 1500 && moved < 2500, `b3 held ${moved} of 10,000 keys`);
    assert.equal(receivers.size, 4, "b3's keys spread over all the others");
    const back = [list[4]!, list[2]!, list[0]!, list[3]!, list[1]!];
    assert.deepEqual(owners(ch, back), before);
  });

  it('moves a key to the next backend on the ring when its own is at capacity', () => {
    const ch = new ConsistentHashStrategy();
    const list = candidates(['a', 1], ['b', 1], ['c', 1]);
    for (const hashKey of KEYS.slice(0, 200)) {
      const home = ch.pick(list, { hashKey })!;
      const next = ch.pick(list, { hashKey, exclude: new Set([home.id]) })!;
      // capacity = ceil(1.25 * (2 + 1) / 3) = 2, and home holds 2: full.
      (home as TestCandidate).inflight = 2;
      assert.equal(ch.pick(list, { hashKey }), next);
      // Idle again, the key returns home.
      (home as TestCandidate).inflight = 0;
      assert.equal(ch.pick(list, { hashKey }), home);
    }
  });

  it('keeps every backend under ceil(1.25 * average) with a hot key and held load', () => {
    const ch = new ConsistentHashStrategy();
    const list = five();
    const random = seededRandom(11);
    const held: TestCandidate[] = [];
    const used = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      if (held.length === 200) held.shift()!.inflight--;
      // 80% of requests carry one hot key; the rest are spread.
      const hashKey = random() < 0.8 ? 'hot' : `key-${i}`;
      const picked = ch.pick(list, { hashKey }) as TestCandidate;
      picked.inflight++;
      held.push(picked);
      if (hashKey === 'hot') used.add(picked.id);
      const total = list.reduce((sum, c) => sum + c.inflight, 0);
      const bound = Math.ceil((1.25 * total) / list.length);
      assert.ok(picked.inflight <= bound, `pick ${i}: ${picked.id} holds ${picked.inflight} > ${bound}`);
    }
    assert.ok(used.size >= 4, `the hot key spilled over ${used.size} backends`);
  });

  it('gives more keys to heavier backends', () => {
    const counts = countPicks(new ConsistentHashStrategy(), candidates(['a', 4], ['b', 1]), 10_000, (i) => ({
      hashKey: KEYS[i],
    }));
    assert.ok(counts.get('a')! > 7500 && counts.get('a')! < 8500, `a got ${counts.get('a')}`);
  });

  it('ignores load with loadFactor Infinity (a plain ring)', () => {
    const ch = new ConsistentHashStrategy({ loadFactor: Infinity });
    const list = candidates(['a', 1], ['b', 1]);
    const home = ch.pick(list, { hashKey: 'k' }) as TestCandidate;
    home.inflight = 1_000;
    assert.equal(ch.pick(list, { hashKey: 'k' }), home);
  });

  it('falls back to power of two choices without a hash key', () => {
    const ch = new ConsistentHashStrategy({ random: seededRandom(2) });
    const list = candidates(['a', 1], ['b', 1], ['c', 1]);
    list[0]!.inflight = 100;
    const counts = countPicks(ch, list, 3000);
    assert.equal(counts.get('a'), undefined, 'the loaded one loses every pair');
    assert.ok(counts.get('b')! > 1000 && counts.get('c')! > 1000);
  });

  it('rejects a loadFactor below 1 and nonsense virtual node counts', () => {
    assert.throws(() => new ConsistentHashStrategy({ loadFactor: 0.9 }), RangeError);
    assert.throws(() => new ConsistentHashStrategy({ loadFactor: Number.NaN }), RangeError);
    assert.throws(() => new ConsistentHashStrategy({ pointsPerWeight: 0 }), RangeError);
  });
});
