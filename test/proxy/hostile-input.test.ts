/**
 * Hostile and malformed requests sent on raw sockets: each gets its status, nothing reaches the backend, and the
 * gateway keeps serving. Most are refused by node's parser (llhttp) through `onClientError`; duplicate Host and
 * transfer codings other than `chunked` are refused by the gateway's own framing check (proxy/request-framing).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway, type Started } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { until } from '../helpers/wait.js';
import { rawExchange } from '../helpers/raw.js';

const MAX_HEADER_BYTES = 2048;

let backend: TestBackend;
let gw: Started;

before(async () => {
  backend = await startBackend('a');
  gw = await startGateway({ backends: [{ id: 1, url: backend.url }], limits: { maxHeaderBytes: MAX_HEADER_BYTES } });
});
after(async () => {
  await gw.close();
  await backend.close();
});


function statusOf(reply: string): number {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(reply);
  return m ? Number(m[1]) : 0;
}

const head = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;

const cases: { name: string; raw: string; status: number }[] = [
  { name: 'Content-Length with Transfer-Encoding', raw: head(['POST / HTTP/1.1', 'Host: x', 'Content-Length: 5', 'Transfer-Encoding: chunked']) + '0\r\n\r\n', status: 400 },
  { name: 'Transfer-Encoding with Content-Length', raw: head(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Content-Length: 5']) + '0\r\n\r\n', status: 400 },
  { name: 'two differing Content-Length', raw: head(['POST / HTTP/1.1', 'Host: x', 'Content-Length: 5', 'Content-Length: 6']) + 'hello!', status: 400 },
  { name: 'a Content-Length list', raw: head(['POST / HTTP/1.1', 'Host: x', 'Content-Length: 5, 6']) + 'hello!', status: 400 },
  { name: 'a signed Content-Length', raw: head(['POST / HTTP/1.1', 'Host: x', 'Content-Length: +5']) + 'hello', status: 400 },
  { name: 'obs-fold with a space', raw: head(['GET / HTTP/1.1', 'Host: x', 'X-A: a', ' folded']), status: 400 },
  { name: 'obs-fold with a tab', raw: head(['GET / HTTP/1.1', 'Host: x', 'X-A: a', '\tfolded']), status: 400 },
  { name: 'absolute-form target', raw: head(['GET http://x/ HTTP/1.1', 'Host: x']), status: 400 },
  { name: '//host target', raw: head(['GET //evil.example/x HTTP/1.1', 'Host: x']), status: 400 },
  { name: 'asterisk-form target', raw: head(['OPTIONS * HTTP/1.1', 'Host: x']), status: 400 },
  { name: 'oversized head', raw: head(['GET / HTTP/1.1', 'Host: x', `X-Big: ${'a'.repeat(MAX_HEADER_BYTES * 2)}`]), status: 431 },
  { name: 'NUL in a header value', raw: head(['GET / HTTP/1.1', 'Host: x', 'X-A: a\x00b']), status: 400 },
  { name: '\\x01 in a header value', raw: head(['GET / HTTP/1.1', 'Host: x', 'X-A: a\x01b']), status: 400 },
  { name: 'bare CR in a header value', raw: head(['GET / HTTP/1.1', 'Host: x', 'X-A: a\rb']), status: 400 },
  { name: 'a space in a header name', raw: head(['GET / HTTP/1.1', 'Host: x', 'X A: b']), status: 400 },
  { name: 'a space before the colon', raw: head(['GET / HTTP/1.1', 'Host: x', 'X-A : b']), status: 400 },
  { name: 'bare LF line endings', raw: 'GET / HTTP/1.1\nHost: x\n\n', status: 400 },
  { name: 'Transfer-Encoding: chunked, identity', raw: head(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked, identity']) + '0\r\n\r\n', status: 400 },
  { name: 'Transfer-Encoding: garbage', raw: head(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: garbage']), status: 400 },
  { name: 'Transfer-Encoding: identity', raw: head(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: identity']), status: 400 },
  { name: 'Transfer-Encoding: chunked twice', raw: head(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked']) + '0\r\n\r\n', status: 400 },
  { name: 'no Host', raw: head(['GET / HTTP/1.1']), status: 400 },
  // The next three pass llhttp; the gateway's framing check refuses them.
  { name: 'two Host headers', raw: head(['GET / HTTP/1.1', 'Host: x', 'Host: y']), status: 400 },
  { name: 'Transfer-Encoding on HTTP/1.0', raw: head(['POST / HTTP/1.0', 'Host: x', 'Transfer-Encoding: chunked']) + '0\r\n\r\n', status: 400 },
  { name: 'Transfer-Encoding: gzip, chunked', raw: head(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: gzip, chunked']) + '0\r\n\r\n', status: 400 },
];

for (const c of cases) {
  test(`${c.name}: ${c.status}, never forwarded, and the gateway keeps serving`, { timeout: 10_000 }, async () => {
    const hitsBefore = backend.hits;
    const reply = await rawExchange(gw.port, c.raw);
    assert.equal(statusOf(reply), c.status, `reply: ${JSON.stringify(reply.slice(0, 120))}`);
    assert.match(reply, /\r\nconnection: close\r\n/i);
    assert.equal(backend.hits, hitsBefore, 'nothing reached the backend');
    const ok = await request(gw.port);
    assert.equal(ok.status, 200);
    assert.equal(backend.hits, hitsBefore + 1);
  });
}

test('a hostile request after a good one on the same keep-alive connection: the first is answered, the second refused', { timeout: 10_000 }, async () => {
  const hitsBefore = backend.hits;
  const s = net.connect(gw.port, '127.0.0.1');
  s.setEncoding('latin1');
  s.on('error', () => undefined);
  let data = '';
  const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
  const answered = new Promise<void>((resolve) => {
    s.on('data', (c: string) => {
      data += c;
      if (data.endsWith('\r\n\r\na')) resolve(); // the backend's whole body is its name
    });
  });
  s.write(head(['GET / HTTP/1.1', 'Host: x']));
  await answered;
  s.write(head(['POST / HTTP/1.1', 'Host: x', 'Content-Length: 4', 'Transfer-Encoding: chunked']) + '0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
  await closed;
  const statuses = [...data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 400]);
  assert.equal(backend.hits, hitsBefore + 1, 'only the good request was forwarded');
});

test('a WebSocket upgrade with two Host headers is refused before it reaches the backend', { timeout: 10_000 }, async () => {
  const hitsBefore = backend.hits;
  let upgrades = 0;
  const onUpgrade = (): void => void upgrades++;
  backend.server.on('upgrade', onUpgrade);
  try {
    const reply = await rawExchange(
      gw.port,
      head(['GET /ws HTTP/1.1', 'Host: x', 'Host: y', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']),
    );
    assert.equal(statusOf(reply), 400);
    assert.equal(upgrades, 0);
    assert.equal(backend.hits, hitsBefore);
    await until(() => gw.gateway.backends[0]?.activeConnections === 0);
  } finally {
    backend.server.off('upgrade', onUpgrade);
  }
});


test('a malformed chunk after the backend started answering cuts the connection; no error is written into the response', { timeout: 10_000 }, async () => {
  const streaming = await startBackend('streaming', (req, res) => {
    if (req.method === 'GET') return void res.end('ok');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('started;');
    req.on('data', () => undefined);
  });
  const g = await startGateway({ backends: [{ id: 1, url: streaming.url }] });
  try {
    const s = net.connect(g.port, '127.0.0.1');
    s.setEncoding('latin1');
    s.on('error', () => undefined);
    let data = '';
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    const started = new Promise<void>((resolve) => {
      s.on('data', (c: string) => {
        data += c;
        if (data.includes('started;')) resolve();
      });
    });
    s.write(head(['POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked']) + '3\r\nabc\r\n');
    await started;
    s.write('zz-not-a-chunk-size\r\n');
    await closed;
    assert.match(data, /^HTTP\/1\.1 200 /);
    assert.doesNotMatch(data, /HTTP\/1\.1 400/, 'no second status line inside the body');
    await until(() => g.gateway.backends[0]?.activeConnections === 0);
    assert.equal((await request(g.port)).status, 200);
  } finally {
    await g.close();
    await streaming.close();
  }
});
