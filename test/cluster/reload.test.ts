/**
 * Rolling reload of a cluster under load, with real worker processes: 2 workers (graceMs 1000), ~300 req/s of
 * requests (half over kept-alive connections, half on new ones) and 200 open WebSockets to the app (a `ws` server on
 * its http server; a client whose socket closes reconnects), while `reload()` runs 20 times in a row:
 * - no HTTP request fails;
 * - every WebSocket of a replaced worker is closed with 1012 (service restart), none with anything else, and every
 *   reconnection opens;
 * - every reload replaces both pids with new ones (42 distinct workers in all), and the load keeps flowing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { until } from '../helpers/wait.js';
import { countBy, slotsOf, Load, startCluster, stopClusters } from './rig.js';

after(stopClusters);

interface Session {
  /** The worker that greeted it. */
  pid: number | undefined;
  openedAt: number;
  closedAt: number;
  code: number | undefined;
}

/** WebSocket clients that reconnect while `running`; every session kept. */
class Sockets {
  readonly sessions: Session[] = [];
  readonly failures: string[] = [];
  readonly #open = new Set<WebSocket>();
  running = true;
  constructor(readonly port: number) {}

  connect(): Promise<void> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${this.port}/`);
      const s: Session = { pid: undefined, openedAt: 0, closedAt: 0, code: undefined };
      let settled = false;
      const settle = (): void => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      ws.on('open', () => {
        s.openedAt = Date.now();
        this.sessions.push(s);
        this.#open.add(ws);
      });
      ws.on('message', (data: Buffer) => {
        const m = /^pid (\d+)$/.exec(data.toString());
        if (m !== null && s.pid === undefined) {
          s.pid = Number(m[1]);
          settle();
        }
      });
      ws.on('error', (err) => {
        if (s.openedAt === 0) this.failures.push(err.message);
      });
      ws.on('close', (code) => {
        this.#open.delete(ws);
        settle();
        if (s.openedAt === 0) return;
        s.closedAt = Date.now();
        s.code = code;
        if (this.running) setTimeout(() => void this.connect(), 20 + Math.random() * 80);
      });
    });
  }

  get openCount(): number {
    return this.#open.size;
  }

  async stop(): Promise<void> {
    this.running = false;
    const all = [...this.#open];
    await Promise.all(
      all.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.terminate();
          }),
      ),
    );
  }
}

test('reload() 20 times under HTTP load with 200 WebSockets: no failed request, old workers\' sockets closed with 1012', { timeout: 60_000 }, async (t) => {
  const rig = await startCluster({ workers: 2, graceMs: 1000 });
  await until(() => rig.primary.status.workers.every((w) => w.state === 'ready'), 10_000, () => `both workers ready: ${slotsOf(rig)}`);

  const sockets = new Sockets(rig.port);
  for (let i = 0; i < 4; i++) await Promise.all(Array.from({ length: 50 }, () => sockets.connect()));
  assert.equal(sockets.openCount, 200, `200 WebSockets open (failures: ${sockets.failures.join('; ')})`);
  console.log(`# WebSockets per worker at start: ${JSON.stringify([...countBy(sockets.sessions, (s) => s.pid)])}`);

  const load = new Load({ port: rig.port, ratePerSecond: 300, keepAliveShare: 0.5, maxInflight: 100 }).start();
  await load.more(100, 10_000);

  const generations: number[][] = [rig.primary.status.workers.map((w) => w.pid as number)];
  const startedAt = Date.now();
  for (let i = 0; i < 20; i++) {
    await rig.primary.reload();
    const pids = rig.primary.status.workers.map((w) => w.pid as number);
    generations.push(pids);
    assert.ok(
      rig.primary.status.workers.every((w) => w.state === 'ready'),
      `after reload ${i + 1}: ${slotsOf(rig)}`,
    );
  }
  const reloadMs = Date.now() - startedAt;
  // The load still flows after the last reload, and reconnected sockets settle.
  await load.more(100, 10_000);
  await until(() => sockets.openCount === 200, 10_000, () => `200 WebSockets open again: ${sockets.openCount}`);
  await load.stop();
  await sockets.stop();

  // Each claim as its own subtest, so one failing does not hide the others.
  await t.test('no HTTP request failed', () => {
    const failed = load.failures();
    const kinds = countBy(failed, (f) => `${f.keepAlive ? (f.reused ? 'kept-alive, reused socket' : 'kept-alive, new socket') : 'new connection'}: ${f.error ?? f.status}`);
    console.log(`# 20 reloads in ${reloadMs} ms; ${load.outcomes.length} requests, ${failed.length} failed ${JSON.stringify([...kinds])}, ${load.skipped} skipped`);
    assert.equal(failed.length, 0, `failed requests: ${JSON.stringify([...kinds])}`);
    assert.equal(load.skipped, 0, 'the load never backed up');
  });

  await t.test('every reload replaced both pids with new ones', () => {
    const all = generations.flat();
    assert.equal(new Set(all).size, 42, `42 distinct workers over 21 generations: ${JSON.stringify(generations)}`);
    for (let i = 1; i < generations.length; i++) {
      for (const pid of generations[i] as number[]) assert.ok(!(generations[i - 1] as number[]).includes(pid), `reload ${i} replaced ${pid}`);
    }
  });

  await t.test("every replaced worker's WebSockets closed with 1012; every reconnection opened", () => {
    const finalPids = generations.at(-1) as number[];
    const ofReplaced = sockets.sessions.filter((s) => s.pid !== undefined && !finalPids.includes(s.pid));
    const byCode = countBy(ofReplaced, (s) => s.code);
    console.log(`# WebSocket sessions: ${sockets.sessions.length}; ${ofReplaced.length} on replaced workers, closed by code ${JSON.stringify([...byCode])}; ${sockets.failures.length} failed to open`);
    assert.equal(sockets.failures.length, 0, `WebSocket connects failed: ${sockets.failures.slice(0, 5).join('; ')}`);
    for (const s of ofReplaced) assert.equal(s.code, 1012, `a WebSocket of replaced worker ${s.pid} closed with ${s.code}`);
    assert.ok(ofReplaced.length >= 200, `${ofReplaced.length} WebSockets closed with 1012`);
  });
});
