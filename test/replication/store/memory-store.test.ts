import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGatewayStore, MemoryBackend, MemoryStore } from '../../../src/replication/store/index.js';
import { storeConformance } from './store-conformance.js';

storeConformance('memory', async (count) => {
  const backend = new MemoryBackend();
  return Array.from({ length: count }, () => new MemoryStore({ backend }));
});

describe('MemoryStore', () => {
  it('is always available and keeps its own backend by default', async () => {
    const a = new MemoryStore();
    const b = new MemoryStore();
    await Promise.all([a.start(), b.start()]);
    assert.equal(a.kind, 'memory');
    assert.equal(a.available, true);
    await a.putVerdict({ backendId: 'x', replicaId: 'a', up: true, sinceMs: 1 }, 1000);
    assert.equal((await b.read()).verdicts.length, 0, 'separate backends share nothing');
    await Promise.all([a.close(), b.close()]);
  });

  it('delivers events asynchronously, not before start() nor after close()', async () => {
    const backend = new MemoryBackend();
    const writer = new MemoryStore({ backend });
    const reader = new MemoryStore({ backend });
    let seen = 0;
    reader.on('event', () => seen++);
    await writer.putVerdict({ backendId: 'x', replicaId: 'w', up: true, sinceMs: 1 }, 1000);
    await new Promise((r) => setImmediate(r));
    assert.equal(seen, 0, 'not subscribed before start()');
    await reader.start();
    await writer.putVerdict({ backendId: 'x', replicaId: 'w', up: false, sinceMs: 2 }, 1000);
    assert.equal(seen, 0, 'not delivered synchronously');
    await new Promise((r) => setImmediate(r));
    assert.equal(seen, 1);
    await writer.putVerdict({ backendId: 'x', replicaId: 'w', up: true, sinceMs: 3 }, 1000);
    await reader.close();
    await new Promise((r) => setImmediate(r));
    assert.equal(seen, 1, 'nothing after close()');
    await writer.close();
  });

  it('uses the injected clock for expiry', async () => {
    let now = 1000;
    const store = new MemoryStore({ backend: new MemoryBackend({ now: () => now }) });
    await store.start();
    await store.putRegister('admin', { id: 'a', value: 'v', atMs: 5, by: 'r' }, 100);
    now = 1099;
    assert.equal((await store.read()).admin.length, 1);
    now = 1100;
    assert.equal((await store.read()).admin.length, 0);
    await store.close();
  });

  it('register events carry the store replicaId as from when given', async () => {
    const store = new MemoryStore({ replicaId: 'me' });
    await store.start();
    const event = new Promise((resolve) => store.once('event', resolve));
    await store.putRegister('backend', { id: 'a', value: 'v', atMs: 5, by: 'someone-else' }, 100);
    assert.equal(((await event) as { from: string }).from, 'me');
    await store.close();
  });

  it('createGatewayStore(false) makes a memory store', async () => {
    const store = createGatewayStore(false);
    assert.equal(store.kind, 'memory');
    await store.close();
  });
});
