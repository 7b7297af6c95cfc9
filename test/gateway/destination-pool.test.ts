/**
 * A gateway pool that routes by destination to coordinator members: real pods (node:http servers registered as
 * Members) on a real redis-server; the destination follows its owner, is claimed on first touch, and moves at once
 * when its owner's process is gone (connection refused) rather than when the owner's record expires.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Member } from '../../src/index.js';
import { startGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { randomPrefix, startRedisServer, type RedisServer } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';

let redis: RedisServer;
before(async () => {
  redis = await startRedisServer();
});
after(() => redis.stop());

interface Pod {
  readonly id: string;
  readonly member: Member;
  readonly server: http.Server;
  hits: number;
}

/** A pod answering `<memberId> <path>`, registered under `prefix` (in `layout`) with background heartbeats. */
async function pod(prefix: string, id: string, layout: 'keyway' | 'platformatic' = 'keyway'): Promise<Pod> {
  const server = http.createServer((req, res) => {
    p.hits++;
    res.end(`${id} ${req.url}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const member = new Member({ redis: redis.url, keyPrefix: prefix, memberId: id, address, ttl: 30, heartbeatIntervalMs: 1000, layout });
  await member.register();
  const p: Pod = { id, member, server, hits: 0 };
  after(async () => {
    await member.close();
    server.closeAllConnections();
    server.close();
  });
  return p;
}

function gatewayFor(prefix: string, destination: Record<string, unknown>) {
  return startGateway({
    redis: { url: redis.url, keyPrefix: `${prefix}-gw` },
    backends: [{ id: 'web', url: 'http://127.0.0.1:9' }],
    health: { interval: 60_000 },
    pools: { tenants: { destination: { keyPrefix: prefix, ...destination } } },
    routes: [{ path: '/t', pool: 'tenants' }],
  });
}

describe('destination pools', () => {
  test("destination.layout 'platformatic': routes to pods on @platformatic/coordinator's keys", { timeout: 20_000 }, async () => {
    const prefix = randomPrefix('dest-pf');
    await pod(prefix, 'pod-p', 'platformatic');
    const gw = await gatewayFor(prefix, { from: 'path:2', claimOnMiss: true, layout: 'platformatic' });
    after(gw.close);
    const first = await request(gw.port, { path: '/t/acme/orders' });
    assert.equal(first.status, 200, first.body);
    assert.equal(first.body.split(' ')[0], 'pod-p');
    assert.equal((await redis.cli('SMEMBERS', `${prefix}:destination:acme`)).trim(), 'pod-p', "the claim is in platformatic's destination set");
  });

  test('claim on first touch, then every request for that destination reaches its owner', { timeout: 20_000 }, async () => {
    const prefix = randomPrefix('dest');
    await pod(prefix, 'pod-a');
    await pod(prefix, 'pod-b');
    const gw = await gatewayFor(prefix, { from: 'path:2', claimOnMiss: true });
    after(gw.close);
    const owners = new Map<string, string>();
    for (const tenant of ['acme', 'globex', 'initech', 'umbrella']) {
      const first = await request(gw.port, { path: `/t/${tenant}/orders?x=1` });
      assert.equal(first.status, 200, first.body);
      const [owner, path] = first.body.split(' ');
      assert.equal(path, `/t/${tenant}/orders?x=1`);
      owners.set(tenant, owner!);
      for (let i = 0; i < 3; i++) assert.equal((await request(gw.port, { path: `/t/${tenant}/x` })).body.split(' ')[0], owner);
    }
    assert.deepEqual(new Set(owners.values()), new Set(['pod-a', 'pod-b']), 'least-loaded claims spread tenants over both pods');
    const missing = await request(gw.port, { path: '/t' });
    assert.equal(missing.status, 400, 'a request that names no destination');
  });

  test('without claimOnMiss an unknown destination is 404; a header names the destination', { timeout: 20_000 }, async () => {
    const prefix = randomPrefix('dest-hdr');
    const a = await pod(prefix, 'pod-a');
    const gw = await gatewayFor(prefix, { from: 'header:x-tenant' });
    after(gw.close);
    const unknown = await request(gw.port, { path: '/t/x', headers: { 'x-tenant': 'nobody' } });
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.body).code, 'KW_ERR_PROXY_NO_ROUTE');
    await a.member.addToDestination('known');
    const known = await request(gw.port, { path: '/t/x', headers: { 'x-tenant': 'known' } });
    assert.equal(known.body, 'pod-a /t/x');
  });

  test('an owner whose process is gone: the destination moves on the next request, with no failed request', { timeout: 30_000 }, async () => {
    const prefix = randomPrefix('dest-fail');
    const pods = [await pod(prefix, 'pod-a'), await pod(prefix, 'pod-b')];
    const gw = await gatewayFor(prefix, { from: 'path:2', claimOnMiss: true, reassignOrphans: true });
    after(gw.close);
    const first = await request(gw.port, { path: '/t/acme/1' });
    const owner = pods.find((p) => p.id === first.body.split(' ')[0])!;
    const other = pods.find((p) => p !== owner)!;
    // The owner's server stops listening; its member record stays alive (heartbeats continue) for 30 s.
    owner.server.closeAllConnections();
    owner.server.close();
    await once(owner.server, 'close');
    for (let i = 0; i < 5; i++) {
      const r = await request(gw.port, { path: `/t/acme/${i}` });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.body.split(' ')[0], other.id);
    }
  });

  test('the owner deregisters: other registries drop their cached resolution and the destination is reassigned', { timeout: 20_000 }, async () => {
    const prefix = randomPrefix('dest-dereg');
    const pods = [await pod(prefix, 'pod-a'), await pod(prefix, 'pod-b')];
    const gw = await gatewayFor(prefix, { from: 'path:2', claimOnMiss: true, reassignOrphans: true });
    after(gw.close);
    const first = await request(gw.port, { path: '/t/acme/1' });
    const owner = pods.find((p) => p.id === first.body.split(' ')[0])!;
    await owner.member.deregister();
    await until(() => !gw.gateway.upstreams.some((u) => u.id === owner.id), 3000);
    const next = await request(gw.port, { path: '/t/acme/2' });
    assert.notEqual(next.body.split(' ')[0], owner.id);
  });
});
