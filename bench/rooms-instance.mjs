#!/usr/bin/env node
/**
 * @module bench/rooms-instance: one server instance of the rooms bench as a child process, driven by
 * `bench/rooms.mjs` over stdin/stdout (one JSON object a line; anything else goes to stderr).
 *
 *   node bench/rooms-instance.mjs '<config JSON>'
 *   config: { peer: 'keyway' | 'classic' | 'streams', redis: URL, prefix, port }
 *
 * An HTTP server on 127.0.0.1:port with WebSockets, as an app that fans a room's messages out to its local sockets:
 *
 * - keyway: a `ws` server and a `RoomGroup` from the build output (KEYWAY_BENCH_DIST, else dist/). A member socket
 *   (`/?r=ROOM&m=MEMBER`) joins room `rROOM` (`room.join(member)`: presence) and the instance subscribes the room once
 *   (`room.subscribe`); each `event` is written once as `{"s":<seq>,<data...>}` and sent to every local socket of the
 *   room. A sender socket (`/?pub=1`) sends `{"r":ROOM,...}`: the instance calls `room.publish('m', data)`. Every
 *   message the room's subscription hands over (joins too) is checked here: numbers one by one, none twice.
 * - classic / streams: socket.io 4 (WebSocket transport only) with `@socket.io/redis-adapter` (ioredis pub + sub
 *   connections) or `@socket.io/redis-streams-adapter` (one ioredis connection; it adds its own readers). A member
 *   socket (`/socket.io/?EIO=4&transport=websocket&r=ROOM`) joins room `rROOM`; a sender socket (`&pub=1`) emits
 *   `pub` with the data, and the instance calls `io.to('rROOM').emit('m', data)`.
 *
 * Either way a member socket gets the text `ok` (keyway) or the event `ok` (socket.io) once it is in its room.
 *
 * Parent -> child: { id, cmd: 'members', rooms, n, concurrency?, timeoutMs? } (keyway `room.members()`, socket.io
 *                  `io.in(room).fetchSockets()`: n calls over rooms 0..rooms-1, `concurrency` at a time)
 *                  | { id, cmd: 'stats' } | { id, cmd: 'exit' }
 * Child -> parent: { ev: 'ready', pid } | { ev: 'done', id, result } | { ev: 'failed', id, error }
 */
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { send, serveCommands } from './lib/child-rpc.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
const DIST = process.env.KEYWAY_BENCH_DIST ?? fileURLToPath(new URL('../dist/', import.meta.url));
const log = (s) => process.stderr.write(`${s}\n`);

/** Query of a request's URL (`/path?a=1&b=2`), without URL's cost. */
function query(url) {
  const out = {};
  const q = url.indexOf('?');
  if (q < 0) return out;
  for (const part of url.slice(q + 1).split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = decodeURIComponent(part.slice(eq + 1));
  }
  return out;
}

async function keywayInstance(server) {
  const { RoomGroup } = await import(pathToFileURL(join(DIST, 'rooms', 'index.js')).href);
  const { WebSocketServer } = await import('ws');
  const group = new RoomGroup({ redis: config.redis, keyPrefix: config.prefix });
  await group.ready();
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
  /** room index -> Set of local member sockets */
  const local = new Map();
  /** room index -> Promise of the subscription */
  const subscribed = new Map();
  /** room index -> the last number its subscription delivered */
  const lastSeq = new Map();
  const check = { messages: 0, events: 0, gaps: 0, missing: 0, repeats: 0, resyncs: 0, publishErrors: 0, firstPublishError: undefined, subscribeFailures: 0, firstSubscribeFailure: undefined };
  const rooms = [];
  const roomOf = (r) => (rooms[r] ??= group.room(`r${r}`));

  const onMessage = (r, m) => {
    check.messages++;
    const last = lastSeq.get(r);
    if (m.type === 'resync') {
      check.resyncs++;
      lastSeq.set(r, m.seq - 1);
      return;
    }
    if (last !== undefined) {
      if (m.seq <= last) {
        check.repeats++;
        return;
      }
      if (m.seq > last + 1) {
        check.gaps++;
        check.missing += m.seq - last - 1;
      }
    }
    lastSeq.set(r, m.seq);
    if (m.type !== 'event') return;
    check.events++;
    const sockets = local.get(r);
    if (sockets === undefined || sockets.size === 0) return;
    // One text for every local socket: the room's number, then the data's fields.
    const frame = Buffer.from(`{"s":${m.seq},${JSON.stringify(m.data).slice(1)}`);
    for (const ws of sockets) ws.send(frame, { binary: false });
  };
  /**
   * Subscribes room r once. A subscribe that fails is tried again (up to 5 times), each failure counted: in builds
   * before commit 7923bb9, `RoomFeed.start()` threw when two or more consecutive messages of the room (other
   * instances' joins) arrived while it read the room's position.
   */
  const subscribe = (r) => {
    let p = subscribed.get(r);
    if (p === undefined) {
      p = (async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await roomOf(r).subscribe((m) => onMessage(r, m));
          } catch (err) {
            check.subscribeFailures++;
            check.firstSubscribeFailure ??= String(err?.stack ?? err).split('\n').slice(0, 2).join(' ');
            if (attempt >= 5) throw err;
          }
        }
      })();
      subscribed.set(r, p);
      p.catch(() => subscribed.delete(r));
    }
    return p;
  };

  wss.on('connection', (ws, req) => {
    ws.on('error', () => undefined);
    const q = query(req.url ?? '');
    if (q.pub !== undefined) {
      ws.on('message', (raw) => {
        const data = JSON.parse(raw.toString());
        roomOf(data.r).publish('m', data).catch((err) => {
          check.publishErrors++;
          check.firstPublishError ??= String(err?.code ?? err?.message ?? err);
        });
      });
      ws.send('ok');
      return;
    }
    const r = Number(q.r);
    let sockets = local.get(r);
    if (sockets === undefined) local.set(r, (sockets = new Set()));
    sockets.add(ws);
    ws.on('close', () => {
      sockets.delete(ws);
      roomOf(r).leave(q.m).catch(() => undefined);
    });
    subscribe(r)
      .then(() => roomOf(r).join(q.m))
      .then(
        () => ws.send('ok'),
        (err) => {
          log(`join ${q.m} to r${r} failed: ${err?.stack ?? err}`);
          ws.close(1011, 'join failed');
        },
      );
  });

  return {
    members: async (r) => (await roomOf(r).members()).length,
    stats: () => ({ ...check, group: group.stats }),
    close: () => group.close(),
  };
}

