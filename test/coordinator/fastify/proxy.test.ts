/**
 * What crosses the coordinator: the answer streamed (not buffered), end-to-end headers only, the request body
 * in each supported shape, the forwarded request headers, timeouts (504) and a client leaving mid-request.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { lookupAndProxy, proxyRequest, streamReply } from '../../../src/index.js';
import type { Registry } from '../../../src/index.js';
import { request } from '../../helpers/http.js';
import { startRedisServer, waitFor, type RedisServer } from '../../helpers/redis.js';
import { fixture, json, portOf, type Fixture, type Pod } from './pods.js';

const idParam = (req: { params: unknown }): string => (req.params as { id: string }).id;

/** Resolves when `gate.open()` is called; rejects after `ms` so a buffering proxy fails fast instead of hanging. */
function gate(ms = 5000): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gate never opened')), ms);
    open = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  wait.catch(() => undefined);
  return { wait, open };
}

describe('Fastify integration: what is proxied', () => {
  let server: RedisServer;
  let fx: Fixture;
  let pod: Pod;
  let registry: Registry;
  let app: FastifyInstance;
  let port: number;
  let lastChunkGate = gate();
  const slowRequestClosed: boolean[] = [];

  before(async () => {
    server = await startRedisServer();
    fx = fixture(server);
    pod = await fx.pod('pod-s', {
      routes: [
        ['GET', /\/stream$/, (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first\n');
          void lastChunkGate.wait.then(() => res.end('last\n'), () => res.destroy());
        }],
        ['GET', /\/headers(\?|$)/, (req, res) => {
          res.setHeader('x-pod', 'pod-s');
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res.setHeader('x-hop', 'drop me');
          res.setHeader('connection', 'x-hop');
          res.setHeader('keep-alive', 'timeout=5');
          json(res, 200, req.headers);
        }],
        ['GET', /\/slow$/, (req) => {
          req.socket.once('close', () => slowRequestClosed.push(true));
        }],
        ['GET', /\/silent-body$/, (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('partial');
        }],
      ],
    });
    registry = await fx.registry({ requestTimeout: 400 });
    await registry.addPodToDestination('s1', 'pod-s');
    app = Fastify();
    const proxy = lookupAndProxy(registry, { destinationFrom: idParam });
    app.get('/d/:id/*', proxy);
    app.post('/d/:id/*', proxy);
    app.register(async (raw) => {
      // No parser reads these: the raw request stream goes upstream untouched.
      raw.addContentTypeParser('application/octet-stream', (_req, _payload, done) => done(null));
      // This one hands the stream over as the body.
      raw.addContentTypeParser('application/x-ndjson', (_req, payload, done) => done(null, payload));
      raw.post('/raw/:id/*', proxy);
    });
    app.get('/custom/:id', async (req, reply) => {
      const owner = await registry.resolveDestination(idParam(req));
      const upstream = await proxyRequest(owner?.address ?? '', req, { reply, upstreamPath: '/items/custom?x=1' });
      return streamReply(reply, upstream);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = portOf(app.server);
  });
  after(async () => {
    lastChunkGate.open();
    await app?.close();
    await fx?.close();
    await server?.stop();
  });

  it('streams the answer: the client reads the first chunk before the pod sends the last', async () => {
    lastChunkGate = gate();
    const seen: string[] = [];
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/d/s1/stream', agent: false }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          seen.push(chunk);
          if (chunk.includes('first')) lastChunkGate.open();
        });
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    assert.equal(status, 200);
    assert.equal(seen.join(''), 'first\nlast\n');
    assert.ok(seen.length >= 2, 'two separate chunks reached the client');
  });

  it('sends end-to-end response headers back and drops hop-by-hop ones', async () => {
    const res = await request(port, { path: '/d/s1/headers' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-pod'], 'pod-s');
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(res.headers['x-hop'], undefined, 'named by Connection');
    assert.equal(res.headers['keep-alive'], undefined);
  });

  it('forwards the allow-listed request headers and X-Forwarded-*, not the rest', async () => {
    const res = await request(port, {
      path: '/d/s1/headers?q=1',
      headers: { authorization: 'Bearer t', accept: 'application/json', cookie: 'session=secret', 'x-custom': 'no', 'x-request-id': 'r-1' },
    });
    const seen = JSON.parse(res.body) as Record<string, string>;
    assert.equal(seen.authorization, 'Bearer t');
    assert.equal(seen.accept, 'application/json');
    assert.equal(seen['x-request-id'], 'r-1');
    assert.equal(seen.cookie, undefined);
    assert.equal(seen['x-custom'], undefined);
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], `127.0.0.1:${port}`);
    assert.equal(pod.seen.at(-1)?.url, '/d/s1/headers?q=1', 'path and query as the client sent them');
  });

  it('sends a parsed JSON body re-serialised, and a text body as it is', async () => {
    const jsonRes = await request(port, { method: 'POST', path: '/d/s1/raw', headers: { 'content-type': 'application/json' }, body: '{"a": [1, 2]}' });
    assert.deepEqual(JSON.parse(jsonRes.body), { pod: 'pod-s', method: 'POST', type: 'application/json', length: 11, text: '{"a":[1,2]}' });
    const textRes = await request(port, { method: 'POST', path: '/d/s1/raw', headers: { 'content-type': 'text/plain' }, body: 'plain words' });
    assert.equal((JSON.parse(textRes.body) as { text: string }).text, 'plain words');
    assert.equal((JSON.parse(textRes.body) as { type: string }).type, 'text/plain');
  });

  it('pipes an unread body (or one a parser handed over as a stream) unchanged', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'kw');
    const res = await request(port, { method: 'POST', path: '/raw/s1/raw', headers: { 'content-type': 'application/octet-stream' }, body: big });
    assert.equal(res.status, 200);
    const answer = JSON.parse(res.body) as { length: number; type: string };
    assert.equal(answer.length, big.length);
    assert.equal(answer.type, 'application/octet-stream');
    const seen = pod.seen.at(-1)?.body ?? Buffer.alloc(0);
    assert.equal(createHash('sha256').update(seen).digest('hex'), createHash('sha256').update(big).digest('hex'));
    const nd = await request(port, { method: 'POST', path: '/raw/s1/raw', headers: { 'content-type': 'application/x-ndjson' }, body: '{"a":1}\n{"b":2}\n' });
    assert.equal((JSON.parse(nd.body) as { text: string }).text, '{"a":1}\n{"b":2}\n');
  });

  it('504 JSON when the pod does not answer within requestTimeout (no retry)', async () => {
    const before = pod.seen.length;
    const res = await request(port, { path: '/d/s1/slow' });
    assert.equal(res.status, 504);
    assert.deepEqual(JSON.parse(res.body), { error: 'Gateway timeout: the destination did not answer in time', code: 'KW_ERR_PROXY_TIMEOUT' });
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(pod.seen.length, before + 1);
  });

  it('a pod silent in the middle of its body: the client response is cut, not ended as if whole', async () => {
    await assert.rejects(request(port, { path: '/d/s1/silent-body' }));
  });

  it('a client that leaves aborts the upstream request', async () => {
    const count = slowRequestClosed.length;
    const appNoTimeout = Fastify();
    const patient = await fx.registry({});
    appNoTimeout.get('/d/:id/*', lookupAndProxy(patient, { destinationFrom: idParam }));
    await appNoTimeout.listen({ port: 0, host: '127.0.0.1' });
    try {
      const seenBefore = pod.seen.length;
      const req = http.get({ host: '127.0.0.1', port: portOf(appNoTimeout.server), path: '/d/s1/slow', agent: false });
      req.on('error', () => undefined);
      await waitFor('the pod to get the request', async () => pod.seen.length > seenBefore, 5000);
      req.destroy();
      await waitFor('the pod to see its request closed', async () => slowRequestClosed.length > count, 5000);
    } finally {
      await appNoTimeout.close();
    }
  });

  it('proxyRequest + streamReply: the building blocks for a custom route (upstreamPath)', async () => {
    const res = await request(port, { path: '/custom/s1' });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { id: 'custom', served: true, pod: 'pod-s', url: '/items/custom?x=1' });
  });

  it("proxyRequest takes a minimal request and resolves to undici's response data, as platformatic's does", async () => {
    const owner = await fx.registry().then((r) => r.resolveDestination('s1'));
    assert.ok(owner);
    const res = await proxyRequest(owner.address ?? '', { method: 'GET', url: '/items/minimal', body: undefined } as never);
    assert.equal(res.statusCode, 200);
    const body = (await res.body.json()) as { id: string; pod: string };
    assert.deepEqual([body.id, body.pod], ['minimal', 'pod-s']);
    const gone = await proxyRequest('http://127.0.0.1:9', { method: 'GET', url: '/' } as never).catch((err: Error) => err);
    assert.ok(gone instanceof Error && /Bad gateway/.test(gone.message), String(gone));
  });
});
