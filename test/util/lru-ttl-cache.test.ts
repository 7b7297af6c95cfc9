/** @module test/util/lru-ttl-cache: LRU order, TTL expiry on an injected clock, bulk deletion, option checks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LruTtlCache } from '../../src/util/index.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('LruTtlCache', () => {
  it('returns undefined for a missing key and the value for a set one', () => {
    const cache = new LruTtlCache<string, number>({ max: 10, ttlMs: 1000 });
    assert.equal(cache.get('missing'), undefined);
    cache.set('a', 1);
    assert.equal(cache.get('a'), 1);
    assert.equal(cache.size, 1);
  });

  it('expires an entry ttlMs after its set, and reads do not extend it', () => {
    const clock = fakeClock();
    const cache = new LruTtlCache<string, number>({ max: 10, ttlMs: 50, now: clock.now });
    cache.set('a', 1);
    clock.advance(49);
    assert.equal(cache.get('a'), 1);
    clock.advance(1);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0, 'the expired entry is removed when read');
  });

  it('a new set restarts the TTL', () => {
    const clock = fakeClock();
    const cache = new LruTtlCache<string, number>({ max: 10, ttlMs: 50, now: clock.now });
    cache.set('a', 1);
    clock.advance(40);
    cache.set('a', 2);
    clock.advance(40);
    assert.equal(cache.get('a'), 2);
  });

  it('drops the oldest entry when max is reached', () => {
    const cache = new LruTtlCache<string, number>({ max: 2, ttlMs: 60_000 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    assert.equal(cache.get('a'), undefined, 'oldest dropped');
    assert.equal(cache.get('b'), 2);
    assert.equal(cache.get('c'), 3);
    assert.equal(cache.size, 2);
  });

  it('a get makes the entry most recently used', () => {
    const cache = new LruTtlCache<string, number>({ max: 2, ttlMs: 60_000 });
    cache.set('a', 1);
    cache.set('b', 2);
    assert.equal(cache.get('a'), 1);
    cache.set('c', 3);
    assert.equal(cache.get('b'), undefined, 'b was dropped, not a');
    assert.equal(cache.get('a'), 1);
    assert.equal(cache.get('c'), 3);
  });

  it('overwriting a key does not drop another entry', () => {
    const cache = new LruTtlCache<string, number>({ max: 2, ttlMs: 60_000 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 3);
    assert.equal(cache.get('b'), 2);
    assert.equal(cache.get('a'), 3);
  });

  it('delete removes one entry and says whether it was there', () => {
    const cache = new LruTtlCache<string, number>({ max: 10, ttlMs: 1000 });
    cache.set('a', 1);
    assert.equal(cache.delete('a'), true);
    assert.equal(cache.delete('a'), false);
    assert.equal(cache.get('a'), undefined);
  });

  it('clear empties the cache', () => {
    const cache = new LruTtlCache<string, number>({ max: 10, ttlMs: 1000 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.clear();
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.size, 0);
  });

  it('deleteWhere removes every matching entry and keeps the order of the rest', () => {
    const cache = new LruTtlCache<string, { owner: string }>({ max: 3, ttlMs: 60_000 });
    cache.set('a', { owner: 'm1' });
    cache.set('b', { owner: 'm2' });
    cache.set('c', { owner: 'm1' });
    assert.equal(
      cache.deleteWhere((value, key) => value.owner === 'm1' && key !== 'zzz'),
      2,
    );
    assert.equal(cache.size, 1);
    assert.deepEqual(cache.get('b'), { owner: 'm2' });
    cache.set('d', { owner: 'm3' });
    cache.set('e', { owner: 'm3' });
    cache.set('f', { owner: 'm3' });
    assert.equal(cache.get('b'), undefined, 'b was the oldest left');
  });

  it('accepts ttlMs Infinity', () => {
    const clock = fakeClock();
    const cache = new LruTtlCache<string, number>({ max: 1, ttlMs: Infinity, now: clock.now });
    cache.set('a', 1);
    clock.advance(1e12);
    assert.equal(cache.get('a'), 1);
  });

  it('rejects a bad max or ttlMs, naming the option', () => {
    assert.throws(() => new LruTtlCache({ max: 0, ttlMs: 1 }), { name: 'RangeError', message: /max/ });
    assert.throws(() => new LruTtlCache({ max: 1.5, ttlMs: 1 }), { name: 'RangeError', message: /max/ });
    assert.throws(() => new LruTtlCache({ max: 1, ttlMs: 0 }), { name: 'RangeError', message: /ttlMs/ });
    assert.throws(() => new LruTtlCache({ max: 1, ttlMs: NaN }), { name: 'RangeError', message: /ttlMs/ });
  });
});
