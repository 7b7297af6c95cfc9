/**
 * @module bench/lib/wrk: runs wrk (one thread, pinned to the load CPU) and reads the line bench/wrk/report.lua
 * prints. Against "direct" two wrk processes split the connections over the two backends and their results are
 * combined: requests added, percentiles the worse of the two.
 */
import { fileURLToPath } from 'node:url';
import { LOAD_CPU, runPinned } from './procs.mjs';

const SCRIPT = fileURLToPath(new URL('../wrk/report.lua', import.meta.url));

/**
 * Load `ports` (one wrk per port, `connections` split evenly) for `seconds`. With `rate` (requests/s over all
 * connections) each connection is paced by report.lua's delay(). Returns
 * `{ rps, requests, errors, p50Ms, p90Ms, p99Ms, p999Ms, maxMs, text }`.
 */
export async function runWrk({ ports, connections, seconds, rate, path = '/' }) {
  const share = Math.max(1, Math.floor(connections / ports.length));
  const env = rate ? { BENCH_DELAY_MS: String(Math.max(1, Math.round((connections * 1000) / rate))) } : { BENCH_DELAY_MS: '0' };
  const outputs = await Promise.all(
    ports.map((port) =>
      runPinned(
        LOAD_CPU,
        'wrk',
        ['-t1', `-c${share}`, `-d${seconds}s`, '--timeout', '5s', '--latency', '-s', SCRIPT, `http://127.0.0.1:${port}${path}`],
        { timeoutMs: (seconds + 30) * 1000, env },
      ),
    ),
  );
  return combine(outputs.map(parse));
}

function parse(text) {
  const line = text.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk printed no result:\n${text}`);
  return { ...JSON.parse(line.slice('BENCH_JSON '.length)), text };
}

function combine(parts) {
  const sum = (key) => parts.reduce((acc, p) => acc + p[key], 0);
  const worst = (key) => Math.max(...parts.map((p) => p[key])) / 1000;
  const requests = sum('requests');
  return {
    rps: parts.reduce((acc, p) => acc + p.requests / (p.duration_us / 1e6), 0),
    requests,
    errors: sum('connect') + sum('read') + sum('write') + sum('status') + sum('timeout'),
    p50Ms: worst('p50'),
    p90Ms: worst('p90'),
    p99Ms: worst('p99'),
    p999Ms: worst('p999'),
    maxMs: worst('max'),
    text: parts.map((p) => p.text).join('\n'),
  };
}
