/** BootWatcher against real HTTP backends on 127.0.0.1 that serve `keyway/backend`'s handshake. */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { createBootHandshake, DEFAULT_BOOT_PATH, hashSetting, type BootHandshake } from '../../src/backend/index.js';
import type { BackendConfig, BootHandshakeConfig } from '../../src/config/types.js';
import { BootMismatchError, ErrorCodes, GatewayStateError } from '../../src/errors.js';
import { BootWatcher, diffSettings, type BootWatcherOptions } from '../../src/handshake/index.js';
import { Upstream } from '../../src/upstream/index.js';
import { backend, sleep } from '../health/helpers.js';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { until } from '../helpers/wait.js';
import { within } from '../upstream/fixtures.js';

/** A backend whose handshake the test swaps; `null` answers 404 as an app without the helper would. */
interface BootBackend extends TestBackend {
  handshake: BootHandshake | null;
  upstream: Upstream;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function bootBackend(id: string, handshake: BootHandshake | null, pool = 'default'): Promise<BootBackend> {
  const slot: { self?: BootBackend } = {};
  const b = await startBackend(id, (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (slot.self?.handshake?.handle(req, res)) return;
    res.statusCode = 404;
    res.end('not found');
  });
  cleanups.push(() => b.close());
  slot.self = Object.assign(b, { handshake, upstream: new Upstream(backendConfig(id, b.url, pool)) });
  return slot.self;
}

/** A backend config on `pool`, probed every 25 ms (rise 1, fall 1). */
function backendConfig(id: string, url: string, pool: string): BackendConfig {
  return { ...backend(url, { intervalMs: 25, rise: 1, fall: 1 }, id), pool };
}

function watcher(config: Partial<BootHandshakeConfig> = {}, options: BootWatcherOptions = {}): BootWatcher {
  const w = new BootWatcher({ path: DEFAULT_BOOT_PATH, intervalMs: undefined, timeoutMs: 1000, expect: undefined, ...config }, options);
  cleanups.push(() => w.close());
  return w;
}

const boot = (bootId: string, settings: Record<string, unknown>): BootHandshake => createBootHandshake({ bootId, settings });

/** How long a test waits for a watcher event before failing. */
const WAIT_MS = 3000;
const PROD = { NODE_ENV: 'production', schema: 7 };

describe('BootWatcher', () => {
  it('records each backend boot id in checkAll() and marks matching backends ok', async () => {
    const a = await bootBackend('a', boot('boot-a', PROD));
    const b = await bootBackend('b', boot('boot-b', PROD));
    const w = watcher();
    void w.track(a.upstream, 'default');
    void w.track(b.upstream, 'default');
    assert.equal(w.stateOf('a'), 'unknown');
    await w.checkAll();
    assert.equal(w.bootIdOf('a'), 'boot-a');
    assert.equal(w.bootIdOf('b'), 'boot-b');
    assert.equal(w.stateOf('a'), 'ok');
    assert.equal(w.stateOf('b'), 'ok');
    assert.equal(w.strictCheck(), undefined);
  });

  it('emits restart with the previous and the new boot id when another id is served', async () => {
    const a = await bootBackend('a', boot('boot-1', PROD));
    const w = watcher({ intervalMs: 20 });
    void w.track(a.upstream, 'default');
    await w.checkAll();
    a.handshake = boot('boot-2', PROD);
    const [u, previous, current] = await within<[Upstream, string, string]>(w, 'restart', WAIT_MS);
    assert.equal(u, a.upstream);
    assert.equal(previous, 'boot-1');
    assert.equal(current, 'boot-2');
    assert.equal(w.bootIdOf('a'), 'boot-2');
    assert.equal(w.stateOf('a'), 'ok');
  });

  it('flags settings that differ from expect, ignoring settings expect does not name', async () => {
    const a = await bootBackend('a', boot('boot-a', { NODE_ENV: 'development', extra: true }));
    const expect = { NODE_ENV: hashSetting('production'), schema: hashSetting(7) };
    const w = watcher({ expect });
    void w.track(a.upstream, 'default');
    const event = within<[Upstream, string[], string]>(w, 'mismatch', WAIT_MS);
    await w.checkAll();
    const [u, differences, message] = await event;
    assert.equal(u, a.upstream);
    assert.deepEqual(differences, ['NODE_ENV', 'schema']);
    assert.match(message, /backend "a" \(http:\/\/127\.0\.0\.1:\d+\) differs from the topology on settings: NODE_ENV, schema \(missing\)/);
    assert.match(message, /reference: bootHandshake\.expect/);
    assert.equal(w.stateOf('a'), 'mismatch');
    assert.deepEqual(w.differencesOf('a'), ['NODE_ENV', 'schema']);
  });

  it('takes the first backend of a pool as its reference, flags the one that differs, then reports match once fixed', async () => {
    const a = await bootBackend('a', boot('boot-a', PROD));
    const b = await bootBackend('b', boot('boot-b', { ...PROD, NODE_ENV: 'development' }));
    const other = await bootBackend('c', boot('boot-c', { NODE_ENV: 'staging' }));
    const w = watcher({ intervalMs: 20 });
    const mismatches: string[] = [];
    w.on('mismatch', (u) => mismatches.push(u.id));
    void w.track(a.upstream, 'api');
    void w.track(b.upstream, 'api');
    void w.track(other.upstream, 'other'); // its own pool, its own reference
    await w.checkAll();
    assert.deepEqual(mismatches, ['b']);
    assert.equal(w.stateOf('a'), 'ok');
    assert.equal(w.stateOf('c'), 'ok');
    assert.deepEqual(w.differencesOf('b'), ['NODE_ENV']);

    const restarted = within<[Upstream, string, string]>(w, 'restart', WAIT_MS);
    const matched = within<[Upstream]>(w, 'match', WAIT_MS);
    b.handshake = boot('boot-b2', PROD);
    assert.equal((await matched)[0], b.upstream);
    assert.deepEqual((await restarted).slice(1), ['boot-b', 'boot-b2']);
    assert.equal(w.stateOf('b'), 'ok');
    assert.deepEqual(mismatches, ['b'], 'no repeated mismatch events while it stayed mismatched');
  });

  it('counts settings missing from or added to the reference answer', () => {
    const reference = { settings: { a: 'x', b: 'y' }, source: 'test' };
    assert.deepEqual(diffSettings(reference, { a: 'X', c: 'z' }), [
      { name: 'b', kind: 'missing' },
      { name: 'c', kind: 'extra' },
    ]);
    assert.deepEqual(diffSettings({ ...reference, exact: false }, { a: 'x', b: 'y', c: 'z' }), []);
  });

  it('uses referenceFor when given', async () => {
    const a = await bootBackend('a', boot('boot-a', PROD));
    const w = watcher({}, { referenceFor: () => ({ settings: { NODE_ENV: hashSetting('staging') }, source: 'replica r1' }) });
    void w.track(a.upstream, 'default');
    await w.checkAll();
    assert.equal(w.stateOf('a'), 'mismatch');
    assert.match(w.strictCheck()?.message ?? '', /NODE_ENV, schema \(extra\) \(reference: replica r1\)/);
  });

  it('leaves a backend without the helper (404) or with invalid JSON unknown, never mismatch', async () => {
    const plain = await bootBackend('plain', null);
    const garbage = await startBackend('garbage', (_req, res) => res.end('{"bootId":'));
    cleanups.push(() => garbage.close());
    const w = watcher({ expect: { NODE_ENV: hashSetting('production') } });
    let mismatches = 0;
    w.on('mismatch', () => mismatches++);
    void w.track(plain.upstream, 'default');
    void w.track(new Upstream(backendConfig('garbage', garbage.url, 'default')), 'default');
    await w.checkAll();
    assert.equal(w.stateOf('plain'), 'unknown');
    assert.equal(w.stateOf('garbage'), 'unknown');
    assert.equal(w.bootIdOf('plain'), undefined);
    assert.equal(mismatches, 0);
    assert.equal(w.strictCheck(), undefined);
  });

  it('keeps the last state of a backend that stops answering, and goes unknown when it answers 404', async () => {
    const a = await bootBackend('a', boot('boot-a', { NODE_ENV: 'dev' }));
    const w = watcher({ intervalMs: 20, timeoutMs: 200, expect: { NODE_ENV: hashSetting('production') } });
    void w.track(a.upstream, 'default');
    await w.checkAll();
    assert.equal(w.stateOf('a'), 'mismatch');
    await a.close();
    await sleep(100); // several failed reads
    assert.equal(w.stateOf('a'), 'mismatch');
    a.handshake = null;
    await a.restart();
    const [, state, previous] = await within<[Upstream, string, string]>(w, 'state', WAIT_MS);
    assert.deepEqual([state, previous], ['unknown', 'mismatch']);
  });

  it('strictCheck() returns a BootMismatchError naming every mismatching backend and its settings', async () => {
    const a = await bootBackend('a', boot('boot-a', PROD));
    const b = await bootBackend('b2', boot('boot-b', { NODE_ENV: 'development', schema: 7 }));
    const c = await bootBackend('c3', boot('boot-c', { NODE_ENV: 'production', schema: 8 }));
    const w = watcher();
    for (const x of [a, b, c]) void w.track(x.upstream, 'default');
    await w.checkAll();
    const err = w.strictCheck();
    assert.ok(err instanceof BootMismatchError);
    assert.equal(err.code, ErrorCodes.BOOT_MISMATCH);
    assert.match(err.message, /2 backends differ/);
    assert.ok(err.message.includes(`backend "b2" (${b.url}) differs from the topology on settings: NODE_ENV`), err.message);
    assert.ok(err.message.includes(`backend "c3" (${c.url}) differs from the topology on settings: schema`), err.message);
    assert.ok(err.message.includes('reference: backend "a" of pool "default"'), err.message);
  });

  it('never overlaps reads of one backend, however slow it answers', async () => {
    let open = 0;
    let most = 0;
    const handshake = boot('boot-slow', PROD);
    const slow = await startBackend('slow', (req, res) => {
      open++;
      most = Math.max(most, open);
      setTimeout(() => {
        open--;
        handshake.handle(req, res);
      }, 60);
    });
    cleanups.push(() => slow.close());
    const w = watcher({ intervalMs: 5 });
    void w.track(new Upstream(backendConfig('slow', slow.url, 'default')), 'default');
    await w.checkAll();
    await until(() => slow.hits >= 3);
    assert.equal(most, 1);
  });

  it('tracks a backend added after checkAll() at once, and untrack() stops its reads', async () => {
    const w = watcher({ intervalMs: 20 });
    await w.checkAll();
    const a = await bootBackend('a', boot('boot-a', PROD));
    await w.track(a.upstream, 'default');
    assert.equal(w.bootIdOf('a'), 'boot-a');
    assert.equal(w.untrack('a'), true);
    assert.equal(w.untrack('a'), false);
    const hits = a.hits;
    await sleep(80);
    assert.equal(a.hits, hits);
    assert.equal(w.stateOf('a'), 'unknown');
  });

  it('close() stops every timer and read, is idempotent, and refuses work afterwards', async () => {
    const a = await bootBackend('a', boot('boot-a', PROD));
    const w = watcher({ intervalMs: 10 });
    void w.track(a.upstream, 'default');
    await w.checkAll();
    await until(() => a.hits >= 3);
    const closing = w.close();
    assert.equal(w.close(), closing);
    await closing;
    const hits = a.hits;
    await sleep(80);
    assert.equal(a.hits, hits, 'no read after close()');
    assert.throws(() => w.track(a.upstream, 'default'), GatewayStateError);
    await assert.rejects(w.checkAll(), GatewayStateError);
  });
});