async function socketIoInstance(server) {
  const { Server } = await import('socket.io');
  const { Redis } = await import('ioredis');
  const connect = () => {
    const c = new Redis(config.redis, { connectionName: `bench-${config.peer}` });
    c.on('error', (err) => log(`redis: ${err.message}`));
    return c;
  };
  const clients = [];
  const io = new Server(server, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });
  if (config.peer === 'classic') {
    const { createAdapter } = await import('@socket.io/redis-adapter');
    const pub = connect();
    const sub = pub.duplicate();
    sub.on('error', (err) => log(`redis sub: ${err.message}`));
    clients.push(pub, sub);
    io.adapter(createAdapter(pub, sub, { key: config.prefix }));
  } else {
    const { createAdapter } = await import('@socket.io/redis-streams-adapter');
    const client = connect();
    clients.push(client);
    io.adapter(createAdapter(client, { streamName: config.prefix, channelPrefix: config.prefix }));
  }
  const check = { publishes: 0 };
  io.on('connection', (socket) => {
    const q = socket.handshake.query;
    if (q.pub !== undefined) {
      socket.on('pub', (data) => {
        check.publishes++;
        io.to(`r${data.r}`).emit('m', data);
      });
      socket.emit('ok');
      return;
    }
    socket.join(`r${q.r}`);
    socket.emit('ok');
  });
  return {
    members: async (r) => (await io.in(`r${r}`).fetchSockets()).length,
    stats: () => check,
    close: async () => {
      await new Promise((resolve) => io.close(() => resolve()));
      for (const c of clients) c.disconnect();
    },
  };
}

/** Nearest-rank percentiles (ms) of `latencies`. */
function summarise(latencies) {
  const v = Float64Array.from(latencies).sort();
  const at = (p) => (v.length ? v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))] : null);
  return { n: v.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: v.length ? v[v.length - 1] : null };
}

/** A plain PING on a connection of its own: the Redis round trip a listing is compared with. */
let pinger;
async function ping() {
  if (pinger === undefined) {
    const { Redis } = await import('ioredis');
    pinger = new Redis(config.redis, { connectionName: 'bench-ping' });
    pinger.on('error', () => undefined);
  }
  await pinger.ping();
  return 1;
}

/**
 * `n` member listings over rooms 0..rooms-1 (op 'ping': PINGs instead), `concurrency` at a time, each bounded by
 * `timeoutMs`.
 */
async function members(instance, { rooms, n, concurrency = 1, timeoutMs = 15_000, op }) {
  const call = op === 'ping' ? ping : (r) => instance.members(r);
  const latencies = [];
  const counts = {};
  const errors = {};
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const r = next++ % rooms;
      const s = performance.now();
      let timer;
      try {
        const count = await Promise.race([
          call(r),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        latencies.push(performance.now() - s);
        counts[count] = (counts[count] ?? 0) + 1;
      } catch (err) {
        const key = String(err?.message ?? err).slice(0, 120);
        errors[key] ??= { n: 0, ms: [] };
        errors[key].n++;
        errors[key].ms.push(Math.round(performance.now() - s));
      } finally {
        clearTimeout(timer);
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ...summarise(latencies), counts, errors, elapsedMs: performance.now() - t0 };
}

const server = http.createServer((_req, res) => {
  res.writeHead(404).end();
});
const instance = config.peer === 'keyway' ? await keywayInstance(server) : await socketIoInstance(server);
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port, '127.0.0.1', resolve);
});

/** CPU profile of a phase (`--profile`): node:inspector's profiler between two commands. */
let session;
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));
const commands = {
  'profile-start': async () => {
    const { Session } = await import('node:inspector');
    session = new Session();
    session.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 1000 });
    await post('Profiler.start');
    return { started: true };
  },
  'profile-stop': async ({ file }) => {
    const { profile } = await post('Profiler.stop');
    session.disconnect();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, JSON.stringify(profile));
    return { file };
  },
  members: (m) => members(instance, m),
  stats: () => instance.stats(),
  exit: async () => {
    await Promise.race([instance.close(), new Promise((r) => setTimeout(r, 2000).unref())]);
    setImmediate(() => process.exit(0));
    return { closed: true };
  },
};

serveCommands(commands);
