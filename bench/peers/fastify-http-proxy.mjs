/**
 * @module bench/peers/fastify-http-proxy: @fastify/http-proxy 11 on Fastify 5 (undici keep-alive agent, the plugin's
 * default), round-robin through `replyOptions.getUpstream`; `websocket: true` (it terminates and re-sends each
 * WebSocket message with `ws`, where the other proxies tunnel bytes).
 */
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';
import { isMain, launcherArgs, roundRobin, startNodePeer } from '../lib/peer-kit.mjs';

export default {
  name: 'fastify-http-proxy',
  label: '@fastify/http-proxy 11 + fastify 5',
  kind: 'node',
  websocket: true,
  start: (opts) => startNodePeer(import.meta.url, opts),
};

if (isMain(import.meta.url)) {
  const { port, targets } = launcherArgs();
  const next = roundRobin(targets);
  const app = Fastify({ logger: false });
  await app.register(proxy, { upstream: '', websocket: true, replyOptions: { getUpstream: () => next() } });
  await app.listen({ port, host: '127.0.0.1' });
  process.on('SIGTERM', () => process.exit(0));
}
