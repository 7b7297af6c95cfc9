/**
 * @module test/e2e/rooms-chat/instance: one app instance of the rooms-chat example (see examples/rooms-chat/README.md).
 * An HTTP server that serves the page (examples/rooms-chat/public/) and a WebSocket endpoint, `/ws`:
 *
 *   ws://host/ws?room=lobby&name=Ada&member=<id>[&fromSeq=<n>&epoch=<e>]
 *
 * For each socket the instance subscribes to the room (from `fromSeq` when the client is resuming), makes the
 * member join (presence), sends a `hello` with `members()` and `getState()`, then forwards every room message,
 * with its `seq` and `epoch`. What a client sends is one room call: `chat` is `room.publish('chat', ...)`, `topic`
 * is `room.mergeState(...)`, `vote` is `votes.call('vote', room)` on the `votes` singleton (one owner in the whole
 * cluster keeps the count of every room), then a `votes` event in the room. The wire format is in the README.
 *
 *   node instance.js --redis redis://127.0.0.1:6390 --prefix rooms-chat --id chat-1 --port 0
 *
 * Prints `{"ready":true,"id":"chat-1","port":N,"pid":P}` on stdout once it listens. `--managed` (set by the
 * launcher, cluster.ts) exits when its stdin closes (the launcher died) and leaves SIGINT to the launcher. Started
 * without arguments (as `node --test` does with every file under test/) it exits 0 at once.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ErrorCodes, RoomGroup, SingletonGroup, type Room, type RoomMember, type RoomMessage, type Singleton } from '../../../src/index.js';

/** Room names, member ids: plain, short (room names become Redis key parts). */
const ROOM = /^[\w-]{1,40}$/;
const MEMBER = /^[\w-]{1,64}$/;
const MAX_NAME = 40;
const MAX_TEXT = 500;
const MAX_TOPIC = 120;
/** A silent client (no pong) is dropped after this (ms); the gateway tunnels pings as it tunnels everything. */
const PING_MS = 15_000;
/** How long a vote waits for the singleton's owner, failovers included (ms). */
const VOTE_DEADLINE_MS = 4000;

/** The files of the page: nothing else is served from disk. */
const FILES: Readonly<Record<string, [file: string, type: string]>> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/chat-client.js': ['chat-client.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

/** The per-room vote counts: one owner in the cluster runs `vote`, committed to Redis before it answers. */
type Votes = Singleton<Record<string, number>>;

/** What the client is sent on connect and after a `sync`: everything it shows, read after it was subscribed. */
interface Snapshot {
  /** The room's position when the state was read: join/leave/state messages up to it are already in here. */
  readonly seq: number;
  readonly epoch: string;
  readonly version: number;
  readonly state: Record<string, unknown>;
  readonly members: { id: string; name: string; instance: string }[];
  /** This room's vote count as this instance's mirror of the singleton has it (the owner's, or slightly behind). */
  readonly votes: number;
}

/** A problem the client is told about (`{t:'error', ref, message}`); the socket stays open. */
class ClientError extends Error {}

/**
 * Local members, counted per (room, member): a tab that reconnects to the same instance before its old socket's
 * close was handled must not be removed by that close.
 */
class Presence {
  readonly #sockets = new Map<string, number>();

  async join(room: Room, member: string, name: string): Promise<void> {
    const key = `${room.name}\u0000${member}`;
    this.#sockets.set(key, (this.#sockets.get(key) ?? 0) + 1);
    await room.join(member, { name });
  }

  async leave(room: Room, member: string): Promise<void> {
    const key = `${room.name}\u0000${member}`;
    const n = (this.#sockets.get(key) ?? 1) - 1;
    if (n > 0) {
      this.#sockets.set(key, n);
      return;
    }
    this.#sockets.delete(key);
    // A member that moved to another instance meanwhile is not removed: leave() only removes this instance's.
    await room.leave(member);
  }
}

class ChatServer {
  readonly #rooms: RoomGroup;
  readonly #votes: Votes;
  readonly #presence = new Presence();
  readonly id: string;

  constructor(id: string, rooms: RoomGroup, votes: Votes) {
    this.id = id;
    this.#rooms = rooms;
    this.#votes = votes;
  }

