/**
 * @module bench/peers/keyway: keyway itself, started through its CLI (`keyway serve --config F`) from `dist/` (or the
 * snapshot run.mjs takes of it), in two
 * configurations: minimal (round-robin, no stickiness, no metrics, one health probe at startup) and realistic
 * (p2c, signed sticky cookies, health probes every second, Prometheus metrics on). `keywayBefore(DIR)` gives the same
 * two from another build output (`run.mjs --compare DIR`), named keyway-before and keyway-realistic-before.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROXY_CPU, startPinned } from '../lib/procs.mjs';
import { distDir } from '../lib/setup.mjs';

/** The keyway config for `variant` on `port` balancing `backends` (ports). */
export function keywayConfig(variant, port, backends) {
  const common = {
    host: '127.0.0.1',
    port,
    backends: backends.map((p, i) => ({ id: `b${i + 1}`, url: `http://127.0.0.1:${p}` })),
  };
  if (variant === 'minimal') {
    return { ...common, strategy: 'round-robin', sticky: false, metrics: false, health: { interval: 3_600_000, path: '/health' } };
  }
  return {
    ...common,
    strategy: 'p2c',
    sticky: { secret: 'keyway-bench-sticky-secret-0123456789' },
    metrics: true,
    health: { interval: 1000, path: '/health' },
  };
}

/** `dist()` is the build output directory the CLI is started from. */
function descriptor(variant, name, label, dist = distDir) {
  return {
    name,
    label,
    kind: 'node',
    websocket: true,
    /** `nodeArgs` lets the profiler add `--cpu-prof`. */
    start({ port, backends, dir, nodeArgs = [] }) {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(keywayConfig(variant, port, backends), null, 2));
      return startPinned(PROXY_CPU, process.execPath, [...nodeArgs, join(dist(), 'cli', 'main.js'), 'serve', '--config', file], {
        env: { NODE_ENV: 'production', KEYWAY_LOG_LEVEL: 'warn' },
        cwd: dir,
      });
    },
  };
}

export default descriptor('minimal', 'keyway', 'keyway (minimal)');
export const realistic = descriptor('realistic', 'keyway-realistic', 'keyway (realistic: p2c, sticky, health 1 s, metrics)');

/** `[minimal, realistic]` started from the build output in `dir` (the "before" of a before/after comparison). */
export function keywayBefore(dir) {
  return [
    descriptor('minimal', 'keyway-before', `keyway (minimal), ${dir}`, () => dir),
    descriptor('realistic', 'keyway-realistic-before', `keyway (realistic), ${dir}`, () => dir),
  ];
}
