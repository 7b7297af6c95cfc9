import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { deadPort, startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';

const backends: TestBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

function assertJsonError(body: string, code: string): void {
  const parsed = JSON.parse(body) as { error: string; code: string };
  assert.equal(parsed.code, code);
  assert.equal(typeof parsed.error, 'string');
  assert.doesNotMatch(parsed.error, /127\.0\.0\.1|ECONN|localhost/);
}

test('503 with a JSON body when no backend is healthy', async () => {
  const port = await deadPort();
  const gw = await startGateway({ backends: [{ id: 1, url: `http://127.0.0.1:${port}` }] });
  try {
    const r = await request(gw.port);
    assert.equal(r.status, 503);
    assert.match(String(r.headers['content-type']), /application\/json/);
    assertJsonError(r.body, 'KW_ERR_PROXY_NO_BACKEND');
  } finally {
    await gw.close();
  }
});

test('502 when the chosen backend refuses the connection', async () => {
  const a = await startBackend('a');
  backends.push(a);
  const gw = await startGateway({ backends: [{ id: 1, url: a.url }] });
  try {
    await a.close(); // health still says up: the next request meets a refused connection
    const r = await request(gw.port);
    assert.equal(r.status, 502);
    assertJsonError(r.body, 'KW_ERR_PROXY_UPSTREAM');
  } finally {
    await gw.close();
  }
});

test('502 when the backend resets before responding, and 502 when it sends garbage', async () => {
  const reset = await startBackend('reset', (req) => req.socket.destroy());
  const garbage = net.createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => s.end('THIS IS NOT HTTP\r\n\r\n'));
  });
  garbage.listen(0, '127.0.0.1');
  await once(garbage, 'listening');
  backends.push(reset);
  const g1 = await startGateway({ health: { check: () => true }, backends: [{ id: 1, url: reset.url }] });
  const g2 = await startGateway({
    health: { check: () => true },
    backends: [{ id: 1, url: `http://127.0.0.1:${(garbage.address() as net.AddressInfo).port}` }],
  });
  try {
    const r1 = await request(g1.port);
    assert.equal(r1.status, 502);
    assertJsonError(r1.body, 'KW_ERR_PROXY_UPSTREAM');
    const r2 = await request(g2.port);
    assert.equal(r2.status, 502);
    assertJsonError(r2.body, 'KW_ERR_PROXY_UPSTREAM');
  } finally {
    await g1.close();
    await g2.close();
    garbage.close();
  }
});

test('504 when the backend does not answer within timeouts.responseMs', async () => {
  const slow = await startBackend('slow', () => undefined /* never answers */);
  backends.push(slow);
  const gw = await startGateway({ timeouts: { responseMs: 200 }, backends: [{ id: 1, url: slow.url }] });
  try {
    const t0 = Date.now();
    const r = await request(gw.port);
    assert.equal(r.status, 504);
    assertJsonError(r.body, 'KW_ERR_PROXY_TIMEOUT');
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(gw.gateway.backends[0]?.activeConnections, 0, 'counter released');
  } finally {
    await gw.close();
  }
});

test('a response that already started is cut when the backend dies mid-body, never presented as complete', async () => {
  const dying = await startBackend('dying', (_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write('x'.repeat(100));
    setTimeout(() => res.socket?.destroy(), 50);
  });
  backends.push(dying);
  const gw = await startGateway({ backends: [{ id: 1, url: dying.url }] });
  try {
    await assert.rejects(request(gw.port), /aborted|ECONNRESET|socket hang up|terminated/);
  } finally {
    await gw.close();
  }
});

test('non origin-form request targets get 400 and are never forwarded', async () => {
  const a = await startBackend('a');
  backends.push(a);
  const gw = await startGateway({ backends: [{ id: 1, url: a.url }] });
  try {
    for (const target of ['http://evil.example/', '//evil.example/x']) {
      const s = net.connect(gw.port, '127.0.0.1');
      s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      let data = '';
      s.on('data', (c) => (data += c));
      await once(s, 'end');
      assert.match(data, /^HTTP\/1\.1 400/);
    }
    assert.equal(a.hits, 0);
    assert.equal((await request(gw.port)).status, 200, 'still serving');
  } finally {
    await gw.close();
  }
});
