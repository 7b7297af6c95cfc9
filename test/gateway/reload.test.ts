import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { validateConfig, type GatewayConfig } from '../../src/config/index.js';
import { ErrorCodes } from '../../src/errors.js';
import type { BackendStatus } from '../../src/gateway/index.js';
import { backendSet } from '../helpers/backends.js';
import { startGateway, type Started } from '../helpers/gateway.js';
import { request, spread } from '../helpers/http.js';

const start = backendSet();
after(() => start.closeAll());

/** The input both the gateway and its reloads are built from, as `startGateway` completes it. */
function input(backendList: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sticky: false, strategy: 'round-robin', backends: backendList, ...extra };
}

function resolved(inp: Record<string, unknown>): GatewayConfig {
  return validateConfig({ host: '127.0.0.1', port: 0, ...inp, health: { interval: 60_000, path: '/health' }, sticky: false });
}

/** Resolves once `backend:up` has fired for every id in `ids`. Listen before causing it. */
function upFor(gw: Started, ids: string[]): Promise<void> {
  const waiting = new Set(ids);
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no backend:up for ${[...waiting].join(', ')}`)), 5000);
    const onUp = (b: BackendStatus): void => {
      waiting.delete(String(b.id));
      if (waiting.size > 0) return;
      clearTimeout(timer);
      gw.gateway.off('backend:up', onUp);
      resolve();
    };
    gw.gateway.on('backend:up', onUp);
  });
}

test('reload adds, removes, re-weights and replaces backends, and reports what needs a restart', async () => {
  const [a, b, c, d1, d2] = await start('a', 'b', 'c', 'd1', 'd2');
  const before = input([
    { id: 'a', url: a!.url },
    { id: 'b', url: b!.url },
    { id: 'd', url: d1!.url },
  ]);
  const gw = await startGateway(before);
  try {
    assert.deepEqual(await spread(gw.port, 6), { a: 2, b: 2, d1: 2 });
    const next = resolved({
      ...input([
        { id: 'a', url: a!.url, weight: 2 },
        { id: 'c', url: c!.url },
        { id: 'd', url: d2!.url },
      ]),
      port: 12345,
      shutdownGraceMs: 1234,
    });
    const up = upFor(gw, ['c', 'd']);
    const reloaded = once(gw.gateway, 'reload', { signal: AbortSignal.timeout(5000) });
    const summary = await gw.gateway.reload(next);
    assert.deepEqual(summary, { added: ['c'], removed: ['b'], replaced: ['d'], reweighted: ['a'], restartNeeded: ['port', 'shutdownGraceMs'] });
    assert.deepEqual((await reloaded)[0], summary);
    await up;

    assert.deepEqual(await spread(gw.port, 8), { a: 4, c: 2, d2: 2 });
    const hits = { b: b!.hits, d1: d1!.hits };
    await spread(gw.port, 8);
    assert.deepEqual({ b: b!.hits, d1: d1!.hits }, hits, 'removed and replaced backends get nothing');

    const config = gw.gateway.config;
    assert.deepEqual(config.backends.map((x) => [x.id, x.url, x.weight]), [
      ['a', a!.url, 2],
      ['c', c!.url, 1],
      ['d', d2!.url, 1],
    ]);
    // Settings that need a restart keep their running value.
    assert.equal(config.shutdownGraceMs, 10_000);
    assert.equal(gw.gateway.address?.port, gw.port);
    const listed = JSON.parse((await request(gw.port, { path: '/_lb/backends' })).body).backends as { id: string; url: string }[];
    assert.deepEqual(listed.map((x) => x.id).sort(), ['a', 'c', 'd']);

    // The same config again changes nothing (restart-only fields are still reported).
    const again = await gw.gateway.reload(next);
    assert.deepEqual(again, { added: [], removed: [], replaced: [], reweighted: [], restartNeeded: ['port', 'shutdownGraceMs'] });
  } finally {
    await gw.close();
  }
});

test('a backend replaced by reload takes no traffic until its new address passes a probe', async () => {
  const [a, good] = await start('a', 'good');
  const gw = await startGateway(input([{ id: 'a', url: a!.url }, { id: 'x', url: good!.url }], { health: { timeout: 300 } }));
  try {
    const summary = await gw.gateway.reload(
      validateConfig({ host: '127.0.0.1', port: 0, ...input([{ id: 'a', url: a!.url }, { id: 'x', url: 'http://127.0.0.1:9' }]), health: { interval: 60_000, path: '/health', timeout: 300 }, sticky: false }),
    );
    assert.deepEqual(summary.replaced, ['x']);
    assert.deepEqual(summary.restartNeeded, []);
    assert.deepEqual(await spread(gw.port, 6), { a: 6 });
    const x = gw.gateway.backends.find((bk) => bk.id === 'x');
    assert.equal(x?.url, 'http://127.0.0.1:9');
  } finally {
    await gw.close();
  }
});

test('runtime weight changes are in the config in force, so a reload restores the file\'s weight', async () => {
  const [a, b] = await start('a', 'b');
  const inp = input([{ id: 'a', url: a!.url }, { id: 'b', url: b!.url }]);
  const gw = await startGateway(inp);
  try {
    gw.gateway.setWeight('a', 3);
    assert.deepEqual(await spread(gw.port, 8), { a: 6, b: 2 });
    assert.equal(gw.gateway.config.backends.find((x) => x.id === 'a')?.weight, 3);
    const summary = await gw.gateway.reload(resolved(inp));
    assert.deepEqual(summary.reweighted, ['a']);
    assert.deepEqual(await spread(gw.port, 8), { a: 4, b: 4 });
  } finally {
    await gw.close();
  }
});

test('reload without a config needs a config source', async () => {
  const [a] = await start('a');
  const gw = await startGateway(input([{ id: 'a', url: a!.url }]));
  try {
    await assert.rejects(gw.gateway.reload(), (err: Error & { code?: string }) => err.code === ErrorCodes.GATEWAY_STATE);
    assert.equal((await request(gw.port)).body, 'a');
  } finally {
    await gw.close();
  }
});

test('the global health block reloads: backends added later inherit the new settings', async () => {
  const [a] = await start('a');
  const gw = await startGateway({ ...input([{ id: 'a', url: a!.url }]), admin: { token: 't' } });
  try {
    const next = validateConfig({
      host: '127.0.0.1',
      port: 0,
      ...input([{ id: 'a', url: a!.url }]),
      admin: { token: 't' },
      health: { interval: 60_000, path: '/health', timeout: 750 },
      sticky: false,
    });
    const summary = await gw.gateway.reload(next);
    assert.deepEqual(summary.replaced, ['a'], 'a changed health settings, so it is replaced');
    assert.equal(gw.gateway.config.health.timeoutMs, 750);
    const added = await request(gw.port, {
      method: 'POST',
      path: '/_lb/backends',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'b', url: a!.url }),
    });
    assert.equal(added.status, 201, added.body);
    const b = (JSON.parse((await request(gw.port, { path: '/_lb/backends' })).body).backends as { id: string; healthCheck: { timeout: number } }[]).find((x) => x.id === 'b');
    assert.equal(b?.healthCheck.timeout, 750);
  } finally {
    await gw.close();
  }
});
