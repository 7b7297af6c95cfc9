/**
 * @module test/replication/shared-view-outage: a store that cannot start (required or not), fail-static
 * serving while it is down, and the resynchronisation when it comes back, also after it lost its data.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { StoreUnavailableError } from '../../src/errors.js';
import { until } from '../helpers/wait.js';
import { closeAll, MemoryBackend, nextSync, replica, type Replica } from './helpers.js';

let open: Replica[] = [];

function track(...rs: Replica[]): Replica[] {
  open.push(...rs);
  return rs;
}

afterEach(async () => {
  await closeAll(open);
  open = [];
});

const warnings = (r: Replica, re: RegExp) => r.log.filter((e) => e.level === 'warn' && re.test(e.msg)).length;
const infos = (r: Replica, re: RegExp) => r.log.filter((e) => e.level === 'info' && re.test(e.msg)).length;

describe('SharedView: startup without the store', () => {
  it('required: start() rejects with StoreUnavailableError and stops listening', async () => {
    const [a] = track(replica(new MemoryBackend(), 'a', { required: true }));
    a!.store.failStart = true;
    await assert.rejects(a!.view.start(), (err: unknown) => {
      assert.ok(err instanceof StoreUnavailableError);
      assert.equal(err.code, 'KW_ERR_STORE_UNAVAILABLE');
      assert.match(err.message, /shared state store \(memory\) unreachable at startup, and redis.required is true: connect ECONNREFUSED/);
      assert.ok(err.cause instanceof Error);
      return true;
    });
    assert.equal(a!.store.listenerCount('event'), 0);
  });

  it('not required: warns once, serves local state, and syncs once the store comes up', async () => {
    const backend = new MemoryBackend();
    const [a, b] = track(replica(backend, 'a'), replica(backend, 'b'));
    await b!.view.start();
    a!.store.failStart = true;
    a!.view.setAdmin('x', { state: 'draining' }); // before start: kept for the first sync
    await a!.view.start();
    assert.equal(warnings(a!, /serving from local state; will sync when Redis is reachable/), 1);
    assert.equal(a!.view.status().available, false);

    a!.view.localVerdict('x', false);
    assert.equal(a!.target.health.get('x'), false, 'own probes still apply');
    await until(() => a!.store.refused >= 3, 1000); // several failed sync ticks
    assert.equal(a!.log.filter((e) => e.level === 'warn').length, 1, 'warned once, whatever the ticks');
    assert.deepEqual(b!.target.admin, []);

    a!.store.comeUp();
    await until(() => b!.target.admin.length === 1 && b!.target.health.get('x') === false, 1000);
    assert.equal(a!.view.status().available, true);
    assert.equal(infos(a!, /reachable again: resynchronised/), 1);
  });
});

describe('SharedView: store outage', () => {
  it('serves the last known view while down, logs once, and resyncs on up', async () => {
    const backend = new MemoryBackend();
    const [a, b] = track(replica(backend, 'a'), replica(backend, 'b'));
    await Promise.all([a!.view.start(), b!.view.start()]);
    b!.view.setAdmin('y', { weight: 2 });
    b!.view.localVerdict('y', false);
    await until(() => a!.target.admin.length === 1 && a!.target.health.get('y') === false, 1000);

    let outages = 0;
    a!.view.on('outage', () => outages++);
    a!.store.goDown();
    a!.view.localVerdict('x', false); // a write that fails: healed by the resync
    a!.view.setAdmin('x', { state: 'disabled' });
    await until(() => a!.store.polledWhileDown >= 3, 1000); // several sync ticks during the outage
    assert.equal(warnings(a!, /unreachable: serving from the last known view/), 1);
    assert.equal(outages, 1);
    assert.equal(a!.view.status().available, false);
    assert.equal(a!.target.health.get('x'), false);
    assert.equal(a!.view.mergedVerdict('y'), false, 'what it learned before the outage still holds');
    assert.equal(b!.target.admin.length, 0);

    a!.store.comeUp();
    await until(() => b!.target.admin.length === 1 && b!.target.health.get('x') === false, 1000);
    assert.deepEqual(b!.target.admin, [['x', { state: 'disabled' }]]);
    assert.equal(infos(a!, /reachable again: resynchronised/), 1);
    await nextSync(a!.view);
    assert.equal(warnings(a!, /unreachable/), 1);
  });

  it('after a store restart that lost its data, replicas re-seed every fact they know with its original stamp', async () => {
    let skewMs = 0;
    const backend = new MemoryBackend({ now: () => Date.now() + skewMs });
    const [a, b] = track(replica(backend, 'a'), replica(backend, 'b'));
    await Promise.all([a!.view.start(), b!.view.start()]);
    a!.view.setAdmin('x', { state: 'draining' });
    b!.view.setBackend('z', { removed: false, spec: { id: 'z', url: 'http://127.0.0.1:1' } });
    a!.view.localVerdict('x', false);
    await until(() => a!.target.backends.length === 1 && b!.target.admin.length === 1, 1000);
    const before = backend.read();

    for (const r of [a!, b!]) r.store.goDown();
    skewMs = 365 * 24 * 3600_000; // everything stored has expired: the data is gone
    assert.deepEqual(backend.read(), { verdicts: [], admin: [], backend: [] });
    a!.store.comeUp(); // b stays down: a alone must restore both facts

    await until(() => backend.read().admin.length === 1 && backend.read().backend.length === 1, 1000);
    const after = backend.read();
    assert.deepEqual(after.admin, before.admin, 'same atMs and by: nothing newer was invented');
    assert.deepEqual(after.backend, before.backend);
    await until(() => backend.read().verdicts.some((v) => v.replicaId === 'a' && !v.up), 1000);

    // A replica started now learns everything again.
    const [c] = track(replica(backend, 'c'));
    await c!.view.start();
    assert.deepEqual(c!.target.admin, [['x', { state: 'draining' }]]);
    assert.equal(c!.target.backends.length, 1);
    assert.equal(c!.target.health.get('x'), false);

    b!.store.comeUp();
    await nextSync(b!.view);
    assert.equal(b!.target.admin.length, 1, 'b does not re-apply what it already had');
  });

  it('a store error (a write lost while up) is logged once and healed by writing everything again', async () => {
    let skewMs = 0;
    const backend = new MemoryBackend({ now: () => Date.now() + skewMs });
    const [a] = track(replica(backend, 'a'));
    await a!.view.start();
    a!.view.setAdmin('x', { weight: 4 });
    a!.view.localVerdict('x', true);
    skewMs = 365 * 24 * 3600_000; // the writes are gone
    a!.store.emit('error', new Error('refresh failed'));
    a!.store.emit('error', new Error('refresh failed again'));
    await until(() => backend.read().admin.length === 1 && backend.read().verdicts.length === 1, 1000);
    assert.equal(warnings(a!, /store error/), 1);
    assert.equal(a!.log.filter((e) => e.level === 'warn').length, 1, 'not an outage');
  });

  it('re-seeding never rolls a newer fact back', async () => {
    const backend = new MemoryBackend();
    const [a, b] = track(replica(backend, 'a'), replica(backend, 'b'));
    await Promise.all([a!.view.start(), b!.view.start()]);
    a!.view.setAdmin('x', { state: 'draining' });
    await until(() => b!.target.admin.length === 1, 1000);

    a!.store.goDown();
    b!.view.setAdmin('x', { state: 'enabled' }); // while a cannot hear it
    a!.store.comeUp(); // a re-seeds its older 'draining'
    await until(() => a!.target.admin.length === 1, 1000);
    assert.deepEqual(a!.target.admin, [['x', { state: 'enabled' }]]);
    const stored = backend.read().admin.find((r) => r.id === 'x');
    assert.equal(stored?.by, 'b');
    assert.equal(stored?.value, '{"state":"enabled"}');
  });
});
