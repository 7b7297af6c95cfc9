import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';

const backends: TestBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

test('hop-by-hop headers, and those named in Connection, are stripped both ways; X-Forwarded-* are set', async () => {
  const a = await startBackend('a', (req, res) => {
    res.writeHead(200, [
      'content-type', 'text/plain',
      'connection', 'x-internal, keep-alive',
      'keep-alive', 'timeout=99',
      'x-internal', 'secret',
      'x-multi', 'one',
      'x-multi', 'two',
    ]);
    res.end('ok');
  });
  backends.push(a);
  const gw = await startGateway({ backends: [{ id: 1, url: a.url }] });
  try {
    const r = await request(gw.port, {
      path: '/p?q=1',
      headers: {
        host: 'app.example:8443',
        connection: 'x-hop, keep-alive',
        'x-hop': 'drop me',
        'keep-alive': 'timeout=9',
        'proxy-authorization': 'Basic Zm9v',
        te: 'trailers',
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'spoofed.example',
        'x-keep': 'yes',
      },
    });
    assert.equal(r.status, 200);
    const h = a.lastHeaders!;
    assert.equal(h['x-keep'], 'yes');
    for (const gone of ['x-hop', 'keep-alive', 'proxy-authorization', 'te']) assert.equal(h[gone], undefined, gone);
    assert.equal(h.host, 'app.example:8443', 'client Host kept');
    assert.equal(h['x-forwarded-for'], '127.0.0.1', 'untrusted peer: replaced, not appended');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'app.example:8443');
    assert.equal(r.headers['x-internal'], undefined);
    assert.notEqual(r.headers['keep-alive'], 'timeout=99', 'the backend\'s Keep-Alive is not passed on (node sets its own)');
    assert.equal(r.headers['x-multi'], 'one, two', 'repeated fields kept');
  } finally {
    await gw.close();
  }
});

test('X-Forwarded-For is appended to only when the peer is a trusted proxy', async () => {
  const a = await startBackend('a');
  backends.push(a);
  const gw = await startGateway({ trustedProxies: ['127.0.0.1'], backends: [{ id: 1, url: a.url }] });
  try {
    await request(gw.port, { headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'edge.example' } });
    assert.equal(a.lastHeaders!['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(a.lastHeaders!['x-forwarded-proto'], 'https');
    assert.equal(a.lastHeaders!['x-forwarded-host'], 'edge.example');
  } finally {
    await gw.close();
  }
});

test('preserveHost: false sends the backend address as Host', async () => {
  const a = await startBackend('a');
  backends.push(a);
  const gw = await startGateway({ preserveHost: false, backends: [{ id: 1, url: a.url }] });
  try {
    await request(gw.port, { headers: { host: 'public.example' } });
    assert.equal(a.lastHeaders!.host, `127.0.0.1:${a.port}`);
    assert.equal(a.lastHeaders!['x-forwarded-host'], 'public.example');
  } finally {
    await gw.close();
  }
});

test('status, repeated headers, chunked bodies and trailers are preserved; a base path is prefixed', async () => {
  const a = await startBackend('a', (req, res) => {
    res.writeHead(201, 'Made It', { 'content-type': 'text/plain', trailer: 'x-checksum', 'set-cookie': ['s1=1', 's2=2'] });
    res.write(`path=${req.url};`);
    res.write('chunk2');
    res.addTrailers({ 'x-checksum': 'abc123' });
    res.end();
  });
  backends.push(a);
  const gw = await startGateway({ sticky: false, backends: [{ id: 1, url: `${a.url}/base/` }] });
  try {
    const s = net.connect(gw.port, '127.0.0.1');
    s.write('GET /items?x=1 HTTP/1.1\r\nHost: t\r\nTE: trailers\r\nConnection: close\r\n\r\n');
    let raw = '';
    s.on('data', (c) => (raw += c));
    await once(s, 'end');
    assert.match(raw, /^HTTP\/1\.1 201 Made It\r\n/);
    assert.match(raw, /set-cookie: s1=1\r\nset-cookie: s2=2/i);
    assert.match(raw, /transfer-encoding: chunked/i);
    assert.match(raw, /path=\/base\/items\?x=1;/);
    assert.match(raw, /x-checksum: abc123/i, 'trailer forwarded');
  } finally {
    await gw.close();
  }
});
