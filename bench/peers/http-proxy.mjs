/**
 * @module bench/peers/http-proxy: http-proxy (node-http-proxy) on node:http, round-robin over the backends through
 * one keep-alive agent, X-Forwarded-* on; WebSocket upgrades proxied with `proxy.ws`.
 */
import http from 'node:http';
import httpProxy from 'http-proxy';
import { badGateway, isMain, launcherArgs, roundRobin, startNodePeer } from '../lib/peer-kit.mjs';

export default {
  name: 'http-proxy',
  label: 'http-proxy 1.18',
  kind: 'node',
  websocket: true,
  start: (opts) => startNodePeer(import.meta.url, opts),
};

if (isMain(import.meta.url)) {
  const { port, targets } = launcherArgs();
  const next = roundRobin(targets);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
  const proxy = httpProxy.createProxyServer({ agent, xfwd: true });
  // Upgrades take a connection of their own, outside the keep-alive pool.
  const wsProxy = httpProxy.createProxyServer({ xfwd: true, agent: false });
  proxy.on('error', badGateway);
  wsProxy.on('error', badGateway);
  const server = http.createServer((req, res) => proxy.web(req, res, { target: next() }));
  server.on('upgrade', (req, socket, head) => wsProxy.ws(req, socket, head, { target: next() }));
  server.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}
