/**
 * Answers no well-behaved backend sends, written byte for byte by a raw TCP backend: announced trailers on a
 * framing that cannot carry them, impossible status codes, an unasked-for 101. The gateway answers the client
 * (the backend's answer or a 502 of its own) and keeps serving; it never exits.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Started } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { head, rawSend, startRawBackend, type RawBackend } from './helpers.js';

let backend: RawBackend;
let gw: Started;

before(async () => {
  backend = await startRawBackend();
  gw = await startGateway({ backends: [{ id: 'a', url: backend.url }], sticky: false, retries: false, outlier: false });
});
after(async () => {
  await gw?.close();
  await backend?.close();
});

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

const cases: { name: string; reply: string; status: number; method?: string; version?: string; body?: string }[] = [
  { name: 'Content-Length with Trailer', reply: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTrailer: Server-Timing\r\n\r\nok', status: 200, body: 'ok' },
  { name: '204 with Trailer', reply: 'HTTP/1.1 204 No Content\r\nTrailer: Server-Timing\r\n\r\n', status: 204 },
  { name: '304 with Trailer', reply: 'HTTP/1.1 304 Not Modified\r\nTrailer: Server-Timing\r\n\r\n', status: 304 },
  { name: 'Trailer on the answer to HEAD', reply: 'HTTP/1.1 200 OK\r\nTrailer: Server-Timing\r\n\r\n', status: 200, method: 'HEAD' },
  { name: 'chunked with Trailer to an HTTP/1.0 client', reply: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n2\r\nok\r\n0\r\nx-sum: 1\r\n\r\n', status: 200, version: '1.0', body: 'ok' },
  { name: 'status 000', reply: 'HTTP/1.1 000 Zero\r\ncontent-length: 2\r\n\r\nok', status: 502 },
  { name: 'status 099', reply: 'HTTP/1.1 099 Low\r\ncontent-length: 2\r\n\r\nok', status: 502 },
  { name: 'an unasked-for 101', reply: 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n', status: 502 },
  { name: 'Content-Length with Transfer-Encoding', reply: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', status: 502 },
  { name: 'a NUL in a header value', reply: 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\ncontent-length: 2\r\n\r\nok', status: 502 },
  { name: 'a body shorter than its Content-Length', reply: 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nok', status: 200 },
  { name: 'garbage instead of HTTP', reply: 'SSH-2.0-OpenSSH_9.0\r\n\r\n', status: 502 },
];

for (const c of cases) {
  test(`backend answers ${c.name}: the client gets ${c.status} and the gateway keeps serving`, { timeout: 10_000 }, async () => {
    backend.reply = c.reply;
    const reply = await rawSend(gw.port, head([`${c.method ?? 'GET'} / HTTP/${c.version ?? '1.1'}`, 'Host: x', 'Connection: close']));
    assert.equal(reply.statuses[0], c.status, JSON.stringify(reply.data.slice(0, 200)));
    if (c.body !== undefined) assert.ok(reply.data.includes(c.body), 'the body is relayed');
    backend.reply = OK;
    assert.equal((await request(gw.port)).status, 200, 'the gateway is alive and serving');
  });
}

test('chunked with a Trailer to an HTTP/1.1 client: the trailer is relayed', { timeout: 10_000 }, async () => {
  backend.reply = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n2\r\nok\r\n0\r\nx-sum: 1\r\n\r\n';
  const reply = await request(gw.port);
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'ok');
  assert.equal(reply.trailers['x-sum'], '1');
  backend.reply = OK;
});
