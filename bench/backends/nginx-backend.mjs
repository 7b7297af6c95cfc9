/**
 * @module bench/backends/nginx-backend: one nginx process (no master, one worker) serving the same 12-byte body as
 * the Node backend on two ports. It leaves CPU 0 to wrk, so the proxy on CPU 1 is the bottleneck more often than
 * with Node backends. HTTP only: nginx cannot echo WebSocket messages.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOAD_CPU, startPinned, waitForPort } from '../lib/procs.mjs';

/** Starts nginx listening on both `ports`; returns the child process. */
export async function startNginxBackend(ports, dir) {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, config(ports, dir));
  const child = startPinned(LOAD_CPU, 'nginx', ['-c', conf, '-p', dir, '-e', join(dir, 'logs', 'error.log')]);
  for (const port of ports) await waitForPort(port, { child });
  return child;
}

function config(ports, dir) {
  const servers = ports
    .map(
      (port) => `
    server {
      listen 127.0.0.1:${port} reuseport;
      location / { default_type text/plain; return 200 "hello world\\n"; }
    }`,
    )
    .join('\n');
  return `daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')} warn;
events { worker_connections 20000; }
http {
  access_log off;
  keepalive_timeout 65s;
  keepalive_requests 10000000;
  client_body_temp_path ${join(dir, 'tmp')};
  proxy_temp_path ${join(dir, 'tmp')};
  fastcgi_temp_path ${join(dir, 'tmp')};
  uwsgi_temp_path ${join(dir, 'tmp')};
  scgi_temp_path ${join(dir, 'tmp')};
${servers}
}
`;
}
