/** @module test/health/probe: one probe against real servers on 127.0.0.1. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import type { BackendInfo } from '../../src/config/index.js';
import { probe } from '../../src/health/index.js';
import { Upstream } from '../../src/upstream/index.js';
import { backend, deadPort, listen, settings, type TestServer } from './helpers.js';

const opts = { timeout: 5000 };

/** A server answering `status`, remembering the last request it saw. */
async function answering(status: number): Promise<TestServer & { last: () => IncomingMessage | undefined }> {
  let last: IncomingMessage | undefined;
  const s = await listen((req, res) => {
    last = req;
    res.statusCode = status;
    res.end('body that must be drained');
  });
  return Object.assign(s, { last: () => last });
}

describe('probe over HTTP', () => {
  const servers: TestServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));

  it('http algorithm counts any response, even a 500, as ok', opts, async () => {
    const s = await answering(500);
    servers.push(s);
    const r = await probe(new Upstream(backend(s.url, { algorithm: 'http' })));
    assert.equal(r.ok, true);
    assert.equal(r.status, 500);
    assert.equal(r.error, undefined);
    assert.ok(r.durationMs >= 0);
  });

  it('http-status algorithm counts only 2xx as ok', opts, async () => {
    const bad = await answering(500);
    const good = await answering(204);
    const redirect = await answering(302);
    servers.push(bad, good, redirect);
    const r500 = await probe(new Upstream(backend(bad.url, { algorithm: 'http-status' })));
    assert.deepEqual([r500.ok, r500.status, r500.error], [false, 500, 'status 500']);
    const r204 = await probe(new Upstream(backend(good.url, { algorithm: 'http-status' })));
    assert.deepEqual([r204.ok, r204.status], [true, 204]);
    const r302 = await probe(new Upstream(backend(redirect.url, { algorithm: 'http-status' })));
    assert.equal(r302.ok, false);
  });

  it('sends custom headers, Connection: close, the method and the path', opts, async () => {
    const s = await answering(200);
    servers.push(s);
    const headers = { 'x-health-token': 's3cret', Connection: 'keep-alive' };
    const r = await probe(new Upstream(backend(s.url, { headers, method: 'OPTIONS', path: '/ready' })));
    assert.equal(r.ok, true);
    const req = s.last();
    assert.ok(req);
    assert.equal(req.headers['x-health-token'], 's3cret');
    assert.equal(req.headers.connection, 'close', 'the probe forces a fresh connection per check');
    assert.equal(req.method, 'OPTIONS');
    assert.equal(req.url, '/ready');
  });

  it('honours HEAD', opts, async () => {
    const s = await answering(200);
    servers.push(s);
    const r = await probe(new Upstream(backend(s.url, { method: 'HEAD' })));
    assert.equal(r.ok, true);
    assert.equal(s.last()?.method, 'HEAD');
  });

  it('prefixes the base path of the backend URL', opts, async () => {
    const s = await answering(200);
    servers.push(s);
    const r = await probe(new Upstream(backend(`${s.url}/api/v1/`, { path: '/health' })));
    assert.equal(r.ok, true);
    assert.equal(s.last()?.url, '/api/v1/health');
  });

  it('times out against a server that never answers, and cuts its socket', opts, async () => {
    let socket: Socket | undefined;
    const s = await listen((req) => {
      socket = req.socket;
    });
    servers.push(s);
    const r = await probe(new Upstream(backend(s.url, { timeoutMs: 200 })));
    assert.equal(r.ok, false);
    assert.equal(r.error, 'timeout');
    assert.equal(r.status, undefined);
    assert.ok(r.durationMs >= 190 && r.durationMs < 1000, `took ${r.durationMs} ms`);
    assert.ok(socket);
    if (!socket.destroyed) await once(socket, 'close');
  });

  it('is not ok when the connection is refused', opts, async () => {
    const port = await deadPort();
    const r = await probe(new Upstream(backend(`http://127.0.0.1:${port}`)));
    assert.equal(r.ok, false);
    assert.equal(r.error, 'ECONNREFUSED');
  });

  it('resolves aborted when its signal fires', opts, async () => {
    const s = await listen(() => {});
    servers.push(s);
    const ac = new AbortController();
    const pending = probe(new Upstream(backend(s.url, { timeoutMs: 10_000 })), undefined, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const r = await pending;
    assert.deepEqual([r.ok, r.error], [false, 'aborted']);
    assert.ok(r.durationMs < 1000);
  });

  it('reports an invalid method as a failed probe instead of throwing', opts, async () => {
    const r = await probe(new Upstream(backend('http://127.0.0.1:1', { method: 'BAD METHOD' })));
    assert.equal(r.ok, false);
    assert.ok(r.error);
  });
});

describe('probe with a custom check', () => {
  const up = (check: (b: BackendInfo) => boolean | Promise<boolean>, timeoutMs = 1000): Upstream =>
    new Upstream({ ...backend('http://127.0.0.1:1/x', {}, 'b7'), rawId: 7, health: settings({ check, timeoutMs }) });

  it('passes { id: rawId, url } and counts true as ok', opts, async () => {
    let seen: BackendInfo | undefined;
    const r = await probe(up((b) => ((seen = b), true)));
    assert.equal(r.ok, true);
    assert.deepEqual(seen, { id: 7, url: 'http://127.0.0.1:1/x' });
  });

  it('counts an async true as ok and false as not ok', opts, async () => {
    assert.equal((await probe(up(async () => true))).ok, true);
    const r = await probe(up(() => false));
    assert.deepEqual([r.ok, r.error], [false, 'check returned false']);
  });

  it('counts a throw or a rejection as not ok', opts, async () => {
    const thrown = await probe(
      up(() => {
        throw new Error('db down');
      }),
    );
    assert.deepEqual([thrown.ok, thrown.error], [false, 'db down']);
    const rejected = await probe(up(() => Promise.reject(new Error('nope'))));
    assert.deepEqual([rejected.ok, rejected.error], [false, 'nope']);
  });

  it('times out a check that never settles', opts, async () => {
    const r = await probe(up(() => new Promise<boolean>(() => {}), 150));
    assert.deepEqual([r.ok, r.error], [false, 'timeout']);
    assert.ok(r.durationMs >= 140 && r.durationMs < 1000, `took ${r.durationMs} ms`);
  });
});
