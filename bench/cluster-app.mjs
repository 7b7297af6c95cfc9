/**
 * @module bench/cluster-app: the app every cluster peer runs, unchanged: a plain `http` server that calls
 * `listen(PORT)`. CLUSTER_APP=hello answers "hello world" at once; CLUSTER_APP=skew burns 50 ms of CPU (a busy loop)
 * on 10 % of requests (chosen at random) and answers the rest at once. Each answer names the worker's pid in
 * `x-worker`.
 */
import http from 'node:http';

const mode = process.env.CLUSTER_APP ?? 'hello';
const port = Number(process.env.PORT ?? 3000);
const BURN_MS = Number(process.env.CLUSTER_BURN_MS ?? 50);
const SLOW_SHARE = Number(process.env.CLUSTER_SLOW_SHARE ?? 0.1);
const body = Buffer.from('hello world\n');
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length), 'x-worker': String(process.pid) };

function burn(ms) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x++;
  return x;
}

http
  .createServer((req, res) => {
    if (mode === 'skew' && Math.random() < SLOW_SHARE) burn(BURN_MS);
    res.writeHead(200, headers);
    res.end(body);
  })
  .listen(port);
