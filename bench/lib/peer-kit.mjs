/**
 * @module bench/lib/peer-kit: what the peer files share. A Node peer's file is both its descriptor (imported by
 * run.mjs) and its launcher (`node peers/<name>.mjs PORT BACKEND_PORT...`, started pinned on the proxy CPU).
 */
import { fileURLToPath } from 'node:url';
import { PROXY_CPU, startPinned } from './procs.mjs';

/** True when `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl) {
  return process.argv[1] === fileURLToPath(moduleUrl);
}

/** `{ port, targets }` from a launcher's argv: the listen port and `http://127.0.0.1:<port>` per backend. */
export function launcherArgs() {
  const [port, ...backends] = process.argv.slice(2).map(Number);
  return { port, targets: backends.map((p) => `http://127.0.0.1:${p}`) };
}

/** Starts the launcher in `moduleUrl` on the proxy CPU. */
export function startNodePeer(moduleUrl, { port, backends, env, nodeArgs = [] }) {
  const file = fileURLToPath(moduleUrl);
  return startPinned(PROXY_CPU, process.execPath, [...nodeArgs, file, String(port), ...backends.map(String)], {
    env: { NODE_ENV: 'production', ...env },
  });
}

/** Answers a proxy error with 502 (or destroys an upgrade socket), as the peers would in production. */
export function badGateway(_err, _req, res) {
  if (res && typeof res.writeHead === 'function') {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway\n');
  } else if (res && typeof res.destroy === 'function') {
    res.destroy();
  }
}

/** Round-robin over `items`. */
export function roundRobin(items) {
  let next = 0;
  return () => {
    const item = items[next];
    next = (next + 1) % items.length;
    return item;
  };
}
