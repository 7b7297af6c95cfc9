/**
 * @module bench/cluster-node-primary: the `node:cluster` peer: a tiny primary that forks CLUSTER_WORKERS (2) workers
 * running bench/cluster-app.mjs, with Node's default scheduling (round-robin on Linux). A worker that exits unasked
 * is re-forked. SIGUSR2: a rolling restart, as one would write it by hand: for each worker, fork its replacement,
 * wait until it listens, then `disconnect()` the old one (its server closes, it exits once its connections end);
 * prints RELOADED when done. SIGTERM: disconnect every worker and exit.
 */
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';

const APP = fileURLToPath(new URL('./cluster-app.mjs', import.meta.url));
const n = Number(process.env.CLUSTER_WORKERS ?? 2);
cluster.setupPrimary({ exec: APP });
const replacing = new Set();
let closing = false;

function forkOne() {
  const w = cluster.fork();
  w.on('exit', () => {
    if (!closing && !replacing.has(w.id)) forkOne();
    replacing.delete(w.id);
  });
  return w;
}

for (let i = 0; i < n; i++) forkOne();
let listening = 0;
cluster.on('listening', () => {
  if (++listening === n) console.log('READY');
});

let reloading = null;
process.on('SIGUSR2', () => {
  reloading ??= (async () => {
    for (const old of Object.values(cluster.workers)) {
      const next = forkOne();
      await new Promise((r) => next.once('listening', r));
      replacing.add(old.id);
      const gone = new Promise((r) => old.once('exit', r));
      old.disconnect();
      // As a hand-written primary would: kill one that does not finish (keep-alive clients keep it open).
      const timer = setTimeout(() => old.process.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    console.log('RELOADED');
  })().finally(() => (reloading = null));
});
process.on('SIGTERM', () => {
  closing = true;
  for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
  setTimeout(() => process.exit(0), 200);
});
