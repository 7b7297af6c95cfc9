/**
 * @module bench/peers/nginx: nginx as the proxy: one process (`master_process off`, one worker), round-robin upstream
 * with a keep-alive pool, X-Forwarded-For, WebSocket upgrades passed through.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HARD_NOFILE, PROXY_CPU, startPinned } from '../lib/procs.mjs';

export default {
  name: 'nginx',
  label: 'nginx 1.22',
  kind: 'native',
  websocket: true,
  start({ port, backends, dir }) {
    const root = join(dir, `nginx-proxy-${port}`);
    mkdirSync(join(root, 'tmp'), { recursive: true });
    const conf = join(root, 'nginx.conf');
    writeFileSync(conf, config(port, backends, root));
    return startPinned(PROXY_CPU, 'nginx', ['-c', conf, '-p', root, '-e', join(root, 'error.log')]);
  },
};

function config(port, backends, root) {
  const servers = backends.map((p) => `    server 127.0.0.1:${p};`).join('\n');
  const tmp = join(root, 'tmp');
  return `daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile ${HARD_NOFILE};
pid ${join(root, 'nginx.pid')};
error_log ${join(root, 'error.log')} warn;
# Two connections per proxied WebSocket: room for 10,000 idle ones and the upstream keep-alive pool.
events { worker_connections 30000; }
http {
  access_log off;
  keepalive_timeout 65s;
  keepalive_requests 10000000;
  client_body_temp_path ${tmp};
  proxy_temp_path ${tmp};
  fastcgi_temp_path ${tmp};
  uwsgi_temp_path ${tmp};
  scgi_temp_path ${tmp};
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream backends {
${servers}
    keepalive 128;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 3600s;
    }
  }
}
`;
}
