/** Backend side of the boot handshake: hashes, and the node:http, Express-style and Fastify adapters. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import {
  canonicalJson,
  createBootHandshake,
  DEFAULT_BOOT_PATH,
  hashSetting,
  processBootId,
  type BootHandshakeBody,
} from '../../src/backend/index.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function request(port: number, path: string, method = 'GET'): Promise<Reply> {
  const req = http.request({ host: '127.0.0.1', port, path, method, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  let body = '';
  res.setEncoding('utf8');
  for await (const chunk of res) body += chunk as string;
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}

async function serve(listener: http.RequestListener): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('canonicalJson and hashes', () => {
  it('sorts keys at every depth and follows JSON for undefined, toJSON and non-finite numbers', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, undefined], c: NaN }, e: undefined }), '{"a":{"c":null,"d":[1,null]},"b":1}');
    assert.equal(canonicalJson(new Date(0)), '"1970-01-01T00:00:00.000Z"');
    assert.equal(canonicalJson(undefined), 'null');
  });

  it('encodes Map and Set by content, not insertion order', () => {
    assert.equal(canonicalJson(new Set([2, 1])), canonicalJson(new Set([1, 2])));
    assert.notEqual(canonicalJson(new Set([1])), canonicalJson(new Set([2])));
    assert.equal(canonicalJson(new Map([['b', 1], ['a', 2]])), '[["a",2],["b",1]]');
  });

  it('throws on cycles and bigints but accepts a shared sub-object', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => canonicalJson(cyclic), TypeError);
    assert.throws(() => canonicalJson(1n), TypeError);
    const shared = { x: 1 };
    assert.equal(canonicalJson([shared, shared]), '[{"x":1},{"x":1}]');
  });

  it('hashes each setting and the whole set; values are not in the answer', () => {
    const h = createBootHandshake({ settings: { NODE_ENV: 'production', schema: { version: 3, tables: ['a'] } }, bootId: 'boot-1' });
    assert.equal(h.settings.NODE_ENV, sha('"production"'));
    assert.equal(h.settings.schema, hashSetting({ tables: ['a'], version: 3 }));
    assert.equal(h.settingsHash, sha(canonicalJson(h.settings)));
    assert.deepEqual(h.body(), { bootId: 'boot-1', settingsHash: h.settingsHash, settings: { ...h.settings }, keyway: 1 });
    assert.ok(!JSON.stringify(h.body()).includes('production'));
  });

  it('gives equal settings in another key order the same settingsHash, and different ones another', () => {
    const a = createBootHandshake({ settings: { x: 1, y: { p: 1, q: 2 } } });
    const b = createBootHandshake({ settings: { y: { q: 2, p: 1 }, x: 1 } });
    const c = createBootHandshake({ settings: { x: 2, y: { p: 1, q: 2 } } });
    assert.equal(a.settingsHash, b.settingsHash);
    assert.notEqual(a.settingsHash, c.settingsHash);
  });

  it('defaults to one random boot id per process and the well-known path', () => {
    const a = createBootHandshake();
    const b = createBootHandshake();
    assert.match(a.bootId, /^[0-9a-f-]{36}$/);
    assert.equal(a.bootId, b.bootId);
    assert.equal(a.bootId, processBootId());
    assert.equal(a.path, DEFAULT_BOOT_PATH);
    assert.deepEqual(a.settings, {});
  });

  it('rejects a path without a leading slash or with a query, and an empty boot id', () => {
    assert.throws(() => createBootHandshake({ path: 'boot' }), TypeError);
    assert.throws(() => createBootHandshake({ path: '/boot?x=1' }), TypeError);
    assert.throws(() => createBootHandshake({ bootId: '' }), TypeError);
  });
});

describe('handle() on node:http', () => {
  const h = createBootHandshake({ settings: { NODE_ENV: 'test' }, bootId: 'boot-http' });
  let server: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    server = await serve((req, res) => {
      if (h.handle(req, res)) return;
      res.end('app');
    });
  });
  after(() => server.close());

  it('answers GET with the JSON, no-store, ignoring the query string', async () => {
    const r = await request(server.port, `${DEFAULT_BOOT_PATH}?probe=1`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.headers['content-type'] ?? '', /^application\/json/);
    const body = JSON.parse(r.body) as BootHandshakeBody;
    assert.deepEqual(body, h.body());
  });

  it('answers HEAD with headers only', async () => {
    const r = await request(server.port, DEFAULT_BOOT_PATH, 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(JSON.stringify(h.body())));
  });

  it('answers other methods on the path with 405 and Allow', async () => {
    const r = await request(server.port, DEFAULT_BOOT_PATH, 'POST');
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET, HEAD');
  });

  it('leaves every other path to the app', async () => {
    for (const path of ['/', `${DEFAULT_BOOT_PATH}/x`, '/.well-known/keyway']) {
      const r = await request(server.port, path);
      assert.equal(r.body, 'app', path);
    }
  });
});

describe('express() middleware on a real Express 5 app', () => {
  const h = createBootHandshake({ path: '/boot', bootId: 'boot-express' });
  let server: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    const app = express();
    app.use(h.express);
    app.get('/other', (_req, res) => {
      res.type('text/plain').send('app');
    });
    server = await serve(app);
  });
  after(() => server.close());

  it('answers GET on the path with the JSON and no-store, ignoring the query string', async () => {
    const r = await request(server.port, '/boot?probe=1');
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(r.body), h.body());
  });

  it('answers HEAD with headers only and other methods with 405 and Allow', async () => {
    const head = await request(server.port, '/boot', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const post = await request(server.port, '/boot', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  it('passes every other path on to the app', async () => {
    const r = await request(server.port, '/other');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'app');
    assert.equal((await request(server.port, '/boot/x')).status, 404);
  });
});

describe('fastify plugin on a real Fastify 5 app', () => {
  const h = createBootHandshake({ settings: { a: 1 }, bootId: 'boot-fastify' });
  const app = Fastify();
  let port: number;
  before(async () => {
    app.get('/', async () => ({ app: 'root' }));
    await app.register(h.fastify);
    app.get('/other', async (_request, reply) => reply.type('text/plain').send('app'));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  after(() => app.close());

  it('answers GET on the path with the JSON, no-store and a JSON content-type', async () => {
    const r = await request(port, DEFAULT_BOOT_PATH);
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(r.body), h.body());
  });

  it('ignores the query string', async () => {
    const r = await request(port, `${DEFAULT_BOOT_PATH}?probe=1&x=%2F`);
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as BootHandshakeBody).bootId, 'boot-fastify');
  });

  it('answers HEAD with headers only', async () => {
    const r = await request(port, DEFAULT_BOOT_PATH, 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.headers['content-type'] ?? '', /^application\/json/);
  });

  it("keeps the app's other routes, registered before and after the plugin", async () => {
    const root = await request(port, '/');
    assert.deepEqual(JSON.parse(root.body), { app: 'root' });
    const other = await request(port, '/other');
    assert.equal(other.status, 200);
    assert.equal(other.body, 'app');
    assert.equal((await request(port, `${DEFAULT_BOOT_PATH}/x`)).status, 404);
  });
});

describe('fastify plugin: registration quirks', () => {
  it('keeps the exact path under a register prefix and serves HEAD with exposeHeadRoutes off', async () => {
    const h = createBootHandshake({ path: '/boot', bootId: 'boot-fastify-prefix' });
    const app = Fastify({ exposeHeadRoutes: false });
    try {
      await app.register(h.fastify, { prefix: '/api' });
      app.get('/api/other', async () => 'app');
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = (app.server.address() as AddressInfo).port;
      const get = await request(port, '/boot');
      assert.equal(get.status, 200);
      assert.equal((JSON.parse(get.body) as BootHandshakeBody).bootId, 'boot-fastify-prefix');
      assert.equal((await request(port, '/api/boot')).status, 404);
      const head = await request(port, '/boot', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.headers['cache-control'], 'no-store');
      assert.equal((await request(port, '/api/other')).body, 'app');
    } finally {
      await app.close();
    }
  });
});
