/**
 * The Fastify helpers against real pods and a real Redis: every scenario of @platformatic/coordinator's
 * helpers test, with the result tags, messages and status codes, plus the cases it leaves out (503s, throwing
 * extractors, upstream errors on create and delete, the dead-pod fast path after a real expiry).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  lookupAndDeregister,
  lookupAndProxy,
  lookupLockAndProxy,
  pickAndRegister,
  type LookupAndDeregisterResult,
  type LookupAndProxyResult,
  type PickAndRegisterResult,
} from '../../../src/index.js';
import type { Registry } from '../../../src/index.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis.js';
import { fixture, json, type Fixture, type Pod } from './pods.js';

const idParam = (req: { params: unknown }): string => (req.params as { id: string }).id;

interface Tags {
  proxy: LookupAndProxyResult[];
  spawn: PickAndRegisterResult[];
  remove: LookupAndDeregisterResult[];
}

/** platformatic's coordinator app: the four resource routes. */
function coordinatorApp(registry: Registry, tags: Tags): FastifyInstance {
  const app = Fastify();
  app.post('/resources', pickAndRegister(registry, {
    registerIdFrom: (body: { resourceId: string }) => body.resourceId,
    onResult: (r) => tags.spawn.push(r),
  }));
  app.post(
    '/resources/:id/echo',
    { schema: { body: { type: 'object', properties: { msg: { type: 'string' } } } } },
    lookupAndProxy(registry, { destinationFrom: idParam, reassignOrphans: true, onResult: (r) => tags.proxy.push(r) }),
  );
  app.post('/resources/:id/heartbeat', lookupAndProxy(registry, {
    instanceFrom: idParam,
    reassignOrphans: true,
    onResult: (r) => tags.proxy.push(r),
  }));
  app.delete('/resources/:id', lookupAndDeregister(registry, { destinationFrom: idParam, onResult: (r) => tags.remove.push(r) }));
  return app;
}

describe('Fastify helpers (platformatic scenarios)', () => {
  let server: RedisServer;
  let fx: Fixture;
  let pod1: Pod;
  let pod2: Pod;
  let registry: Registry;
  let app: FastifyInstance;
  const tags: Tags = { proxy: [], spawn: [], remove: [] };
  const requestsToPods = (): number => pod1.seen.length + pod2.seen.length;

  before(async () => {
    server = await startRedisServer();
    fx = fixture(server);
    pod1 = await fx.pod('pod-1');
    pod2 = await fx.pod('pod-2');
    registry = await fx.registry({ cache: false });
    app = coordinatorApp(registry, tags);
    await app.ready();
  });
  after(async () => {
    await app?.close();
    await fx?.close();
    await server?.stop();
  });

  it('pickAndRegister: creates on a picked pod and binds the id to it', async () => {
    const res = await app.inject({ method: 'POST', url: '/resources' });
    assert.equal(res.statusCode, 201);
    const body = res.json<{ resourceId: string }>();
    assert.ok(body.resourceId);
    const owner = await registry.resolveDestination(body.resourceId);
    assert.ok(owner?.memberId === 'pod-1' || owner?.memberId === 'pod-2');
    assert.ok((owner.memberId === 'pod-1' ? pod1 : pod2).resources.has(body.resourceId));
    assert.equal(tags.spawn.at(-1), 'spawned');
  });

  it('pickAndRegister: 503 with "No pods available" when no pod is alive', async () => {
    const empty = await fixture(server).registry({ cache: false });
    const spawned: PickAndRegisterResult[] = [];
    const solo = Fastify();
    solo.post('/spawn', pickAndRegister(empty, { registerIdFrom: (r: { id: string }) => r.id, onResult: (r) => spawned.push(r) }));
    try {
      const res = await solo.inject({ method: 'POST', url: '/spawn' });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), { error: 'No pods available', code: 'KW_ERR_PROXY_NO_BACKEND' });
      assert.deepEqual(spawned, ['unavailable']);
    } finally {
      await solo.close();
      await empty.close();
    }
  });

  it('lookupAndProxy: routes to the bound pod with the parsed body', async () => {
    const id = (await app.inject({ method: 'POST', url: '/resources' })).json<{ resourceId: string }>().resourceId;
    const res = await app.inject({ method: 'POST', url: `/resources/${id}/echo`, payload: { msg: 'hello' } });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ id: string; body: { msg: string } }>();
    assert.equal(body.id, id);
    assert.equal(body.body.msg, 'hello');
    assert.equal(tags.proxy.at(-1), 'hit');
  });

  it('lookupAndProxy: 404 "Destination not found" for an unknown destination', async () => {
    const before = requestsToPods();
    const res = await app.inject({ method: 'POST', url: '/resources/does-not-exist/echo', payload: { msg: 'x' } });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json<{ error: string }>().error, 'Destination not found');
    assert.equal(requestsToPods(), before);
    assert.equal(tags.proxy.at(-1), 'not_found');
  });

  it('lookupAndProxy: reassigns an orphan to a live pod when reassignOrphans is true', async () => {
    await fx.deadMember('dead-pod');
    const orphan = `orphan-${Date.now()}`;
    await registry.addPodToDestination(orphan, 'dead-pod');
    const res = await app.inject({ method: 'POST', url: `/resources/${orphan}/heartbeat` });
    assert.equal(res.statusCode, 204);
    const owner = await registry.resolveDestination(orphan);
    assert.ok(owner?.memberId === 'pod-1' || owner?.memberId === 'pod-2', 'reassigned to a live pod');
    assert.equal(tags.proxy.at(-1), 'orphan_reassigned');
  });

  it('lookupAndDeregister: deletes on the pod, then removes the binding', async () => {
    const id = (await app.inject({ method: 'POST', url: '/resources' })).json<{ resourceId: string }>().resourceId;
    const res = await app.inject({ method: 'DELETE', url: `/resources/${id}` });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.equal(await registry.hasBinding(id), false);
    assert.ok(!pod1.resources.has(id) && !pod2.resources.has(id));
    assert.equal(tags.remove.at(-1), 'deregistered');
  });

  it('lookupAndDeregister: fast path when the pod is dead (no proxy call, binding removed)', async () => {
    await fx.deadMember('dead-pod-2');
    const orphan = `orphan-del-${Date.now()}`;
    await registry.addPodToDestination(orphan, 'dead-pod-2');
    const before = requestsToPods();
    const res = await app.inject({ method: 'DELETE', url: `/resources/${orphan}` });
    assert.equal(res.statusCode, 204);
    assert.equal(await registry.hasBinding(orphan), false, 'binding removed');
    assert.equal(requestsToPods(), before, 'no proxy call reached a live pod');
    assert.equal(tags.remove.at(-1), 'deregistered_dead_pod');
  });

  it('lookupAndDeregister: 404 for an unknown destination', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/resources/never-existed' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: 'Destination not found', code: 'KW_ERR_PROXY_NO_ROUTE' });
    assert.equal(tags.remove.at(-1), 'not_found');
  });
});

