/**
 * Request smuggling and framing: a body is forwarded only under a framing the gateway verified and wrote itself,
 * whatever the method, however many headers come before the framing header, and whatever `Trailer` announces.
 * Each case asserts what the client got and what the backend's own parser read.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { startGateway, type Started } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { head, rawSend, rawValues, startLoggingBackend, type LoggingBackend } from './helpers.js';

let backend: LoggingBackend;
let gw: Started;
/** The same, with header limits raised so 2,000+ headers are admitted and must still frame right. */
let wide: Started;

before(async () => {
  backend = await startLoggingBackend();
  gw = await startGateway({ backends: [{ id: 'a', url: backend.url }], sticky: false });
  wide = await startGateway({ backends: [{ id: 'a', url: backend.url }], sticky: false, limits: { maxHeaderCount: 5000, maxHeaderBytes: 1 << 20 } });
});
after(async () => {
  await gw?.close();
  await wide?.close();
  await backend?.close();
});

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n';
const chunk = (s: string): string => `${s.length.toString(16)}\r\n${s}\r\n0\r\n\r\n`;

for (const method of ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'POST', 'PUT']) {
  test(`${method} with a chunked body carrying a request: the backend reads one request, with the body framed`, { timeout: 10_000 }, async () => {
    backend.log.length = 0;
    const reply = await rawSend(gw.port, head([`${method} /carrier HTTP/1.1`, 'Host: x', 'Transfer-Encoding: chunked']) + chunk(SMUGGLED));
    assert.deepEqual(reply.statuses, [200]);
    assert.deepEqual(backend.log.map((l) => l.url), ['/carrier']);
    assert.equal(backend.log[0]?.body, SMUGGLED, 'the body arrived as a body');
    assert.deepEqual(rawValues(backend.log[0]!, 'transfer-encoding'), ['chunked']);
  });

  test(`${method} with a Content-Length body carrying a request: one request at the backend`, { timeout: 10_000 }, async () => {
    backend.log.length = 0;
    const reply = await rawSend(gw.port, head([`${method} /carrier HTTP/1.1`, 'Host: x', `Content-Length: ${SMUGGLED.length}`]) + SMUGGLED);
    assert.deepEqual(reply.statuses, [200]);
    assert.deepEqual(backend.log.map((l) => l.url), ['/carrier']);
    assert.equal(backend.log[0]?.body, SMUGGLED);
    assert.deepEqual(rawValues(backend.log[0]!, 'content-length'), [String(SMUGGLED.length)]);
  });
}

test('a body-less POST reaches the backend with content-length: 0 and no transfer coding', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  const reply = await rawSend(gw.port, head(['POST /empty HTTP/1.1', 'Host: x']));
  assert.deepEqual(reply.statuses, [200]);
  assert.deepEqual(rawValues(backend.log[0]!, 'content-length'), ['0']);
  assert.deepEqual(rawValues(backend.log[0]!, 'transfer-encoding'), []);
});

test('a GET without a body reaches the backend with no framing header at all', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  await rawSend(gw.port, head(['GET /plain HTTP/1.1', 'Host: x']));
  assert.deepEqual(rawValues(backend.log[0]!, 'content-length'), []);
  assert.deepEqual(rawValues(backend.log[0]!, 'transfer-encoding'), []);
});

test('a repeated identical Content-Length is forwarded once', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  const reply = await rawSend(gw.port, head(['POST /twice HTTP/1.1', 'Host: x', 'Content-Length: 2', 'Content-Length: 2']) + 'ok');
  if (reply.statuses[0] === 200) assert.deepEqual(rawValues(backend.log[0]!, 'content-length'), ['2']);
  else assert.deepEqual(backend.log, [], 'refused, and then nothing was forwarded');
});

const fillers = (n: number): string[] => Array.from({ length: n }, (_, i) => `X-Filler-${i}: y`);

test('2,100 filler headers then Content-Length and a smuggled body: 431, nothing forwarded', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  // The head is ~40 KB: above the default 16 KB limit too, so raise it to see the count limit answer.
  const big = await startGateway({ backends: [{ id: 'a', url: backend.url }], sticky: false, limits: { maxHeaderBytes: 1 << 20 } });
  try {
    const reply = await rawSend(big.port, head(['GET /carrier HTTP/1.1', 'Host: x', ...fillers(2100), `Content-Length: ${SMUGGLED.length}`]) + SMUGGLED);
    assert.deepEqual(reply.statuses, [431]);
    assert.equal(reply.closed, true);
    assert.deepEqual(backend.log, []);
  } finally {
    await big.close();
  }
});

test('101 headers (over the default 100): 431; 99 are forwarded, all of them', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  const over = await rawSend(gw.port, head(['GET / HTTP/1.1', 'Host: x', ...fillers(100)]));
  assert.deepEqual(over.statuses, [431]);
  assert.deepEqual(backend.log, []);
  const under = await rawSend(gw.port, head(['GET / HTTP/1.1', 'Host: x', ...fillers(98)]));
  assert.deepEqual(under.statuses, [200]);
  assert.equal(rawValues(backend.log[0]!, 'x-filler-97').length, 1);
});