  /** One socket's life: subscribe, join, hello, then the room's messages until it closes. */
  async serve(ws: WebSocket, url: URL): Promise<void> {
    const roomName = url.searchParams.get('room') ?? '';
    const member = url.searchParams.get('member') ?? '';
    const name = (url.searchParams.get('name') ?? '').trim().slice(0, MAX_NAME) || member;
    const fromRaw = url.searchParams.get('fromSeq');
    const fromSeq = fromRaw === null ? undefined : Number(fromRaw);
    const epoch = url.searchParams.get('epoch') ?? undefined;
    if (!ROOM.test(roomName) || !MEMBER.test(member) || (fromSeq !== undefined && !(Number.isSafeInteger(fromSeq) && fromSeq >= 1))) {
      ws.close(4400, 'room: 1-40 of [A-Za-z0-9_-]; member: 1-64 of them; fromSeq: a whole number >= 1');
      return;
    }
    let room: Room;
    try {
      room = this.#rooms.room(roomName);
    } catch (err) {
      ws.close(1013, err instanceof Error ? err.message.slice(0, 120) : 'try again later'); // closed (stopping) or too many rooms
      return;
    }
    const send = (payload: unknown): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(payload));
    };

    // Messages are held until the hello is out, so the client gets its snapshot first and then every message
    // from where it asked, each once, in the room's order.
    let held: RoomMessage[] | null = [];
    const forward = (m: RoomMessage): void => {
      if (held !== null) held.push(m);
      else send({ t: 'room', m });
    };
    let closed = false;
    let unsubscribe: (() => Promise<void>) | undefined;
    let joined = false;
    const cleanup = async (): Promise<void> => {
      await unsubscribe?.();
      if (joined) await this.#presence.leave(room, member);
    };
    ws.once('close', () => {
      closed = true;
      cleanup().catch((err: unknown) => {
        // Stopping: the room group closed first, and its members left with it.
        if ((err as { code?: unknown }).code !== ErrorCodes.ROOM_CLOSED) warn(`cleanup of ${member} in ${roomName} failed: ${String(err)}`);
      });
    });

    try {
      unsubscribe = await room.subscribe(forward, fromSeq === undefined ? {} : { fromSeq, epoch });
      if (closed) return void (await unsubscribe());
      joined = true;
      await this.#presence.join(room, member, name);
      if (closed) return;
      const snapshot = await this.#snapshot(room);
      send({ t: 'hello', instance: this.id, room: roomName, member, name, resumedFrom: fromSeq ?? null, snapshot });
      for (const m of held) send({ t: 'room', m });
      held = null;
    } catch (err) {
      warn(`connect of ${member} to ${roomName} failed: ${String(err)}`);
      ws.close(1011, 'room unavailable, try again');
      return;
    }

