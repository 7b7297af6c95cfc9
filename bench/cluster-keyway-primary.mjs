/**
 * @module bench/cluster-keyway-primary: the keyway peer: `startCluster({ script: bench/cluster-app.mjs, workers,
 * port, balance })` from the measured build (KEYWAY_BENCH_DIST, else dist/). Prints READY once it listens;
 * SIGUSR2: `primary.reload()`, then prints RELOADED (and the status); SIGTERM: `primary.close()`, then exits.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = process.env.KEYWAY_BENCH_DIST ?? fileURLToPath(new URL('../dist', import.meta.url));
const { startCluster } = await import(pathToFileURL(join(DIST, 'cluster', 'index.js')).href);
const primary = await startCluster({
  script: fileURLToPath(new URL('./cluster-app.mjs', import.meta.url)),
  workers: Number(process.env.CLUSTER_WORKERS ?? 2),
  port: Number(process.env.PORT),
  host: '127.0.0.1',
  balance: process.env.CLUSTER_BALANCE ?? 'connection',
});
primary.on('crash', (e) => console.log(`CRASH ${JSON.stringify(e)}`));
// start() resolves on the first ready worker: wait for all of them.
while (primary.status.workers.some((w) => w.state !== 'ready')) await new Promise((r) => setTimeout(r, 20));
console.log('READY');
let reloading = false;
process.on('SIGUSR2', () => {
  if (reloading) return;
  reloading = true;
  const t0 = Date.now();
  primary.reload().then(() => {
    reloading = false;
    const s = primary.status;
    console.log(`RELOADED ${Date.now() - t0} ${JSON.stringify({ dispatched: s.dispatched, dropped: s.dropped, workers: s.workers.map((w) => w.state) })}`);
  });
});
process.on('SIGTERM', () => {
  const s = primary.status;
  console.log(`STATUS ${JSON.stringify({ dispatched: s.dispatched, dropped: s.dropped })}`);
  primary.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
});
