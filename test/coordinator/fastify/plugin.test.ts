/**
 * `coordinatorPlugin` on real Fastify 5 apps: platformatic's plugin scenarios (decoration, the bound helpers,
 * claimOnMiss, locks, a borrowed registry, decorateAs), plus who closes what and option checks.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { coordinatorPlugin, type Coordinator } from '../../../src/index.js';
import { Registry } from '../../../src/index.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis.js';
import { fixture, type Fixture, type Pod } from './pods.js';
import { TEST_LAYOUT } from '../helpers.js';

describe('coordinatorPlugin', () => {
  let server: RedisServer;
  let fx: Fixture;
  let pod: Pod;
  let base: { redis: string; keyPrefix: string; cache: false; layout: typeof TEST_LAYOUT };

  before(async () => {
    server = await startRedisServer();
    fx = fixture(server);
    pod = await fx.pod('pod-1');
    base = { redis: server.url, keyPrefix: fx.prefix, cache: false, layout: TEST_LAYOUT };
  });
  after(async () => {
    await fx?.close();
    await server?.stop();
  });

  it('decorates app.coordinator with the registry and the bound helpers', async () => {
    const app = Fastify();
    await app.register(coordinatorPlugin, base);
    try {
      assert.ok(app.hasDecorator('coordinator'));
      assert.ok(app.coordinator.registry instanceof Registry);
      for (const name of ['lookupAndProxy', 'lookupLockAndProxy', 'pickAndRegister', 'lookupAndDeregister', 'proxyVia'] as const) {
        assert.equal(typeof app.coordinator[name], 'function', name);
      }
    } finally {
      await app.close();
    }
  });

  it('registers @fastify/reply-from as platformatic does, unless told not to or already there', async () => {
    const app = Fastify();
    await app.register(coordinatorPlugin, base);
    const off = Fastify();
    await off.register(coordinatorPlugin, { ...base, registerReplyFrom: false });
    try {
      assert.equal(app.hasReplyDecorator('from'), true);
      assert.equal(off.hasReplyDecorator('from'), false);
    } finally {
      await app.close();
      await off.close();
    }
  });

  it('lookupAndProxy through the decoration claims on miss and routes', async () => {
    const app = Fastify();
    await app.register(coordinatorPlugin, base);
    app.get('/items/:id', app.coordinator.lookupAndProxy({
      destinationFrom: (req) => (req.params as { id: string }).id,
      reassignOrphans: true,
      claimOnMiss: true,
    }));
    try {
      const res = await app.inject({ method: 'GET', url: '/items/abc' });
      assert.equal(res.statusCode, 200);
      const body = res.json<{ id: string; served: boolean }>();
      assert.equal(body.id, 'abc');
      assert.equal(body.served, true);
      assert.equal((await app.coordinator.registry.resolveDestination('abc'))?.memberId, 'pod-1');
    } finally {
      await app.close();
    }
  });

  it('pickAndRegister through the decoration binds to a pod', async () => {
    const app = Fastify();
    await app.register(coordinatorPlugin, base);
    app.post('/resources', app.coordinator.pickAndRegister({ registerIdFrom: (res: { resourceId: string }) => res.resourceId }));
    try {
      const res = await app.inject({ method: 'POST', url: '/resources' });
      assert.equal(res.statusCode, 201);
      const { resourceId } = res.json<{ resourceId: string }>();
      assert.ok(resourceId);
      assert.equal(await app.coordinator.registry.hasBinding(resourceId), true);
    } finally {
      await app.close();
    }
  });

  it('lookupLockAndProxy through the decoration routes by lock id', async () => {
    const lockId = `lock-${Date.now()}`;
    await pod.member.registerLock(lockId, 'tenant-x');
    const app = Fastify();
    await app.register(coordinatorPlugin, base);
    app.post('/transactions/:lockId/echo', app.coordinator.lookupLockAndProxy({
      lockFrom: (req) => (req.params as { lockId: string }).lockId,
    }));
    try {
      const res = await app.inject({ method: 'POST', url: `/transactions/${lockId}/echo` });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json<{ lockId: string }>().lockId, lockId);
    } finally {
      await app.close();
    }
  });

  it('proxyVia through the decoration uses any resolver', async () => {
    const app = Fastify();
    await app.register(coordinatorPlugin, base);
    app.get('/items/:id', app.coordinator.proxyVia(async (req) => ((req.params as { id: string }).id === 'known' ? pod : null)));
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/items/known' })).json<{ pod: string }>().pod, 'pod-1');
      const missing = await app.inject({ method: 'GET', url: '/items/other' });
      assert.equal(missing.statusCode, 404);
      assert.deepEqual(missing.json(), { error: 'Not found', code: 'KW_ERR_PROXY_NO_ROUTE' });
    } finally {
      await app.close();
    }
  });

  it('a borrowed registry is used as is and not closed with the app', async () => {
    const registry = new Registry(base);
    try {
      const app = Fastify();
      await app.register(coordinatorPlugin, { registry });
      assert.equal(app.coordinator.registry, registry);
      await app.close();
      const live = await registry.listLiveMembers();
      assert.ok(live.length >= 1, 'still usable after app.close()');
    } finally {
      await registry.close();
    }
  });

  it('a registry the plugin made is closed with the app', async () => {
    const app = Fastify();
    await app.register(coordinatorPlugin, base);
    const { registry } = app.coordinator;
    await app.close();
    await assert.rejects(registry.listLiveMembers(), { code: 'KW_ERR_STORE_UNAVAILABLE' });
  });

  it('decorateAs renames the decoration', async () => {
    const app = Fastify();
    await app.register(coordinatorPlugin, { ...base, decorateAs: 'router' });
    try {
      const router = (app as unknown as { router: Coordinator }).router;
      assert.ok(router.registry instanceof Registry);
      assert.equal(app.hasDecorator('coordinator'), false);
    } finally {
      await app.close();
    }
  });

  it('is not encapsulated: the decoration lands on the registering app, whatever the prefix', async () => {
    const app = Fastify();
    await app.register(coordinatorPlugin, { ...base, prefix: '/api' } as never);
    let seenByLaterPlugin = false;
    await app.register(async (child) => {
      seenByLaterPlugin = child.hasDecorator('coordinator');
    });
    try {
      assert.ok(app.hasDecorator('coordinator'), 'the parent sees it');
      assert.ok(seenByLaterPlugin, 'plugins registered after see it');
    } finally {
      await app.close();
    }
  });

  it('a closed registry answers 503 JSON, not a crash', async () => {
    const registry = new Registry(base);
    const app = Fastify();
    await app.register(coordinatorPlugin, { registry });
    app.get('/items/:id', app.coordinator.lookupAndProxy({ destinationFrom: (req) => (req.params as { id: string }).id }));
    await registry.close();
    try {
      const res = await app.inject({ method: 'GET', url: '/items/x' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json<{ code: string }>().code, 'KW_ERR_STORE_UNAVAILABLE');
    } finally {
      await app.close();
    }
  });

  it('bad options fail the registration, before any registry is made', async () => {
    const cases: [object, RegExp][] = [
      [{}, /either `redis` or `registry`/],
      [{ ...base, decorateAs: '' }, /decorateAs/],
    ];
    for (const [options, message] of cases) {
      const app = Fastify();
      await assert.rejects(async () => {
        await app.register(coordinatorPlugin, options);
      }, message);
      await app.close();
    }
    const registry = new Registry(base);
    try {
      const mixed = Fastify();
      await assert.rejects(async () => {
        await mixed.register(coordinatorPlugin, { registry, keyPrefix: 'other' });
      }, /not both \(got keyPrefix\)/);
      await mixed.close();
      const clash = Fastify();
      clash.decorate('coordinator', 'taken' as unknown as Coordinator);
      await assert.rejects(async () => {
        await clash.register(coordinatorPlugin, { registry });
      }, /already has a decorator named "coordinator"/);
      await clash.close();
    } finally {
      await registry.close();
    }
  });

  it('src/coordinator/fastify imports fastify for types only, so keyway runs without fastify installed', async () => {
    const dir = new URL('../../../../src/coordinator/fastify/', import.meta.url);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 5);
    for (const file of files) {
      const text = await readFile(new URL(file, dir), 'utf8');
      assert.doesNotMatch(text, /^import (?!type )[^;]*from 'fastify(\/[^']*)?';/m, file);
      assert.doesNotMatch(text, /import\(\s*'fastify/, file);
    }
  });
});
