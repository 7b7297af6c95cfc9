/**
 * Test fixture for the Fastify integration: real node:http pods on 127.0.0.1:0 registered as Members in a real
 * redis-server, a coordinator Registry on the same prefix, and small clients. Everything made here is closed by
 * `close()`; each fixture has its own key prefix.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Member, Registry, type MemberOptions, type RegistryOptions } from '../../../src/index.js';
import { coordinatorKeys } from '../../../src/coordinator/store/index.js';
import { TEST_LAYOUT } from '../helpers.js';
import { randomPrefix, waitFor, type RedisServer } from '../../helpers/redis.js';

/** What a pod saw of one request. */
export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A pod route: answers `req` (its body already read into `body`). */
export type PodHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, pod: Pod) => void;

export interface Pod {
  readonly memberId: string;
  readonly address: string;
  readonly port: number;
  readonly member: Member;
  /** Requests that reached a handler. */
  readonly seen: Seen[];
  /** Destinations this pod created (the resource map of platformatic's mock pod). */
  readonly resources: Map<string, unknown>;
  /** TCP connections accepted, whatever happened to them. */
  connections: number;
  /** 'ok' serves; 'reset' destroys every connection as it opens (and the open ones now). */
  mode: 'ok' | 'reset';
  /** Stops listening and cuts open connections; the member record stays until it expires or is removed. */
  stop(): Promise<void>;
}

export interface PodOptions {
  /** Extra routes, tried before the standard ones: `METHOD /path/regex` -> handler. */
  readonly routes?: ReadonlyArray<readonly [string, RegExp, PodHandler]>;
  readonly member?: Partial<MemberOptions>;
}

export interface Fixture {
  readonly prefix: string;
  pod(memberId: string, options?: PodOptions): Promise<Pod>;
  registry(options?: Partial<RegistryOptions>): Promise<Registry>;
  /** A member that registers and then deregisters (its bindings stay): a dead owner. */
  deadMember(memberId: string): Promise<void>;
  /** Resolves once the member's record is gone from Redis (by TTL), without any registry noticing. */
  expired(memberId: string, ms?: number): Promise<void>;
  /** Makes the member's record expire now (PEXPIRE 1), as a missed heartbeat would; no registry is told. */
  expireNow(memberId: string): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;

/** Platformatic's mock-pod routes, plus a few for headers, streaming and raw bodies. */
const STANDARD: ReadonlyArray<readonly [string, RegExp, PodHandler]> = [
  ['POST', /^\/resources$/, (_req, res, _body, pod) => {
    const id = `r-${pod.memberId}-${++counter}`;
    pod.resources.set(id, { resourceId: id, status: 'started' });
    json(res, 201, { resourceId: id, status: 'started' });
  }],
  ['POST', /^\/resources\/([^/]+)\/echo$/, (req, res, body, pod) => {
    const id = idOf(req, /^\/resources\/([^/]+)\/echo$/);
    if (!pod.resources.has(id)) return json(res, 404, { error: 'not found' });
    json(res, 200, { id, body: body.length > 0 ? JSON.parse(body.toString()) : null, pod: pod.memberId });
  }],
  ['DELETE', /^\/resources\/([^/]+)$/, (req, res, _body, pod) => {
    const id = idOf(req, /^\/resources\/([^/]+)$/);
    if (!pod.resources.delete(id)) return json(res, 404, { error: 'not found' });
    res.writeHead(204).end();
  }],
  ['POST', /^\/resources\/([^/]+)\/heartbeat$/, (req, res, _body, pod) => {
    const id = idOf(req, /^\/resources\/([^/]+)\/heartbeat$/);
    if (!pod.resources.has(id)) pod.resources.set(id, { resourceId: id, status: 'restored' });
    res.writeHead(204).end();
  }],
  ['GET', /^\/items\/([^/?]+)/, (req, res, _body, pod) => {
    json(res, 200, { id: idOf(req, /^\/items\/([^/?]+)/), served: true, pod: pod.memberId, url: req.url });
  }],
  ['POST', /^\/transactions\/([^/]+)\/echo$/, (req, res, _body, pod) => {
    json(res, 200, { lockId: idOf(req, /^\/transactions\/([^/]+)\/echo$/), pod: pod.memberId });
  }],
  ['ANY', /\/raw(\?|$)/, (req, res, body, pod) => {
    json(res, 200, { pod: pod.memberId, method: req.method, type: req.headers['content-type'] ?? null, length: body.length, text: body.toString() });
  }],
];

export function fixture(server: RedisServer, prefix = randomPrefix('fastify')): Fixture {
  const closers: (() => Promise<void>)[] = [];
  const keys = coordinatorKeys(prefix, TEST_LAYOUT);
  return {
    prefix,
    async pod(memberId, options = {}) {
      const pod = await startPod(server, prefix, memberId, options);
      closers.push(async () => {
        await pod.stop();
        await pod.member.close();
      });
      return pod;
    },
    async registry(options = {}) {
      const registry = new Registry({ redis: server.url, keyPrefix: prefix, layout: TEST_LAYOUT, ...options });
      closers.push(() => registry.close());
      await registry.ready();
      return registry;
    },
    async deadMember(memberId) {
      const member = new Member({ redis: server.url, keyPrefix: prefix, memberId, address: 'http://127.0.0.1:9', layout: TEST_LAYOUT });
      await member.register();
      await member.deregister();
      await member.close();
    },
    async expired(memberId, ms = 5000) {
      await waitFor(`${memberId} to expire`, async () => (await server.cli('EXISTS', keys.member(memberId))).trim() === '0', ms);
    },
    async expireNow(memberId) {
      await server.cli('PEXPIRE', keys.member(memberId), '1');
      await this.expired(memberId);
    },
    async close() {
      await Promise.all(closers.splice(0).map((close) => close()));
    },
  };
}

async function startPod(server: RedisServer, prefix: string, memberId: string, options: PodOptions): Promise<Pod> {
  const routes = [...(options.routes ?? []), ...STANDARD];
  const sockets = new Set<Socket>();
  const httpServer = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      pod.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = req.url ?? '/';
      const route = routes.find(([method, re]) => (method === 'ANY' || method === req.method) && re.test(path));
      if (route === undefined) return json(res, 404, { error: 'no such pod route' });
      route[2](req, res, body, pod);
    });
  });
  httpServer.on('connection', (socket: Socket) => {
    pod.connections++;
    if (pod.mode === 'reset') {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = (httpServer.address() as AddressInfo).port;
  const address = `http://127.0.0.1:${port}`;
  const member = new Member({ redis: server.url, keyPrefix: prefix, memberId, address, layout: TEST_LAYOUT, ...options.member });
  let stopped: Promise<void> | undefined;
  let mode: 'ok' | 'reset' = 'ok';
  const pod: Pod = {
    memberId,
    address,
    port,
    member,
    seen: [],
    resources: new Map(),
    connections: 0,
    mode: 'ok',
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
  };
  Object.defineProperty(pod, 'mode', {
    get: () => mode,
    set: (next: 'ok' | 'reset') => {
      mode = next;
      if (next === 'reset') for (const socket of sockets) socket.resetAndDestroy();
    },
  });
  await member.register();
  return pod;
}

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function idOf(req: http.IncomingMessage, re: RegExp): string {
  return decodeURIComponent(re.exec(req.url ?? '')?.[1] ?? '');
}

/** The port a listening Fastify app was given. */
export function portOf(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}
