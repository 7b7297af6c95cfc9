/**
 * @module cluster/status-server: the primary's own endpoint, on loopback by default: `GET /status` (every worker's
 * slot, pid, state, restarts and figures, as JSON; nothing secret is in it) and `GET /metrics` (Prometheus text of
 * the cluster's gauges). Anything else is 404.
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ClusterStatus } from './cluster-status.js';

export async function startStatusServer(port: number, host: string, status: () => ClusterStatus, registry: Registry): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/status' && path !== '/metrics')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status()));
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

export function portOf(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}
