/**
 * What a request head may claim: its Host must be `host[:port]`, its version HTTP/1.x, and claims about the
 * client's address from any proxy convention reach the backend only from a trusted peer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Started } from '../helpers/gateway.js';
import { head, rawSend, rawValues, startLoggingBackend, type LoggingBackend } from './helpers.js';

let backend: LoggingBackend;
let gw: Started;
let trusting: Started;

before(async () => {
  backend = await startLoggingBackend();
  gw = await startGateway({ backends: [{ id: 'a', url: backend.url }], sticky: false });
  trusting = await startGateway({ backends: [{ id: 'a', url: backend.url }], sticky: false, trustedProxies: ['127.0.0.1'] });
});
after(async () => {
  await gw?.close();
  await trusting?.close();
  await backend?.close();
});

const ADDRESS_CLAIMS: [string, string][] = [
  ['Forwarded', 'for=10.0.0.1;proto=https'],
  ['X-Real-IP', '10.0.0.1'],
  ['X-Client-IP', '10.0.0.1'],
  ['True-Client-IP', '10.0.0.1'],
  ['X-Forwarded-Port', '443'],
  ['X-Forwarded-Server', 'edge'],
  ['X-Cluster-Client-IP', '10.0.0.1'],
  ['CF-Connecting-IP', '10.0.0.1'],
  ['Fastly-Client-IP', '10.0.0.1'],
  ['X-Forwarded-For', '10.0.0.1'],
  ['X-Forwarded-Proto', 'https'],
  ['X-Forwarded-Host', 'evil.example'],
];

test('from an untrusted peer, no claim about the client address reaches the backend; X-Forwarded-* are the gateway\'s own', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  const reply = await rawSend(gw.port, head(['GET / HTTP/1.1', 'Host: shop.example', ...ADDRESS_CLAIMS.map(([n, v]) => `${n}: ${v}`)]));
  assert.deepEqual(reply.statuses, [200]);
  const seen = backend.log[0]!;
  for (const [name] of ADDRESS_CLAIMS.slice(0, 9)) assert.deepEqual(rawValues(seen, name), [], name);
  assert.deepEqual(rawValues(seen, 'x-forwarded-for'), ['127.0.0.1']);
  assert.deepEqual(rawValues(seen, 'x-forwarded-proto'), ['http']);
  assert.deepEqual(rawValues(seen, 'x-forwarded-host'), ['shop.example']);
});

test('from a trusted proxy, the claims are kept and X-Forwarded-For is extended', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  await rawSend(trusting.port, head(['GET / HTTP/1.1', 'Host: shop.example', ...ADDRESS_CLAIMS.map(([n, v]) => `${n}: ${v}`)]));
  const seen = backend.log[0]!;
  for (const [name, value] of ADDRESS_CLAIMS.slice(0, 9)) assert.deepEqual(rawValues(seen, name), [value], name);
  assert.deepEqual(rawValues(seen, 'x-forwarded-for'), ['10.0.0.1, 127.0.0.1']);
  assert.deepEqual(rawValues(seen, 'x-forwarded-proto'), ['https']);
});

const BAD_HOSTS = ['user:pass@evil.example', 'evil.example/x', 'evil example', '', 'a.example,b.example', 'a.example:', 'a.example:99999', 'a.example:8o', '[::1', '[zz]:80', 'evil.example\\x', 'evil.example?x', 'evil.example#x', "evil'.example"];

for (const host of BAD_HOSTS) {
  test(`Host ${JSON.stringify(host)}: 400, nothing forwarded`, { timeout: 10_000 }, async () => {
    backend.log.length = 0;
    const reply = await rawSend(gw.port, head(['GET / HTTP/1.1', `Host: ${host}`]));
    assert.deepEqual(reply.statuses, [400], JSON.stringify(reply.data.slice(0, 120)));
    assert.deepEqual(backend.log, []);
  });
}

for (const host of ['example.com', 'Example.COM:8080', '127.0.0.1', '127.0.0.1:65535', '[::1]', '[::1]:80', 'my_host.internal', 'localhost']) {
  test(`Host ${JSON.stringify(host)} is forwarded as it came`, { timeout: 10_000 }, async () => {
    backend.log.length = 0;
    const reply = await rawSend(gw.port, head(['GET / HTTP/1.1', `Host: ${host}`]));
    assert.deepEqual(reply.statuses, [200]);
    assert.deepEqual(rawValues(backend.log[0]!, 'host'), [host]);
  });
}

test('HTTP/1.0 without Host is forwarded with the backend\'s host and no empty X-Forwarded-Host claim from the client', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  const reply = await rawSend(gw.port, 'GET / HTTP/1.0\r\n\r\n');
  assert.deepEqual(reply.statuses, [200]);
  assert.equal(backend.log.length, 1);
});

test('HTTP/0.9 (a request line without a version): refused, nothing forwarded', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  const reply = await rawSend(gw.port, 'GET /\r\n\r\n');
  assert.ok(reply.statuses.length === 0 ? reply.closed : reply.statuses[0] === 400, JSON.stringify(reply.data));
  assert.deepEqual(backend.log, []);
});

test('HTTP/2.0 or HTTP/1.2 in a request line: refused, nothing forwarded', { timeout: 10_000 }, async () => {
  for (const version of ['2.0', '1.2', '3.0']) {
    backend.log.length = 0;
    const reply = await rawSend(gw.port, head([`GET / HTTP/${version}`, 'Host: x']));
    assert.ok(reply.statuses.length === 0 ? reply.closed : reply.statuses[0]! >= 400, `${version}: ${JSON.stringify(reply.data)}`);
    assert.deepEqual(backend.log, [], version);
  }
});
