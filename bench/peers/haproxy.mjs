/**
 * @module bench/peers/haproxy: HAProxy as the proxy, in the foreground with one thread (`nbthread 1`), round-robin,
 * server-side keep-alive (`http-reuse always`), X-Forwarded-For; WebSockets become tunnels on their own.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HARD_NOFILE, PROXY_CPU, startPinned } from '../lib/procs.mjs';

export default {
  name: 'haproxy',
  label: 'HAProxy 2.6',
  kind: 'native',
  websocket: true,
  start({ port, backends, dir }) {
    const root = join(dir, `haproxy-${port}`);
    mkdirSync(root, { recursive: true });
    const conf = join(root, 'haproxy.cfg');
    writeFileSync(conf, config(port, backends));
    return startPinned(PROXY_CPU, 'haproxy', ['-db', '-f', conf]);
  },
};

function config(port, backends) {
  const servers = backends.map((p, i) => `  server b${i + 1} 127.0.0.1:${p} maxconn 20000`).join('\n');
  // Two descriptors per proxied connection, plus a few for listeners and logs.
  const maxconn = Math.floor((HARD_NOFILE - 100) / 2);
  return `global
  nbthread 1
  maxconn ${maxconn}
  fd-hard-limit ${HARD_NOFILE}

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  timeout http-keep-alive 60s
  http-reuse always
  option forwardfor

frontend fe
  bind 127.0.0.1:${port}
  default_backend be

backend be
  balance roundrobin
${servers}
`;
}
