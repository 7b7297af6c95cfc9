/**
 * A member that fails under a request: the cached owner is evicted and the request sent once to a fresh
 * resolution; never more than one failed attempt per call on an owner Redis still names; non-idempotent
 * requests are not replayed once the pod may have seen them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { lookupAndDeregister, lookupAndProxy, pickAndRegister } from '../../../src/index.js';
import type { Registry } from '../../../src/index.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis.js';
import { fixture, type Fixture, type Pod, type PodOptions } from './pods.js';

const idParam = (req: { params: unknown }): string => (req.params as { id: string }).id;

/** Records every `reportFailure` call the helpers make. */
function spyFailures(registry: Registry): [string, string][] {
  const calls: [string, string][] = [];
  const original = registry.reportFailure.bind(registry);
  registry.reportFailure = (destinationId: string, memberId: string) => {
    calls.push([destinationId, memberId]);
    return original(destinationId, memberId);
  };
  return calls;
}

describe('Fastify helpers: failover', () => {
  let server: RedisServer;

  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server?.stop();
  });

  /**
   * Pods and bindings first (`prepare`), then a coordinator whose registry caches for long and never re-reads the
   * member list on its own. The registry subscribes after the bindings were published, so no late `binding` event
   * can drop the owner it caches next.
   */
  async function setup<T>(
    prepare: (fx: Fixture) => Promise<T>,
  ): Promise<{ fx: Fixture; registry: Registry; app: FastifyInstance; tags: string[]; pods: T }> {
    const fx = fixture(server);
    const pods = await prepare(fx);
    const registry = await fx.registry({ cache: { ttl: 60_000 }, memberListRefreshMs: 600_000 });
    const tags: string[] = [];
    const onResult = (r: string): number => tags.push(r);
    const app = Fastify();
    app.get('/items/:id', lookupAndProxy(registry, { destinationFrom: idParam, reassignOrphans: true, onResult }));
    app.post('/resources/:id/heartbeat', lookupAndProxy(registry, { destinationFrom: idParam, reassignOrphans: true, onResult }));
    app.post('/resources/:id/crash', lookupAndProxy(registry, { destinationFrom: idParam, reassignOrphans: true, onResult }));
    app.delete('/resources/:id', lookupAndDeregister(registry, { destinationFrom: idParam, onResult }));
    app.post('/resources', pickAndRegister(registry, { registerIdFrom: (b: { resourceId: string }) => b.resourceId, onResult }));
    await app.ready();
    return { fx, registry, app, tags, pods };
  }

  /** Two pods, `id` bound to the first. */
  function twoPods(id: string, a: PodOptions = {}, b: PodOptions = {}): (fx: Fixture) => Promise<{ a: Pod; b: Pod }> {
    return async (fx) => {
      const pods = { a: await fx.pod('a', a), b: await fx.pod('b', b) };
      await pods.a.member.addToDestination(id);
      return pods;
    };
  }

  /** Resolves `id` once, so the registry caches its live owner (and no socket to it is pooled yet). */
  async function cacheOwner(registry: Registry, id: string, owner: Pod): Promise<void> {
    const resolved = await registry.resolveDestination(id);
    assert.equal(resolved?.memberId, owner.memberId);
    assert.equal(resolved.address, owner.address, 'alive, so cached');
  }

  it('a cached owner that stopped listening: evicted, one retry on the reassigned owner (POST replayed: refused)', async () => {
    const { fx, registry, app, tags, pods } = await setup(twoPods('d1', {}));
    const { a, b } = pods;
    try {
      await cacheOwner(registry, 'd1', a);
      await a.stop();
      await fx.expireNow('a');
      const failures = spyFailures(registry);
      const res = await app.inject({ method: 'POST', url: '/resources/d1/heartbeat', payload: { beat: 1 } });
      assert.equal(res.statusCode, 204);
      assert.deepEqual(failures, [['d1', 'a']]);
      assert.equal(b.seen.filter((s) => s.url === '/resources/d1/heartbeat').length, 1);
      assert.equal((await registry.resolveDestination('d1'))?.memberId, 'b');
      assert.equal(tags.at(-1), 'orphan_reassigned');
    } finally {
      await app.close();
      await fx.close();
    }
  });

  it('a cached owner that resets connections: exactly one failed attempt, then the fresh owner answers', async () => {
    const { fx, registry, app, tags, pods } = await setup(twoPods('d2', {}));
    const { a } = pods;
    try {
      await cacheOwner(registry, 'd2', a);
      a.mode = 'reset';
      await fx.expireNow('a');
      const before = a.connections;
      const res = await app.inject({ method: 'GET', url: '/items/d2' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json<{ pod: string }>().pod, 'b');
      assert.equal(a.connections - before, 1, 'one failed request on the dead owner');
      assert.equal(tags.at(-1), 'orphan_reassigned');
    } finally {
      await app.close();
      await fx.close();
    }
  });

  it('an owner Redis still names as alive: one failed attempt, no second one on the same owner, 502', async () => {
    const { fx, registry, app, tags, pods } = await setup(twoPods('d3'));
    const { a } = pods;
    try {
      await cacheOwner(registry, 'd3', a);
      a.mode = 'reset';
      const failures = spyFailures(registry);
      const before = a.connections;
      const res = await app.inject({ method: 'GET', url: '/items/d3' });
      assert.equal(res.statusCode, 502);
      assert.deepEqual(res.json(), { error: 'Bad gateway: the destination did not answer', code: 'KW_ERR_PROXY_UPSTREAM' });
      assert.equal(a.connections - before, 1);
      assert.deepEqual(failures, [['d3', 'a']]);
      assert.equal(tags.at(-1), 'upstream_error');
    } finally {
      await app.close();
      await fx.close();
    }
  });

  it('a POST the pod read and then reset is not replayed (it may have acted on it): 502 after one attempt', async () => {
    const routes: PodOptions['routes'] = [['POST', /\/crash$/, (req) => req.socket.resetAndDestroy()]];
    const { fx, registry, app, tags, pods } = await setup(twoPods('d4', { routes }, { routes }));
    const { a, b } = pods;
    try {
      await cacheOwner(registry, 'd4', a);
      await fx.expireNow('a');
      const res = await app.inject({ method: 'POST', url: '/resources/d4/crash', payload: { n: 1 } });
      assert.equal(res.statusCode, 502);
      assert.equal(a.seen.filter((s) => s.url === '/resources/d4/crash').length, 1);
      assert.equal(b.seen.length, 0);
      assert.equal(tags.at(-1), 'upstream_error');
    } finally {
      await app.close();
      await fx.close();
    }
  });

  it('delete on a cached owner found dead on the fresh resolution: the dead-pod fast path', async () => {
    const { fx, registry, app, tags, pods } = await setup(twoPods('d5', {}));
    const { a } = pods;
    try {
      await cacheOwner(registry, 'd5', a);
      await a.stop();
      await fx.expireNow('a');
      const res = await app.inject({ method: 'DELETE', url: '/resources/d5' });
      assert.equal(res.statusCode, 204);
      assert.equal(await registry.hasBinding('d5'), false);
      assert.equal(tags.at(-1), 'deregistered_dead_pod');
    } finally {
      await app.close();
      await fx.close();
    }
  });

  it('pickAndRegister: a picked member that refuses is replaced by a fresh pick', async () => {
    const { fx, registry, app, pods } = await setup(async (f) => ({ a: await f.pod('a'), b: await f.pod('b') }));
    const { a, b } = pods;
    try {
      await a.stop();
      for (let i = 0; i < 4; i++) {
        const res = await app.inject({ method: 'POST', url: '/resources' });
        assert.equal(res.statusCode, 201);
        const id = res.json<{ resourceId: string }>().resourceId;
        assert.ok(b.resources.has(id));
        assert.equal((await registry.resolveDestination(id))?.memberId, 'b');
      }
    } finally {
      await app.close();
      await fx.close();
    }
  });
});