    ws.on('message', (raw: RawData, isBinary: boolean) => {
      void this.#onRequest(room, member, name, raw, isBinary).then(send);
    });
  }

  /** Answers one client request: `{t:'ack', ref, ...}` or `{t:'error', ref, message}`. */
  async #onRequest(room: Room, member: string, name: string, raw: RawData, isBinary: boolean): Promise<unknown> {
    let ref: unknown = null;
    try {
      if (isBinary) throw new ClientError('send JSON text frames');
      const req = parseRequest(raw.toString());
      ref = req.ref;
      switch (req.t) {
        case 'chat': {
          const text = field(req.text, MAX_TEXT, 'text');
          if (text === '') throw new ClientError('empty message');
          return { t: 'ack', ref, seq: await room.publish('chat', { member, name, text }) };
        }
        case 'topic': {
          const topic = field(req.topic, MAX_TOPIC, 'topic');
          const change = await room.mergeState({ topic, topicBy: name });
          return { t: 'ack', ref, seq: change.seq };
        }
        case 'vote': {
          // One owner in the cluster counts; the idempotency key makes a retried vote count once.
          const idempotencyKey = typeof ref === 'string' && ref !== '' ? `${member}:${ref.slice(0, 64)}` : undefined;
          const count = await this.#votes.call<number>('vote', room.name, { deadlineMs: VOTE_DEADLINE_MS, idempotencyKey });
          const seq = await room.publish('votes', { count, member, name });
          return { t: 'ack', ref, seq, count };
        }
        case 'sync':
          return { t: 'snapshot', ref, snapshot: await this.#snapshot(room) };
        default:
          throw new ClientError(`unknown request ${JSON.stringify(req.t)}`);
      }
    } catch (err) {
      if (!(err instanceof ClientError)) warn(`request in ${room.name} failed: ${String(err)}`);
      return { t: 'error', ref, message: err instanceof Error ? err.message : String(err), code: (err as { code?: unknown }).code ?? null };
    }
  }

  /** State first, then members: both are at least as recent as the state's `seq` (see the README's wire format). */
  async #snapshot(room: Room): Promise<Snapshot> {
    const state = await room.getState();
    const members = await room.members();
    return {
      seq: state.seq,
      epoch: state.epoch,
      version: state.version,
      state: state.state,
      members: members.map(memberView),
      votes: this.#votes.state[room.name] ?? 0,
    };
  }

  /** What `/health` answers (and what a test reads to find the singleton's owner). */
  health(): Record<string, unknown> {
    return { ok: true, id: this.id, votes: { role: this.#votes.role, owner: this.#votes.owner, token: this.#votes.token } };
  }
}

function memberView(m: RoomMember): { id: string; name: string; instance: string } {
  const meta = m.meta as { name?: unknown } | null;
  return { id: m.id, name: typeof meta?.name === 'string' ? meta.name : m.id, instance: m.instanceId };
}

function parseRequest(text: string): Record<string, unknown> & { t?: unknown; ref?: unknown } {
  let req: unknown;
  try {
    req = JSON.parse(text);
  } catch {
    throw new ClientError('not JSON');
  }
  if (req === null || typeof req !== 'object' || Array.isArray(req)) throw new ClientError('send a JSON object');
  return req as Record<string, unknown>;
}

function field(value: unknown, max: number, what: string): string {
  if (typeof value !== 'string') throw new ClientError(`${what} must be a string`);
  const v = value.trim();
  if (v.length > max) throw new ClientError(`${what} is longer than ${max} characters`);
  return v;
}

function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Serves the page's files, `/health`, and 404 for the rest. */
function httpHandler(chat: ChatServer, publicDir: URL, draining: () => boolean): http.RequestListener {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://instance').pathname;
    if (path === '/health') {
      res.writeHead(draining() ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(draining() ? { ok: false, id: chat.id, draining: true } : chat.health()));
      return;
    }
    const file = req.method === 'GET' || req.method === 'HEAD' ? FILES[path] : undefined;
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Not found' }));
      return;
    }
    readFile(new URL(file[0], publicDir)).then(
      (body) => {
        res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store', 'x-instance': chat.id });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        warn(`cannot read ${file[0]}: ${String(err)}`);
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'Page missing' }));
      },
    );
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string' },
      prefix: { type: 'string', default: 'rooms-chat' },
      id: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      public: { type: 'string' },
      'presence-ttl': { type: 'string', default: '10000' },
      secret: { type: 'string' },
      managed: { type: 'boolean', default: false },
    },
  });
  // node --test runs every file under test/: without arguments this is not an instance start, so leave quietly.
  if (values.redis === undefined || values.id === undefined) return;
  const id = values.id;
  const publicDir =
    values.public === undefined
      ? new URL('../../../../examples/rooms-chat/public/', import.meta.url) // from .test-build/test/e2e/rooms-chat/
      : pathToFileURL(`${resolve(values.public)}/`);

  // One SingletonGroup per process: the Redis connections, the instance id, the signing secret. The rooms share it.
  const group = new SingletonGroup({ redis: values.redis, keyPrefix: values.prefix, instanceId: id, secret: values.secret });
  const rooms = new RoomGroup({ group, presenceTtlMs: Number(values['presence-ttl']) });
  await rooms.ready();
  const votes: Votes = await group.singleton('votes', {
    initialState: {} as Record<string, number>,
    actions: {
      vote: (state: Record<string, number>, room: string) => {
        state[room] = (state[room] ?? 0) + 1;
        return state[room];
      },
    },
    leaseMs: 1000,
  });
  const chat = new ChatServer(id, rooms, votes);
  let draining = false;

  const server = http.createServer(httpHandler(chat, publicDir, () => draining));
  const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 16 * 1024 });
  const alive = new WeakSet<WebSocket>();
  wss.on('connection', (ws, req) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    ws.on('error', () => undefined); // a reset client: 'close' follows
    chat.serve(ws, new URL(req.url ?? '/', 'http://instance')).catch((err: unknown) => {
      warn(`socket failed: ${String(err)}`);
      ws.terminate();
    });
  });
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) ws.terminate();
      alive.delete(ws);
      ws.ping();
    }
  }, PING_MS);
  pinger.unref();
  await new Promise<void>((listening) => server.listen(Number(values.port), values.host, listening));
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ ready: true, id, port, pid: process.pid })}\n`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    draining = true;
    setTimeout(() => process.exit(0), 4000).unref(); // bounded, whatever Redis does
    // Clients are told to go elsewhere (1012: service restart); they reconnect through the gateway and resume.
    for (const ws of wss.clients) ws.close(1012, 'instance stopping');
    wss.close();
    server.close();
    server.closeAllConnections();
    await rooms.close().catch(() => undefined); // local members leave (announced)
    await group.close().catch(() => undefined); // the votes owner releases: another instance takes over at once
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop()); // `on`, not `once`: a second SIGTERM must not kill it mid-stop
  if (values.managed) {
    process.on('SIGINT', () => undefined); // Ctrl-C in the terminal: the launcher stops us (SIGTERM)
    process.stdin.on('end', () => void stop()).resume();
  } else {
    process.on('SIGINT', () => void stop());
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`instance failed to start: ${String(err)}\n`);
  process.exit(1);
});
