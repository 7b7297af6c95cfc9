/**
 * @module cluster/worker/bootstrap: loaded with `--import` into every cluster worker, before the app. The app's first
 * `listen(port)` binds nothing: the server is registered with the primary, which owns the port and hands each client
 * connection over IPC (with its real address) to the worker it picks. Stats go to the primary every interval; on
 * `drain` the worker stops taking work, lets what is in flight finish within the grace, closes WebSockets with 1012
 * (service restart) and exits 0. Outside a cluster (no slot in the environment) it does nothing.
 */
import type { ServerResponse } from 'node:http';
import net from 'node:net';
import type { Socket } from 'node:net';
import { WORKER_ENV, type FromWorker, type ToWorker } from '../messages.js';
import { StatsSampler } from './stats-sampler.js';

/** A WebSocket close frame from the server side: 1012, service restart. */
const CLOSE_1012 = Buffer.from([0x88, 0x02, 0x03, 0xf4]);
/** Draining: a kept-alive connection idle this long is closed by the worker (ms). */
const IDLE_CLOSE_MS = 250;

const inCluster = process.env[WORKER_ENV.slot] !== undefined && typeof process.send === 'function';
/** Once per process, even when the app loads another copy of keyway-node than the one that started it. */
const INSTALLED = Symbol.for('keyway.cluster.worker');
if (inCluster && (globalThis as Record<symbol, unknown>)[INSTALLED] !== true) {
  (globalThis as Record<symbol, unknown>)[INSTALLED] = true;
  install();
}

function send(m: FromWorker): void {
  if (process.connected) process.send?.(m);
}

function install(): void {
  const explicit = process.env[WORKER_ENV.readiness] === 'explicit';
  const statsMs = Number(process.env[WORKER_ENV.statsMs] ?? 250);
  const perRequest = process.env[WORKER_ENV.balance] === 'request';
  const original = net.Server.prototype.listen;
  let claimed: net.Server | null = null;
  let publicPort = 0;
  let draining = false;
  const sockets = new Set<Socket>();
  const upgraded = new Set<Socket>();
  /** Sockets with no request in progress, and since when. */
  const idleSince = new Map<Socket, number>();
  let inflight = 0;
  const responses = new Set<ServerResponse>();

  net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]): net.Server {
    const port = portOf(args[0]);
    if (port === null || claimed !== null) return original.apply(this, args as Parameters<typeof original>);
    // The one server the primary feeds connections to, kept for the IPC handler.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    claimed = this;
    const callback = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    track(this);
    if (perRequest) {
      // The primary forwards each request to this loopback port.
      this.once('listening', () => {
        const bound = (this.address() as net.AddressInfo).port;
        send({ kw: 'listen', port, bound });
        if (!explicit) send({ kw: 'ready' });
      });
      if (callback !== undefined) this.once('listening', callback);
      return original.call(this, { port: 0, host: '127.0.0.1' });
    }
    if (callback !== undefined) this.once('listening', callback);
    send({ kw: 'listen', port });
    return this;
  };

  function track(server: net.Server): void {
    server.prependListener('connection', (socket: Socket) => {
      sockets.add(socket);
      idleSince.set(socket, Date.now());
      socket.once('close', () => {
        sockets.delete(socket);
        upgraded.delete(socket);
        idleSince.delete(socket);
      });
    });
    server.prependListener('request', (req: { socket: Socket }, res: ServerResponse) => {
      inflight++;
      idleSince.delete(req.socket);
      res.once('finish', () => {
        if (!req.socket.destroyed) idleSince.set(req.socket, Date.now());
      });
      responses.add(res);
      // Draining: this answer ends its connection, so the client's next request goes to another worker.
      if (draining) res.shouldKeepAlive = false;
      res.once('close', () => {
        inflight--;
        responses.delete(res);
      });
    });
    server.prependListener('upgrade', (_req: unknown, socket: Socket) => upgraded.add(socket));
  }

  process.on('message', (m: ToWorker, handle?: unknown) => {
    if (m === null || typeof m !== 'object') return;
    if (m.kw === 'listening' && claimed !== null) {
      publicPort = m.port;
      const server = claimed;
      Object.defineProperty(server, 'address', { value: () => ({ address: '::', family: 'IPv6', port: publicPort }), configurable: true });
      Object.defineProperty(server, 'listening', { get: () => !draining, configurable: true });
      server.emit('listening');
      if (!explicit) send({ kw: 'ready' });
    } else if (m.kw === 'conn' && handle instanceof net.Socket && claimed !== null) {
      if (draining) {
        send({ kw: 'refused', id: m.id });
        handle.destroy();
        return;
      }
      send({ kw: 'took', id: m.id });
      claimed.emit('connection', handle);
      handle.resume();
    } else if (m.kw === 'drain') {
      void drain(m.graceMs);
    }
  });

  const sampler = new StatsSampler();
  setInterval(() => send({ kw: 'stats', stats: sampler.sample(sockets.size, inflight) }), statsMs).unref();

  async function drain(graceMs: number): Promise<void> {
    if (draining) return;
    draining = true;
    send({ kw: 'draining' });
    for (const res of responses) if (!res.headersSent) res.shouldKeepAlive = false;
    const server = claimed as (net.Server & { closeIdleConnections?: () => void; closeAllConnections?: () => void }) | null;
    // A kept-alive connection in use is ended by its next answer (above); only one idle for a while is closed
    // from here: a client may send on an idle socket at the moment it is closed, and that request is reset.
    const end = Date.now() + graceMs;
    while (Date.now() < end && (inflight > 0 || sockets.size > upgraded.size)) {
      const now = Date.now();
      for (const [s, at] of idleSince) if (!upgraded.has(s) && now - at >= IDLE_CLOSE_MS) s.destroy();
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const s of upgraded) if (s.writable) s.write(CLOSE_1012);
    server?.closeAllConnections?.();
    await new Promise((r) => setTimeout(r, upgraded.size > 0 ? 100 : 0));
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
}

/** The port of a `listen()` call, or null when it is not a TCP port (a path, a handle, a pipe). */
function portOf(first: unknown): number | null {
  if (typeof first === 'number') return first;
  if (typeof first === 'string' && /^\d+$/.test(first)) return Number(first);
  if (first !== null && typeof first === 'object' && 'port' in first) {
    const p = (first as { port?: unknown }).port;
    if (typeof p === 'number') return p;
    if (typeof p === 'string' && /^\d+$/.test(p)) return Number(p);
  }
  if (first === undefined) return 0;
  return null;
}

/** For apps that opt into explicit readiness (`readiness: 'explicit'`): this worker may take traffic now. */
export function signalReady(): void {
  if (inCluster) send({ kw: 'ready' });
}

/** Whether this process is a keyway cluster worker. */
export function isClusterWorker(): boolean {
  return inCluster;
}
