import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import os from 'node:os';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/index.js';
import { backendSet, deadPort, startBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { samplesOf, valueOf } from './prom-text.js';

const TOKEN = 'metrics-token';

const start = backendSet();
after(() => start.closeAll());

/** A non-loopback IPv4 address of this machine, or undefined when it has none. */
function externalAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

function statusFrom(host: string, port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req = http.get({ host, port, path, headers, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

test('GET /_lb/metrics counts requests by backend and status class, with gauges and the latency histogram', async () => {
  const [a] = await start('a');
  const failing = await startBackend('err', (req, res) => {
    req.resume();
    res.statusCode = 500;
    res.end('no');
  });
  start.track(failing);
  const gw = await startGateway({ sticky: false, admin: { token: TOKEN }, backends: [{ id: 'a', url: a!.url }, { id: 'err', url: failing.url, weight: 0 }] });
  try {
    for (let i = 0; i < 5; i++) assert.equal((await request(gw.port)).status, 200);
    assert.equal((await request(gw.port, { path: '/nope?x=1' })).status, 200);

    const r = await request(gw.port, { path: '/_lb/metrics' });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] ?? '', /^text\/plain/);
    const text = r.body;
    assert.equal(valueOf(text, 'keyway_requests_total', { backend: 'a', code_class: '2xx' }), 6);
    assert.equal(valueOf(text, 'keyway_backend_up', { backend: 'a' }), 1);
    assert.equal(valueOf(text, 'keyway_backend_up', { backend: 'err' }), 1);
    assert.equal(valueOf(text, 'keyway_inflight_requests', { backend: 'a' }), 0);
    const buckets = samplesOf(text, 'keyway_upstream_response_seconds_bucket').filter((s) => s.labels.backend === 'a');
    assert.ok(buckets.length > 5, 'histogram buckets for a');
    assert.equal(buckets.find((s) => s.labels.le === '+Inf')?.value, 6);
    assert.equal(valueOf(text, 'keyway_upstream_response_seconds_count', { backend: 'a' }), 6);
    assert.match(text, /# TYPE keyway_requests_total counter/);
    // Admin requests are not proxied traffic.
    assert.equal(samplesOf(text, 'keyway_requests_total').length, 1);

    // 5xx from a backend, then 503s the gateway answers itself.
    gw.gateway.setWeight('a', 0);
    gw.gateway.setWeight('err', 1);
    assert.equal((await request(gw.port)).status, 500);
    gw.gateway.setWeight('err', 0);
    for (let i = 0; i < 3; i++) assert.equal((await request(gw.port)).status, 503);
    const after1 = (await request(gw.port, { path: '/_lb/metrics' })).body;
    assert.equal(valueOf(after1, 'keyway_requests_total', { backend: 'err', code_class: '5xx' }), 1);
    assert.equal(valueOf(after1, 'keyway_requests_total', { backend: 'none', code_class: '5xx' }), 3);
    assert.equal(valueOf(after1, 'keyway_requests_total', { backend: 'a', code_class: '2xx' }), 6);
    assert.equal(valueOf(after1, 'keyway_backend_weight', { backend: 'a' }), 0);

    // A backend that failed its probe is 0.
    const added = gw.gateway.addBackend(validateConfig({ backends: [{ id: 'dead', url: `http://127.0.0.1:${await deadPort()}`, healthTimeout: 300 }] }).backends[0]!);
    assert.equal(added?.healthy, false);
    const after2 = (await request(gw.port, { path: '/_lb/metrics' })).body;
    assert.equal(valueOf(after2, 'keyway_backend_up', { backend: 'dead' }), 0);
    assert.equal(valueOf(after2, 'keyway_backend_up', { backend: 'a' }), 1);
  } finally {
    await gw.close();
  }
});

test('metrics: false answers 404; reads follow the loopback/token rules, writes need the token', async () => {
  const [a] = await start('a');
  const off = await startGateway({ metrics: false, backends: [{ id: 'a', url: a!.url }] });
  const on = await startGateway({ host: '0.0.0.0', admin: { token: TOKEN }, backends: [{ id: 'a', url: a!.url }] });
  try {
    const r = await request(off.port, { path: '/_lb/metrics' });
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).code, 'KW_ERR_ADMIN_NOT_FOUND');
    assert.equal((await request(off.port, { path: '/_lb/health' })).status, 200, 'the rest of admin still answers');

    assert.equal((await request(on.port, { path: '/_lb/metrics' })).status, 200, 'loopback reads without a token');
    assert.equal((await request(on.port, { path: '/_lb/metrics', method: 'HEAD' })).status, 200);
    assert.equal((await request(on.port, { path: '/_lb/metrics', method: 'POST' })).status, 401, 'a write without the token');
    const post = await request(on.port, { path: '/_lb/metrics', method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');

    const external = externalAddress();
    if (external === undefined) return; // no non-loopback address here: the loopback half still ran
    assert.equal(await statusFrom(external, on.port, '/_lb/metrics', {}), 401);
    assert.equal(await statusFrom(external, on.port, '/_lb/metrics', { authorization: 'Bearer nope' }), 401);
    assert.equal(await statusFrom(external, on.port, '/_lb/metrics', { authorization: `Bearer ${TOKEN}` }), 200);
  } finally {
    await Promise.all([off.close(), on.close()]);
  }
});

test('access log: one JSON line per request without the query string; close() flushes it', async () => {
  const [a] = await start('a');
  const dir = await mkdtemp(join(tmpdir(), 'keyway-access-gw-'));
  const file = join(dir, 'access.log');
  const gw = await startGateway({ sticky: false, accessLog: { destination: file }, backends: [{ id: 'a', url: a!.url }] });
  try {
    assert.equal((await request(gw.port, { path: '/items?token=s3cret&page=2' })).status, 200);
    assert.equal((await request(gw.port, { method: 'POST', path: '/upload', body: 'hello' })).status, 200);
    gw.gateway.setWeight('a', 0);
    assert.equal((await request(gw.port, { path: '/none?q=1' })).status, 503);
    await gw.close();

    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, /s3cret|page=2|q=1/);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const proxied = lines.filter((l) => l.backend === 'a');
    assert.equal(proxied.length, 2, text);
    assert.deepEqual(
      proxied.map((l) => [l.method, l.path, l.status, l.backend]),
      [
        ['GET', '/items', 200, 'a'],
        ['POST', '/upload', 200, 'a'],
      ],
    );
    assert.equal(proxied[1]?.bytesOut, 5);
    assert.equal(proxied[0]?.log, 'access');
    assert.equal(typeof proxied[0]?.durationMs, 'number');
  } finally {
    await gw.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test(
  'access log: a request the gateway answers itself (503, no backend) is logged with backend null',
  async () => {
    const [a] = await start('a');
    const dir = await mkdtemp(join(tmpdir(), 'keyway-access-gw-'));
    const file = join(dir, 'access.log');
    const gw = await startGateway({ sticky: false, accessLog: { destination: file }, backends: [{ id: 'a', url: a!.url, weight: 0 }] });
    try {
      assert.equal((await request(gw.port, { path: '/none?q=1' })).status, 503);
      await gw.close();
      const text = await readFile(file, 'utf8');
      assert.doesNotMatch(text, /q=1/);
      const lines = text.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        lines.map((l) => [l.method, l.path, l.status, l.backend]),
        [['GET', '/none', 503, null]],
        text,
      );
    } finally {
      await gw.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
