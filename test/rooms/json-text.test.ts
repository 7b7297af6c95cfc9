/** The shared state's JSON codec: integers past 2^53 as BigInt, everything else as JSON.parse/stringify. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJson, encodeJson } from '../../src/rooms/index.js';

test('BigInts are written as integer literals and read back as BigInts, byte for byte', () => {
  const value = { a: 2n ** 53n + 1n, b: [-(2n ** 64n), 1, 'x'], c: { d: 12345678901234567890n } };
  const text = encodeJson(value);
  assert.equal(text, '{"a":9007199254740993,"b":[-18446744073709551616,1,"x"],"c":{"d":12345678901234567890}}');
  assert.deepEqual(decodeJson(text), value);
  assert.equal(encodeJson(decodeJson(text)), text);
});

test('safe numbers, floats, long digit runs inside strings and escapes are left alone', () => {
  for (const text of ['[]', '{}', '{"x":[]}', '9007199254740991', '1.2345678901234567e+30', '"12345678901234567890"', '{"s":"a\\"12345678901234567890\\"b","n":1}', '-0.5']) {
    assert.equal(encodeJson(decodeJson(text)), text, text);
  }
  assert.equal(typeof decodeJson('1.2345678901234567e+30'), 'number');
  assert.equal(decodeJson('"12345678901234567890"'), '12345678901234567890');
});

test('a value with no JSON form is refused', () => {
  assert.throws(() => encodeJson(undefined), /no JSON form/);
  assert.throws(() => decodeJson('{'), SyntaxError);
});
