/**
 * socket.io through cluster mode, per request, with 2 workers: every client's polling handshake, its later polls and
 * the WebSocket upgrade reach one worker (the gateway's signed sticky cookie), so no "Session ID unknown", and the
 * clients are spread over both workers.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { ClusterPrimary } from '../../src/cluster/index.js';

const APP = fileURLToPath(new URL('./fixtures/socketio-app.js', import.meta.url));
const primaries: ClusterPrimary[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const s of sockets) s.close();
  await Promise.all(primaries.map((p) => p.close()));
});

test('20 socket.io clients: polling, then upgrade, no session error, answered by the worker that holds them', { timeout: 30_000 }, async () => {
  const primary = new ClusterPrimary({ script: APP, workers: 2, port: 0, host: '127.0.0.1', balance: 'request', graceMs: 1000 });
  primaries.push(primary);
  const port = await primary.start();
  const end = Date.now() + 10_000;
  while (primary.status.workers.filter((w) => w.state === 'ready').length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 400));
  const errors: string[] = [];
  const pids = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const s = io(`http://127.0.0.1:${port}`, { transports: ['polling', 'websocket'], withCredentials: true, reconnection: false });
      sockets.push(s);
      s.on('connect_error', (err) => errors.push(err.message));
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
      const before = await s.timeout(5000).emitWithAck('whoami');
      await new Promise<void>((resolve) => {
        if (s.io.engine.transport.name === 'websocket') resolve();
        else s.io.engine.once('upgrade', () => resolve());
      });
      const afterUpgrade = await s.timeout(5000).emitWithAck('whoami');
      assert.equal(afterUpgrade, before, 'the upgrade reached the worker that held the polling session');
      return before as number;
    }),
  );
  assert.deepEqual(errors, []);
  assert.equal(new Set(pids).size, 2, 'the clients are spread over both workers');
});