test('with the count limit raised: headers past node\'s 2,000 still frame the body and meet the framing checks', { timeout: 15_000 }, async () => {
  backend.log.length = 0;
  const smuggle = await rawSend(wide.port, head(['GET /carrier HTTP/1.1', 'Host: x', ...fillers(2100), `Content-Length: ${SMUGGLED.length}`]) + SMUGGLED);
  assert.deepEqual(smuggle.statuses, [200]);
  assert.deepEqual(backend.log.map((l) => l.url), ['/carrier']);
  assert.equal(backend.log[0]?.body, SMUGGLED);
  const te10 = await rawSend(wide.port, head(['POST /x HTTP/1.0', 'Host: x', ...fillers(2100), 'Transfer-Encoding: chunked']) + chunk(SMUGGLED));
  assert.deepEqual(te10.statuses, [400]);
  const twoHosts = await rawSend(wide.port, head(['GET /x HTTP/1.1', 'Host: x', ...fillers(2100), 'Host: evil.example']));
  assert.deepEqual(twoHosts.statuses, [400]);
  assert.equal(backend.log.length, 1, 'neither refused request reached the backend');
  backend.log.length = 0;
  const distinct = await rawSend(wide.port, head(['GET /many HTTP/1.1', 'Host: x', ...fillers(1500)]));
  assert.deepEqual(distinct.statuses, [200]);
  assert.equal(backend.log[0]?.rawHeaders.filter((h, i) => i % 2 === 0 && h.startsWith('X-Filler-')).length, 1500, 'all 1,500 arrive');
});

test('Trailer on a GET without a body: answered, not forwarded as an announcement, and the gateway lives', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  const reply = await rawSend(gw.port, head(['GET / HTTP/1.1', 'Host: x', 'Trailer: x']));
  assert.deepEqual(reply.statuses, [200]);
  assert.deepEqual(rawValues(backend.log[0]!, 'trailer'), []);
  assert.equal((await request(gw.port)).status, 200);
});

test('Trailer on a chunked POST with a real trailer: the body arrives, the gateway lives', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  const reply = await rawSend(gw.port, head(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Trailer: x-sum']) + '2\r\nhi\r\n0\r\nx-sum: 1\r\n\r\n');
  assert.deepEqual(reply.statuses, [200]);
  assert.equal(backend.log[0]?.body, 'hi');
  assert.equal((await request(gw.port)).status, 200);
});

test('hop-by-hop on a plain request: Upgrade (h2c), HTTP2-Settings, Proxy-Connection, Keep-Alive, TE, Expect never reach the backend', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  const reply = await rawSend(
    gw.port,
    head(['POST / HTTP/1.1', 'Host: x', 'Connection: HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA', 'Proxy-Connection: keep-alive', 'Keep-Alive: timeout=5', 'TE: trailers', 'Expect: 100-continue', 'Content-Length: 2']) + 'hi',
  );
  assert.equal(reply.statuses.at(-1), 200);
  const seen = backend.log[0]!;
  for (const name of ['upgrade', 'http2-settings', 'proxy-connection', 'keep-alive', 'te', 'expect']) assert.deepEqual(rawValues(seen, name), [], name);
  assert.equal(seen.body, 'hi');
});

test('hop-by-hop on a response: Upgrade, Proxy-Connection, Keep-Alive and fields named in Connection are dropped', { timeout: 10_000 }, async () => {
  const b = await startLoggingBackend((_req, res) => {
    res.writeHead(200, [
      ['Upgrade', 'h2c'],
      ['Proxy-Connection', 'keep-alive'],
      ['Keep-Alive', 'timeout=5'],
      ['Connection', 'x-private'],
      ['X-Private', 'secret'],
      ['X-Public', 'yes'],
    ] as unknown as http.OutgoingHttpHeaders);
    res.end('ok');
  });
  const g = await startGateway({ backends: [{ id: 'a', url: b.url }], sticky: false });
  try {
    const reply = await request(g.port);
    assert.equal(reply.status, 200);
    for (const name of ['upgrade', 'proxy-connection', 'keep-alive', 'x-private']) assert.equal(reply.headers[name], undefined, name);
    assert.equal(reply.headers['x-public'], 'yes');
  } finally {
    await g.close();
    await b.close();
  }
});

test('junk after pipelined requests: each is answered in order, then the connection closes (no 400 read as their answer)', { timeout: 10_000 }, async () => {
  backend.log.length = 0;
  const slow = await startLoggingBackend((req, res) => setTimeout(() => res.end(req.url), req.url === '/1' ? 200 : 0));
  const g = await startGateway({ backends: [{ id: 'a', url: slow.url }], sticky: false });
  try {
    const reply = await rawSend(g.port, head(['GET /1 HTTP/1.1', 'Host: x']) + head(['GET /2 HTTP/1.1', 'Host: x']) + 'Connection: close\r\n', { idleMs: 1000 });
    assert.deepEqual(reply.statuses, [200, 200]);
    assert.ok(reply.data.indexOf('/1') < reply.data.indexOf('/2'), 'in order');
    assert.equal(reply.closed, true);
    assert.deepEqual(slow.log.map((l) => l.url), ['/1', '/2']);
  } finally {
    await g.close();
    await slow.close();
  }
});
