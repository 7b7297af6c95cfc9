/** @module test/replication/facts: register values (codec, validation) and the (atMs, by) write order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareStamps, decodeFact, encodeFact, isNewerStamp, RegisterBook } from '../../src/replication/index.js';

describe('fact codec', () => {
  it('round-trips admin and backend facts', () => {
    for (const fact of [{}, { state: 'draining' as const }, { weight: 0 }, { state: 'disabled' as const, weight: 3 }]) {
      assert.deepEqual(decodeFact('admin', encodeFact('admin', fact)), { ok: true, fact });
    }
    const added = { removed: false as const, spec: { id: 'api-3', url: 'http://10.0.0.3:80', weight: 2, pool: 'api' } };
    assert.deepEqual(decodeFact('backend', encodeFact('backend', added)), { ok: true, fact: added });
    assert.deepEqual(decodeFact('backend', encodeFact('backend', { removed: true })), { ok: true, fact: { removed: true } });
  });

  it('drops unknown fields (a newer writer may add some)', () => {
    assert.deepEqual(decodeFact('admin', '{"state":"enabled","color":"red"}'), { ok: true, fact: { state: 'enabled' } });
    assert.deepEqual(decodeFact('backend', '{"removed":true,"spec":{"id":"x"}}'), { ok: true, fact: { removed: true } });
  });

  const malformed: readonly ['admin' | 'backend', string, RegExp][] = [
    ['admin', 'not json', /not JSON/],
    ['admin', 'null', /not an object/],
    ['admin', '[1]', /not an object/],
    ['admin', '{"state":"paused"}', /state/],
    ['admin', '{"state":1}', /state/],
    ['admin', '{"weight":1.5}', /weight/],
    ['admin', '{"weight":-1}', /weight/],
    ['admin', '{"weight":"2"}', /weight/],
    ['backend', '{}', /removed/],
    ['backend', '{"removed":"yes"}', /removed/],
    ['backend', '{"removed":false}', /spec/],
    ['backend', '{"removed":false,"spec":[]}', /spec/],
    ['backend', '"x"', /not an object/],
  ];
  for (const [kind, value, reason] of malformed) {
    it(`refuses ${kind} ${value} without throwing`, () => {
      const decoded = decodeFact(kind, value);
      assert.equal(decoded.ok, false);
      if (!decoded.ok) assert.match(decoded.reason, reason);
    });
  }

  it('refuses to encode a fact that would not decode', () => {
    assert.throws(() => encodeFact('admin', { weight: -1 }), TypeError);
    assert.throws(() => encodeFact('backend', { removed: false, spec: null as unknown as Record<string, unknown> }), TypeError);
  });
});

describe('write order', () => {
  it('orders by atMs, then by writer', () => {
    assert.ok(compareStamps({ atMs: 1, by: 'z' }, { atMs: 2, by: 'a' }) < 0);
    assert.ok(compareStamps({ atMs: 2, by: 'b' }, { atMs: 2, by: 'a' }) > 0);
    assert.equal(compareStamps({ atMs: 2, by: 'a' }, { atMs: 2, by: 'a' }), 0);
  });

  it('compares writers in UTF-8 byte order, as the stores do', () => {
    // UTF-16 code units put U+10000 (a surrogate pair, 0xD800...) before U+FFFF; UTF-8 bytes do not.
    assert.ok(compareStamps({ atMs: 1, by: '\u{10000}' }, { atMs: 1, by: '\uffff' }) > 0);
  });

  it('isNewerStamp: strictly after, or nothing held', () => {
    assert.equal(isNewerStamp({ atMs: 1, by: 'a' }, undefined), true);
    assert.equal(isNewerStamp({ atMs: 1, by: 'a' }, { atMs: 1, by: 'a' }), false);
    assert.equal(isNewerStamp({ atMs: 1, by: 'b' }, { atMs: 1, by: 'a' }), true);
  });
});

describe('RegisterBook', () => {
  const reg = (id: string, atMs: number, by: string) => ({ id, value: '{}', atMs, by });

  it('applies each write once and ignores older ones', () => {
    const book = new RegisterBook();
    assert.equal(book.isNew('admin', reg('x', 10, 'a')), true);
    book.remember('admin', reg('x', 10, 'a'));
    assert.equal(book.isNew('admin', reg('x', 10, 'a')), false);
    assert.equal(book.isNew('admin', reg('x', 9, 'z')), false);
    assert.equal(book.isNew('backend', reg('x', 9, 'z')), true, 'kinds are separate');
  });

  it('stamps a new write after the last one seen, even one from a clock ahead of ours', () => {
    const book = new RegisterBook();
    assert.equal(book.nextAtMs('admin', 'x', 100), 100);
    book.remember('admin', reg('x', 500, 'b'));
    assert.equal(book.nextAtMs('admin', 'x', 100), 501);
    assert.equal(book.nextAtMs('admin', 'x', 900), 900);
  });

  it('re-seeds what it knows with the TTL left, skipping expired and malformed values', () => {
    const book = new RegisterBook();
    book.remember('admin', reg('x', 1000, 'a'));
    book.remember('backend', reg('y', 100, 'b'));
    book.remember('admin', reg('z', 1000, 'b'), false);
    book.remember('admin', reg('ahead', 5000, 'c'));
    const out = [...book.reseeds(1000, 1500)].map((r) => [r.kind, r.register.id, r.ttlMs]);
    assert.deepEqual(out, [['admin', 'x', 500], ['admin', 'ahead', 1000]]);
  });
});
