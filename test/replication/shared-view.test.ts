/**
 * @module test/replication/shared-view: two and three replicas (SharedViews over MemoryStores sharing one
 * MemoryBackend): verdicts converge (latest wins, quorum), admin facts spread within a second, nothing is
 * republished, and a missed message heals on the next sync.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { SharedView } from '../../src/replication/index.js';
import { until } from '../helpers/wait.js';
import { closeAll, flush, nextSync, MemoryBackend, recordEvents, replica, RecordingTarget, type Replica } from './helpers.js';

let open: Replica[] = [];

async function started(backend: MemoryBackend, ids: string[], options: Parameters<typeof replica>[2] = {}): Promise<Replica[]> {
  const rs = ids.map((id) => replica(backend, id, options));
  open.push(...rs);
  await Promise.all(rs.map((r) => r.view.start()));
  return rs;
}

afterEach(async () => {
  await closeAll(open);
  open = [];
});

describe('SharedView: health verdicts', () => {
  it('default rule: a down seen on one replica is applied on the other, and so is the recovery', async () => {
    const [a, b] = await started(new MemoryBackend(), ['a', 'b']);
    a!.view.localVerdict('x', true);
    b!.view.localVerdict('x', true);
    assert.deepEqual(b!.target.healthCalls, [['x', true]], 'applied synchronously, the first time');

    a!.view.localVerdict('x', false);
    assert.equal(a!.target.health.get('x'), false, 'own change applied synchronously');
    await until(() => b!.target.health.get('x') === false, 1000);
    assert.equal(b!.view.mergedVerdict('x'), false);

    a!.view.localVerdict('x', true);
    await until(() => b!.target.health.get('x') === true, 1000);
    assert.deepEqual(b!.target.healthCalls, [['x', true], ['x', false], ['x', true]]);
  });

  it('an unchanged verdict is neither re-applied nor re-published', async () => {
    const backend = new MemoryBackend();
    const [a] = await started(backend, ['a']);
    const rec = recordEvents(backend);
    for (let i = 0; i < 5; i++) a!.view.localVerdict('x', false);
    await nextSync(a!.view); // a tick refreshed the verdict without a new event
    rec.stop();
    assert.equal(rec.events.length, 1);
    assert.deepEqual(a!.target.healthCalls, [['x', false]]);
  });

  it('quorum 2: one replica seeing a backend down is not enough; a second one is', async () => {
    const [a, b, c] = await started(new MemoryBackend(), ['a', 'b', 'c'], { healthQuorum: 2 });
    for (const r of [a!, b!, c!]) r.view.localVerdict('x', true);
    await flush();

    a!.view.localVerdict('x', false);
    assert.equal(a!.target.health.get('x'), true, 'its own down is one of the two needed');
    await nextSync(c!.view); // c has read a's verdict by now (and got it by event before)
    assert.equal(c!.target.health.get('x'), true);
    assert.equal(b!.target.health.get('x'), true);

    b!.view.localVerdict('x', false);
    assert.equal(b!.target.health.get('x'), false, 'b already knew a sees it down');
    await until(() => a!.target.health.get('x') === false && c!.target.health.get('x') === false, 1000);
  });

  it('quorum larger than the replicas: min(N, replicas with a verdict) decides', async () => {
    const [a] = await started(new MemoryBackend(), ['a'], { healthQuorum: 3 });
    a!.view.localVerdict('x', false);
    assert.equal(a!.target.health.get('x'), false, 'alone, its own verdict is the quorum');
  });

  it('a replica that stops refreshing stops counting after verdictTtlMs', async () => {
    const backend = new MemoryBackend();
    const [a, b] = await started(backend, ['a', 'b'], { verdictTtlMs: 200 });
    a!.view.localVerdict('x', true);
    b!.view.localVerdict('x', false); // the latest: down everywhere
    await until(() => a!.target.health.get('x') === false, 1000);
    assert.deepEqual(a!.view.status().peers, ['b']);

    await b!.view.close(); // b is gone: its verdict is no longer refreshed
    await until(() => a!.target.health.get('x') === true, 2000);
    assert.deepEqual(a!.view.status().peers, []);
  });

  it('forget() drops a backend’s verdicts', async () => {
    const [a] = await started(new MemoryBackend(), ['a']);
    a!.view.localVerdict('x', false);
    a!.view.forget('x');
    assert.equal(a!.view.mergedVerdict('x'), undefined);
    await nextSync(a!.view);
    assert.equal(a!.view.mergedVerdict('x'), undefined, 'its own verdict still in the store is not read back');
  });
});

describe('SharedView: admin state and runtime backends', () => {
  it('an admin fact set on one replica is applied on the others within one second, not on the writer', async () => {
    const [a, b, c] = await started(new MemoryBackend(), ['a', 'b', 'c']);
    const t0 = Date.now();
    a!.view.setAdmin('x', { state: 'draining', weight: 0 });
    await until(() => b!.target.admin.length === 1 && c!.target.admin.length === 1, 1000);
    assert.ok(Date.now() - t0 < 1000);
    assert.deepEqual(b!.target.admin, [['x', { state: 'draining', weight: 0 }]]);
    assert.deepEqual(a!.target.admin, []);
    await nextSync(a!.view);
    assert.deepEqual(a!.target.admin, [], 'its own write read back is not re-applied');
  });

  it('a backend added then removed on one replica is applied on the other, in order', async () => {
    const [a, b] = await started(new MemoryBackend(), ['a', 'b']);
    const spec = { id: 'api-9', url: 'http://127.0.0.1:9', weight: 1, pool: 'api' };
    a!.view.setBackend('api-9', { removed: false, spec });
    await until(() => b!.target.backends.length === 1, 1000);
    b!.view.setBackend('api-9', { removed: true });
    await until(() => a!.target.backends.length === 1, 1000);
    assert.deepEqual(b!.target.backends, [['api-9', { removed: false, spec }]]);
    assert.deepEqual(a!.target.backends, [['api-9', { removed: true }]]);
  });

  it('the last write wins on every replica, and is applied once', async () => {
    const [a, b] = await started(new MemoryBackend(), ['a', 'b']);
    a!.view.setAdmin('x', { state: 'disabled' });
    await until(() => b!.target.admin.length === 1, 1000);
    b!.view.setAdmin('x', { state: 'enabled' });
    await until(() => a!.target.admin.length === 1, 1000);
    await Promise.all([nextSync(a!.view), nextSync(b!.view)]);
    assert.deepEqual(a!.target.admin, [['x', { state: 'enabled' }]]);
    assert.equal(b!.target.admin.length, 1, 'b does not re-apply a’s older write');
  });

  it('learning from others publishes nothing (no republish loop)', async () => {
    const backend = new MemoryBackend();
    const [a, b] = await started(backend, ['a', 'b']);
    a!.view.localVerdict('x', true);
    b!.view.localVerdict('x', true);
    await flush();
    const rec = recordEvents(backend);
    a!.view.setAdmin('x', { state: 'draining' });
    a!.view.localVerdict('x', false);
    await until(() => b!.target.admin.length === 1 && b!.target.health.get('x') === false, 1000);
    await nextSync(b!.view);
    await nextSync(b!.view);
    rec.stop();
    assert.deepEqual(rec.events.map((e) => [e.type, e.from]), [['register', 'a'], ['verdict', 'a']]);
  });

  it('a replica that missed a message heals on the next sync tick', async () => {
    const [a, b] = await started(new MemoryBackend(), ['a', 'b']);
    b!.store.deaf = true;
    a!.view.setAdmin('x', { weight: 5 });
    a!.view.localVerdict('x', false);
    await flush();
    assert.deepEqual(b!.target.admin, [], 'the event was missed');
    b!.store.deaf = false;
    await until(() => b!.target.admin.length === 1 && b!.target.health.get('x') === false, 1000);
    assert.deepEqual(b!.target.admin, [['x', { weight: 5 }]]);
  });

  it('a replica started after the writes learns them at startup', async () => {
    const backend = new MemoryBackend();
    const [a] = await started(backend, ['a']);
    a!.view.setAdmin('x', { state: 'disabled' });
    a!.view.setBackend('y', { removed: false, spec: { id: 'y', url: 'http://127.0.0.1:1' } });
    a!.view.localVerdict('y', false);
    const [b] = await started(backend, ['b']);
    assert.deepEqual(b!.target.admin, [['x', { state: 'disabled' }]]);
    assert.equal(b!.target.backends.length, 1);
    assert.equal(b!.target.health.get('y'), false);
  });

  it('a malformed value in the store is skipped and logged once, never thrown', async () => {
    const backend = new MemoryBackend();
    const [a] = await started(backend, ['a']);
    await a!.store.putRegister('admin', { id: 'x', value: '{"state":"paused"}', atMs: Date.now(), by: 'z' }, 60_000);
    await nextSync(a!.view);
    await nextSync(a!.view);
    assert.deepEqual(a!.target.admin, []);
    assert.equal(a!.log.filter((e) => e.level === 'warn' && /malformed/.test(e.msg)).length, 1);
  });

  it('a throwing target does not break the view', async () => {
    const backend = new MemoryBackend();
    const [a, b] = await started(backend, ['a', 'b']);
    b!.target.applyAdmin = () => {
      throw new Error('boom');
    };
    a!.view.setAdmin('x', { state: 'draining' });
    a!.view.setAdmin('y', { state: 'draining' });
    await until(() => b!.log.filter((e) => e.level === 'error').length === 2, 1000);
    await nextSync(b!.view);
  });
});

describe('SharedView: lifecycle', () => {
  it('status() names the store, the replica and its peers', async () => {
    const [a, b] = await started(new MemoryBackend(), ['a', 'b']);
    b!.view.localVerdict('x', true);
    await until(() => a!.view.status().peers.length === 1, 1000);
    const s = a!.view.status();
    assert.equal(s.store, 'memory');
    assert.equal(s.available, true);
    assert.equal(s.replicaId, 'a');
    assert.deepEqual(s.peers, ['b']);
    assert.ok(s.lastSyncAt !== null && !Number.isNaN(Date.parse(s.lastSyncAt)));
  });

  it('close() is idempotent, stops listening and leaves the store open', async () => {
    const [a] = await started(new MemoryBackend(), ['a']);
    await a!.view.close();
    await a!.view.close();
    assert.equal(a!.store.listenerCount('event'), 0);
    assert.equal(a!.store.listenerCount('up'), 0);
    assert.equal(a!.store.available, true);
    await assert.rejects(a!.view.start(), { code: 'KW_ERR_GATEWAY_STATE' });
  });

  it('start() is idempotent', async () => {
    const r = replica(new MemoryBackend(), 'a');
    open.push(r);
    const p = r.view.start();
    assert.equal(r.view.start(), p);
    await p;
    assert.equal(r.store.listenerCount('event'), 1);
  });

  it('refuses invalid options', () => {
    const store = replica(new MemoryBackend(), 'a').store;
    const base = { replicaId: 'a', verdictTtlMs: 1, stateTtlMs: 1, syncIntervalMs: 1, healthQuorum: undefined, required: false };
    assert.throws(() => new SharedView(store, new RecordingTarget(), { ...base, healthQuorum: 0 }), RangeError);
    assert.throws(() => new SharedView(store, new RecordingTarget(), { ...base, syncIntervalMs: 0 }), RangeError);
    assert.throws(() => new SharedView(store, new RecordingTarget(), { ...base, replicaId: '' }), RangeError);
  });
});
