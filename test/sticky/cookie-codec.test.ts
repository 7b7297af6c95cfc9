import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StickyCookieCodec, readCookie, compileKeyExtractor } from '../../src/sticky/index.js';
import type { IncomingMessage } from 'node:http';

test('sign/verify round trip; other secrets, edits and junk verify as null', () => {
  const codec = new StickyCookieCodec('k1');
  for (const id of ['a', '1', 'backend with spaces', 'ünïcode', '__proto__']) {
    assert.equal(codec.verify(codec.sign(id)), id);
  }
  const foreign = new StickyCookieCodec('k2').sign('a');
  assert.equal(codec.verify(foreign), null);
  const good = codec.sign('a');
  const [idPart, mac] = good.split('.') as [string, string];
  assert.equal(codec.verify(`${Buffer.from('b').toString('base64url')}.${mac}`), null);
  assert.equal(codec.verify(`${idPart}.${mac.slice(0, -1)}A`), null);
  for (const junk of ['', '.', 'a.', '.b', 'a', 'a.b.c', '%%%.%%%', 'x'.repeat(5000)]) assert.equal(codec.verify(junk), null);
  assert.throws(() => new StickyCookieCodec(''), TypeError);
});

test('readCookie finds a cookie at a pair boundary only', () => {
  assert.equal(readCookie('a=1; keyway_sticky=v; b=2', 'keyway_sticky'), 'v');
  assert.equal(readCookie('xkeyway_sticky=bad; keyway_sticky=good', 'keyway_sticky'), 'good');
  assert.equal(readCookie('keyway_stickyx=1', 'keyway_sticky'), undefined);
  assert.equal(readCookie(undefined, 'a'), undefined);
  assert.equal(readCookie('a=', 'a'), '');
});

test('hashKey extractors read header, cookie, query and ip', () => {
  const req = {
    headers: { 'x-tenant': 't1', cookie: 'sid=abc' },
    url: '/p?user=u%201&x=2',
    socket: { remoteAddress: '10.1.2.3' },
  } as unknown as IncomingMessage;
  assert.equal(compileKeyExtractor('header:X-Tenant')(req), 't1');
  assert.equal(compileKeyExtractor('cookie:sid')(req), 'abc');
  assert.equal(compileKeyExtractor('query:user')(req), 'u 1');
  assert.equal(compileKeyExtractor('query:none')(req), undefined);
  assert.equal(compileKeyExtractor('ip')(req), '10.1.2.3');
});
