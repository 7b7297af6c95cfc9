/**
 * @module bench/peers/http-proxy-middleware: http-proxy-middleware 3 mounted on Express 5, round-robin through its
 * `router` option over one keep-alive agent, X-Forwarded-* on, WebSocket upgrades through `proxy.upgrade`.
 */
import http from 'node:http';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { isMain, launcherArgs, roundRobin, startNodePeer } from '../lib/peer-kit.mjs';

export default {
  name: 'http-proxy-middleware',
  label: 'http-proxy-middleware 3 + express 5',
  kind: 'node',
  websocket: true,
  start: (opts) => startNodePeer(import.meta.url, opts),
};

if (isMain(import.meta.url)) {
  const { port, targets } = launcherArgs();
  const next = roundRobin(targets);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
  const proxy = createProxyMiddleware({ target: targets[0], router: () => next(), agent, xfwd: true, ws: true });
  const app = express();
  app.disable('x-powered-by');
  app.use(proxy);
  const server = app.listen(port, '127.0.0.1');
  server.on('upgrade', proxy.upgrade);
  process.on('SIGTERM', () => process.exit(0));
}
