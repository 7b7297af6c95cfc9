/** @module test/coordinator/ttl-cache: `TTLCache`, platformatic's exported cache: defaults, expiry, LRU order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TTLCache } from '../../src/coordinator/index.js';

describe('TTLCache', () => {
  it('keeps a value for its ttl, evicts the least recently used past max, and clears', async () => {
    const cache = new TTLCache<string, number>({ ttl: 40, max: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    assert.equal(cache.get('a'), 1); // a is now the most recently used
    cache.set('c', 3);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 1);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(cache.get('a'), undefined, 'expired');
    cache.set('d', 4);
    cache.clear();
    assert.equal(cache.get('d'), undefined);
  });

  it('defaults to 5 s and 10,000 entries', () => {
    const cache = new TTLCache<number, number>();
    for (let i = 0; i < 10_001; i++) cache.set(i, i);
    assert.equal(cache.get(0), undefined);
    assert.equal(cache.get(10_000), 10_000);
  });
});
