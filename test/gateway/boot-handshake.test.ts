/**
 * The boot handshake through a real gateway: a backend that restarts (new boot id) loses its sticky clients'
 * pinning; a backend whose settings differ is excluded (`mismatch`), or refuses startup with
 * `strictBootHandshake`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { createBootHandshake, type BootHandshake } from '../../src/backend/index.js';
import { BootMismatchError } from '../../src/index.js';
import { backendSet, startBackend, type TestBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway.js';
import { cookieFrom, request } from '../helpers/http.js';
import { until } from '../helpers/wait.js';

const start = backendSet();
after(start.closeAll);

/** A backend answering the handshake from whichever `BootHandshake` `current()` returns. */
async function bootBackend(name: string, current: () => BootHandshake): Promise<TestBackend> {
  const b = await startBackend(name, (req, res) => {
    if (!current().handle(req, res)) res.end(name);
  });
  start.track(b);
  return b;
}

describe('boot handshake', () => {
  test('a new boot id resets sticky pinning to that backend', { timeout: 20_000 }, async () => {
    // One process plays both backends here, so each gets a boot id of its own (the default is one per process).
    let aBoot = createBootHandshake({ settings: { schema: 3 }, bootId: randomUUID() });
    const bBoot = createBootHandshake({ settings: { schema: 3 }, bootId: randomUUID() });
    const a = await bootBackend('a', () => aBoot);
    const b = await bootBackend('b', () => bBoot);
    const gw = await startGateway({
      backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }],
      bootHandshake: { intervalMs: 100 },
    });
    after(gw.close);
    const ua = gw.gateway.upstreams.find((u) => u.id === 'a')!;
    assert.equal(ua.bootId, aBoot.bootId, 'the boot id is recorded before the gateway listens');
    // Find a client pinned to a.
    let cookie: string | undefined;
    for (let i = 0; i < 10 && cookie === undefined; i++) {
      const r = await request(gw.port);
      if (r.body === 'a') cookie = cookieFrom(r, 'keyway_sticky');
    }
    assert.ok(cookie);
    for (let i = 0; i < 5; i++) assert.equal((await request(gw.port, { headers: { cookie: cookie! } })).body, 'a');

    const restarted = new Promise((resolve) => gw.gateway.once('backend:restarted', resolve));
    aBoot = createBootHandshake({ settings: { schema: 3 }, bootId: randomUUID() }); // a new process: a new boot id
    await restarted;
    assert.equal(ua.bootId, aBoot.bootId);
    const r = await request(gw.port, { headers: { cookie: cookie! } });
    assert.ok(cookieFrom(r, 'keyway_sticky'), 'the old cookie no longer pins: the client is re-pinned');
    assert.notEqual(cookieFrom(r, 'keyway_sticky'), cookie);
  });

  test('a backend whose settings differ is marked mismatch and gets no traffic until they match', { timeout: 20_000 }, async () => {
    let cBoot = createBootHandshake({ settings: { schema: 3, region: 'eu' } });
    const aBoot = createBootHandshake({ settings: { schema: 3, region: 'eu' } });
    const a = await bootBackend('a', () => aBoot);
    const c = await bootBackend('c', () => cBoot);
    const gw = await startGateway({
      backends: [{ id: 'a', url: a.url }, { id: 'c', url: c.url }],
      bootHandshake: { intervalMs: 100, expect: aBoot.settings },
    });
    after(gw.close);
    assert.deepEqual((await request(gw.port)).body, 'a');
    const mismatch = new Promise<readonly string[]>((resolve) => gw.gateway.once('backend:mismatch', (_b, diffs) => resolve(diffs)));
    cBoot = createBootHandshake({ settings: { schema: 4, region: 'eu' } });
    assert.deepEqual(await mismatch, ['schema']);
    const uc = gw.gateway.upstreams.find((u) => u.id === 'c')!;
    assert.equal(uc.mismatch, true);
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((await request(gw.port)).body);
    assert.deepEqual([...seen], ['a'], 'the mismatching backend takes no traffic');
    const listed = await request(gw.port, { path: '/_lb/backends' });
    const entry = JSON.parse(listed.body).backends.find((x: { id: string }) => x.id === 'c');
    assert.equal(entry.mismatch, true);

    cBoot = createBootHandshake({ settings: { schema: 3, region: 'eu' } });
    await until(() => !uc.mismatch, 5000);
    const back = new Set<string>();
    for (let i = 0; i < 10; i++) back.add((await request(gw.port)).body);
    assert.deepEqual([...back].sort(), ['a', 'c']);
  });

  test('strictBootHandshake refuses to start, naming the backend and the settings that differ', { timeout: 20_000 }, async () => {
    const aBoot = createBootHandshake({ settings: { schema: 3, flags: ['x'] } });
    const bBoot = createBootHandshake({ settings: { schema: 3, flags: ['y'] } });
    const a = await bootBackend('a', () => aBoot);
    const b = await bootBackend('b', () => bBoot);
    await assert.rejects(
      startGateway({ backends: [{ id: 'a', url: a.url }, { id: 'b', url: b.url }], strictBootHandshake: true }),
      (err: unknown) => {
        assert.ok(err instanceof BootMismatchError);
        assert.match(err.message, /"b"/);
        assert.match(err.message, /flags/);
        assert.doesNotMatch(err.message, /schema/);
        return true;
      },
    );
  });
});