describe('Fastify helpers: cases platformatic leaves out', () => {
  let server: RedisServer;
  let fx: Fixture;
  let pod: Pod;
  let registry: Registry;

  before(async () => {
    server = await startRedisServer();
    fx = fixture(server);
    pod = await fx.pod('pod-x', {
      routes: [
        ['POST', /^\/conflict$/, (_req, res) => json(res, 409, { error: 'already exists' })],
        ['POST', /^\/no-id$/, (_req, res) => json(res, 201, { created: true })],
        ['POST', /^\/not-json$/, (_req, res) => res.writeHead(201, { 'content-type': 'text/plain' }).end('made it')],
      ],
    });
    registry = await fx.registry({ cache: false });
  });
  after(async () => {
    await fx?.close();
    await server?.stop();
  });

  it('a throwing or non-string extractor answers 400 and the app keeps serving', async () => {
    const tags: string[] = [];
    const app = Fastify();
    app.get('/throws/:id', lookupAndProxy(registry, {
      destinationFrom: () => {
        throw new Error('boom');
      },
      onResult: (r) => tags.push(r),
    }));
    app.get('/number/:id', lookupAndProxy(registry, { destinationFrom: () => 42 as unknown as string, onResult: (r) => tags.push(r) }));
    app.get('/empty/:id', lookupAndProxy(registry, { destinationFrom: () => '', onResult: (r) => tags.push(r) }));
    app.delete('/throws/:id', lookupAndDeregister(registry, { instanceFrom: () => JSON.parse('{') as string }));
    app.post('/locks/:id', lookupLockAndProxy(registry, { lockFrom: (req) => (req.params as { nope: { deeper: string } }).nope.deeper }));
    app.get('/items/:id', lookupAndProxy(registry, { destinationFrom: idParam, claimOnMiss: true }));
    try {
      for (const [method, url, what] of [
        ['GET', '/throws/a', 'destination'],
        ['GET', '/number/a', 'destination'],
        ['GET', '/empty/a', 'destination'],
        ['DELETE', '/throws/a', 'destination'],
        ['POST', '/locks/a', 'lock'],
      ] as const) {
        const res = await app.inject({ method, url });
        assert.equal(res.statusCode, 400, `${method} ${url}`);
        assert.deepEqual(res.json(), { error: `Invalid ${what} id`, code: 'KW_ERR_PROXY_BAD_REQUEST' });
      }
      assert.deepEqual(tags, ['bad_request', 'bad_request', 'bad_request']);
      const ok = await app.inject({ method: 'GET', url: '/items/still-serving' });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.json<{ pod: string }>().pod, 'pod-x');
    } finally {
      await app.close();
    }
  });

  it('a throwing onResult is logged, never changes the answer', async () => {
    const app = Fastify();
    app.get('/items/:id', lookupAndProxy(registry, {
      destinationFrom: idParam,
      claimOnMiss: true,
      onResult: () => {
        throw new Error('metrics down');
      },
    }));
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/items/t1' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  it('claimOnMiss or reassignOrphans with no live member: 404 as platformatic answers (503 with unavailableStatus); without them: 404', async () => {
    const lonely = fixture(server);
    const empty = await lonely.registry({ cache: false });
    await lonely.deadMember('gone');
    await empty.addPodToDestination('orphan', 'gone');
    const tags: string[] = [];
    const app = Fastify();
    const onResult = (r: string): number => tags.push(r);
    app.get('/claim/:id', lookupAndProxy(empty, { destinationFrom: idParam, claimOnMiss: true, onResult }));
    app.get('/reassign/:id', lookupAndProxy(empty, { destinationFrom: idParam, reassignOrphans: true, onResult }));
    app.get('/plain/:id', lookupAndProxy(empty, { destinationFrom: idParam, notFoundMessage: 'No such session', onResult }));
    app.get('/told/:id', lookupAndProxy(empty, { destinationFrom: idParam, claimOnMiss: true, unavailableStatus: 503, unavailableMessage: 'No pods available', onResult }));
    try {
      const claim = await app.inject({ method: 'GET', url: '/claim/new' });
      assert.equal(claim.statusCode, 404);
      assert.deepEqual(claim.json(), { error: 'Destination not found', code: 'KW_ERR_PROXY_NO_ROUTE' });
      assert.equal((await app.inject({ method: 'GET', url: '/reassign/orphan' })).statusCode, 404);
      const dead = await app.inject({ method: 'GET', url: '/plain/orphan' });
      assert.equal(dead.statusCode, 404, 'a dead owner without reassignment is not found');
      assert.equal(dead.json<{ error: string }>().error, 'No such session');
      assert.equal((await app.inject({ method: 'GET', url: '/plain/unknown' })).statusCode, 404);
      const told = await app.inject({ method: 'GET', url: '/told/new' });
      assert.equal(told.statusCode, 503);
      assert.deepEqual(told.json(), { error: 'No pods available', code: 'KW_ERR_PROXY_NO_BACKEND' });
      assert.deepEqual(tags, ['unavailable', 'unavailable', 'not_found', 'not_found', 'unavailable']);
    } finally {
      await app.close();
      await lonely.close();
    }
  });


  it('pickAndRegister: another status is forwarded as is and binds nothing; an answer without an id is a 502', async () => {
    const tags: string[] = [];
    const seenIds: unknown[] = [];
    const app = Fastify();
    const onResult = (r: string): number => tags.push(r);
    const registerIdFrom = (body: { resourceId?: unknown }): string => {
      seenIds.push(body.resourceId);
      return body.resourceId as string;
    };
    app.post('/conflict', pickAndRegister(registry, { registerIdFrom, onResult }));
    app.post('/no-id', pickAndRegister(registry, { registerIdFrom, onResult }));
    app.post('/not-json', pickAndRegister(registry, { registerIdFrom, onResult }));
    app.post('/raw', pickAndRegister(registry, { registerIdFrom: () => 'raw-made', expectedStatus: 200, onResult }));
    try {
      const conflict = await app.inject({ method: 'POST', url: '/conflict' });
      assert.equal(conflict.statusCode, 409);
      assert.deepEqual(conflict.json(), { error: 'already exists' });
      for (const url of ['/no-id', '/not-json']) {
        const res = await app.inject({ method: 'POST', url });
        assert.equal(res.statusCode, 502, url);
        assert.equal(res.json<{ code: string }>().code, 'KW_ERR_PROXY_UPSTREAM');
      }
      assert.deepEqual(seenIds, [undefined], 'the extractor only runs on the expected status with JSON');
      const made = await app.inject({ method: 'POST', url: '/raw', payload: { a: 1 } });
      assert.equal(made.statusCode, 200);
      assert.equal(made.json<{ pod: string }>().pod, 'pod-x', 'the answer is sent back as the pod wrote it');
      assert.equal(await registry.hasBinding('raw-made'), true);
      assert.deepEqual(tags, ['upstream_error', 'upstream_error', 'upstream_error', 'spawned']);
    } finally {
      await app.close();
    }
  });

  it('lookupAndDeregister: another status from the pod is forwarded and the binding kept', async () => {
    await registry.addPodToDestination('kept', 'pod-x');
    const tags: string[] = [];
    const app = Fastify();
    app.delete('/resources/:id', lookupAndDeregister(registry, { destinationFrom: idParam, onResult: (r) => tags.push(r) }));
    try {
      const res = await app.inject({ method: 'DELETE', url: '/resources/kept' });
      assert.equal(res.statusCode, 404, "the pod's own answer");
      assert.deepEqual(res.json(), { error: 'not found' });
      assert.equal(await registry.hasBinding('kept'), true);
      assert.deepEqual(tags, ['upstream_error']);
    } finally {
      await app.close();
    }
  });

  it('lookupAndDeregister: the dead-pod fast path after a real death (server killed, member expired)', async () => {
    const doomed = await fx.pod('doomed', { member: { ttl: 0.5 } });
    await registry.addPodToDestination('on-doomed', 'doomed');
    await doomed.stop();
    await fx.expired('doomed');
    const tags: string[] = [];
    const app = Fastify();
    app.delete('/resources/:id', lookupAndDeregister(registry, { destinationFrom: idParam, expectedStatus: 200, onResult: (r) => tags.push(r) }));
    try {
      const res = await app.inject({ method: 'DELETE', url: '/resources/on-doomed' });
      assert.equal(res.statusCode, 200, 'expectedStatus');
      assert.equal(await registry.hasBinding('on-doomed'), false);
      assert.equal(doomed.seen.length, 0);
      assert.deepEqual(tags, ['deregistered_dead_pod']);
    } finally {
      await app.close();
    }
  });

  it('lookupLockAndProxy: routes by lock; 404 "Lock not found" for an unknown lock or a dead holder', async () => {
    const holder = await fx.pod('holder', { member: { ttl: 0.5, lockTtl: 60 } });
    await pod.member.registerLock('tx-live', 'tenant-x');
    await holder.member.registerLock('tx-orphan', 'tenant-y');
    const tags: string[] = [];
    const app = Fastify();
    app.post('/transactions/:lockId/echo', lookupLockAndProxy(registry, {
      lockFrom: (req) => (req.params as { lockId: string }).lockId,
      onResult: (r) => tags.push(r),
    }));
    try {
      const hit = await app.inject({ method: 'POST', url: '/transactions/tx-live/echo' });
      assert.equal(hit.statusCode, 200);
      assert.deepEqual(hit.json(), { lockId: 'tx-live', pod: 'pod-x' });
      const unknown = await app.inject({ method: 'POST', url: '/transactions/tx-none/echo' });
      assert.equal(unknown.statusCode, 404);
      assert.deepEqual(unknown.json(), { error: 'Lock not found', code: 'KW_ERR_PROXY_NO_ROUTE' });
      await fx.expired('holder');
      assert.equal((await app.inject({ method: 'POST', url: '/transactions/tx-orphan/echo' })).statusCode, 404);
      assert.equal(holder.seen.length, 0);
      assert.deepEqual(tags, ['hit', 'not_found', 'not_found']);
    } finally {
      await app.close();
    }
  });

  it('options are validated when the handler is made', () => {
    assert.throws(() => lookupAndProxy(registry, {}), /destinationFrom must be a function/);
    assert.throws(() => lookupAndProxy(registry, { destinationFrom: idParam, instanceFrom: idParam }), /not both/);
    assert.throws(() => lookupAndDeregister(registry, { destinationFrom: idParam, expectedStatus: 99 }), /expectedStatus/);
    assert.throws(() => pickAndRegister(registry, {} as never), /registerIdFrom must be a function/);
    assert.throws(() => lookupLockAndProxy(registry, { lockFrom: idParam, notFoundMessage: '' }), /notFoundMessage/);
    assert.throws(() => lookupAndProxy(registry, { destinationFrom: idParam, forwardHeaders: 'accept' as never }), /forwardHeaders/);
  });
});
