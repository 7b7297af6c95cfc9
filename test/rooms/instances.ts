/**
 * @module test/rooms/instances: rooms instances as real child processes (fixtures/room-instance.ts), each with a
 * WebSocket server, and real `ws` clients of them that record every room message they are sent, for the
 * multi-instance tests (fan-out, traffic, expiry, state under load, subscriber faults).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { after, before } from 'node:test';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { decodeJson, type RoomGroupOptions, type RoomGroupStats, type RoomMessage } from '../../src/rooms/index.js';
import { startRedisServer, type RedisServer } from '../helpers/redis.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/room-instance.js', import.meta.url));

export interface InstanceStats {
  readonly stats: RoomGroupStats;
  /** channel -> messages that arrived on the instance's Redis subscriber connection. */
  readonly deliveries: Record<string, number>;
  readonly rooms: { name: string; subscribers: number; localMembers: number }[];
  readonly instanceId: string;
}

export interface RoomInstance {
  readonly child: ChildProcess;
  readonly port: number;
  readonly instanceId: string;
  /** Runs a command of the fixture; resolves with its value, rejects with its error or after `ms`. */
  ask<T = unknown>(cmd: string, extra?: object, ms?: number): Promise<T>;
  stats(): Promise<InstanceStats>;
  /** A WebSocket client of room `room` on this instance (a member when `member` is given), once it is set up. */
  connect(room: string, member?: string): Promise<RoomClient>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP / SIGCONT. */
  pause(): void;
  resume(): void;
  readonly exited: boolean;
}

export type RoomGroupArgs = Pick<RoomGroupOptions, 'historyLength' | 'historyMaxAgeMs' | 'presenceTtlMs' | 'secret' | 'instanceId'>;

let refs = 0;

export async function startRoomInstance(redisUrl: string, keyPrefix: string, options: RoomGroupArgs = {}): Promise<RoomInstance> {
  const child = fork(FIXTURE, [redisUrl, keyPrefix, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  let exited = false;
  const gone = once(child, 'exit').then(() => {
    exited = true;
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { ref: number; ok: boolean; value: unknown }) => {
    const p = pending.get(m.ref);
    if (p === undefined) return;
    pending.delete(m.ref);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(String(m.value)));
  });
  void gone.then(() => {
    for (const p of pending.values()) p.reject(new Error('instance exited'));
    pending.clear();
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => JSON.parse(String(line)) as { port: number; instanceId: string }),
    gone.then(() => Promise.reject(new Error('room instance exited before it listened'))),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('room instance not ready within 15 s')), 15_000).unref()),
  ]);
  const instance: RoomInstance = {
    child,
    port: first.port,
    instanceId: first.instanceId,
    ask: <T>(cmd: string, extra: object = {}, ms = 15_000) =>
      new Promise<T>((resolve, reject) => {
        if (exited) {
          reject(new Error('instance exited'));
          return;
        }
        const ref = ++refs;
        const timer = setTimeout(() => {
          pending.delete(ref);
          reject(new Error(`no answer to ${cmd} within ${ms} ms`));
        }, ms);
        pending.set(ref, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ cmd, ref, ...extra });
      }),
    stats: () => instance.ask<InstanceStats>('stats'),
    connect: (room, member) => RoomClient.open(first.port, room, member),
    kill: async (signal = 'SIGKILL') => {
      if (exited) return;
      child.kill(signal);
      await gone;
    },
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    get exited() {
      return exited;
    },
  };
  return instance;
}

/** Stops every instance: a polite exit (closing its rooms), then SIGKILL for any left after 3 s. */
export async function stopAll(instances: readonly RoomInstance[]): Promise<void> {
  await Promise.all(
    instances.map(async (i) => {
      if (i.exited) return;
      i.resume();
      const t = setTimeout(() => void i.kill('SIGKILL'), 3000);
      await i.ask('exit', {}, 3000).catch(() => undefined);
      await i.kill('SIGKILL');
      clearTimeout(t);
    }),
  );
}

/** A received message with the time (ms) it arrived. */
export type Received = RoomMessage & { readonly at: number };

/** A `ws` client of one room on one instance: every room message it was sent, in arrival order. */
export class RoomClient {
  readonly ws: WebSocket;
  readonly room: string;
  readonly member: string | undefined;
  /** Room messages (event, join, leave, state, resync), in arrival order. */
  readonly messages: Received[] = [];
  /** ref -> seq of its own publishes, as acknowledged. */
  readonly published = new Map<unknown, number>();
  closed = false;

  private constructor(ws: WebSocket, room: string, member: string | undefined) {
    this.ws = ws;
    this.room = room;
    this.member = member;
  }

  static async open(port: number, room: string, member?: string, ms = 10_000): Promise<RoomClient> {
    const q = new URLSearchParams({ room, ...(member === undefined ? {} : { member }) });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/?${q.toString()}`);
    const client = new RoomClient(ws, room, member);
    let hello: () => void = () => undefined;
    let failed: (err: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      hello = resolve;
      failed = reject;
    });
    ws.on('message', (data) => {
      const m = decodeJson(String(data)) as { type: string; ref?: unknown; seq?: number };
      if (m.type === 'hello') hello();
      else if (m.type === 'published') client.published.set(m.ref, m.seq as number);
      else if (m.type !== 'publish-failed') client.messages.push({ ...(m as RoomMessage), at: Date.now() });
    });
    ws.on('error', (err) => failed(err));
    ws.on('close', (code, reason) => {
      client.closed = true;
      failed(new Error(`socket closed before hello: ${code} ${String(reason)}`));
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no hello from room ${room} within ${ms} ms`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
    return client;
  }

  publish(event: string, data: unknown, ref: unknown): void {
    this.ws.send(JSON.stringify({ publish: { event, data, ref } }));
  }

  /** The messages of `type` (all when omitted). */
  of<T extends RoomMessage['type']>(type: T): (Received & { type: T })[] {
    return this.messages.filter((m): m is Received & { type: T } => m.type === type);
  }

  seqs(): number[] {
    return this.messages.map((m) => m.seq);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const done = once(this.ws, 'close');
    this.ws.close();
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
    this.ws.terminate();
  }
}

/** Opens clients `count` at a time (so a thousand sockets do not all handshake at once). */
export async function openAll<T>(specs: readonly T[], open: (spec: T) => Promise<RoomClient>, count = 50): Promise<RoomClient[]> {
  const out: RoomClient[] = new Array<RoomClient>(specs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(count, specs.length) }, async () => {
      while (next < specs.length) {
        const i = next++;
        out[i] = await open(specs[i] as T);
      }
    }),
  );
  return out;
}

/** `PUBSUB NUMSUB <channel>`: how many connections are subscribed to it. */
export async function numsub(cli: (...args: string[]) => Promise<string>, channel: string): Promise<number> {
  const lines = (await cli('PUBSUB', 'NUMSUB', channel)).trim().split('\n');
  return Number(lines[1]);
}

/** The channel of room `room`: `<keyPrefix>:rm:{<room>}:ch`. */
export const channelOf = (keyPrefix: string, room: string): string => `${keyPrefix}:rm:{${room}}:ch`;

/** Throws unless `seqs` are consecutive whole numbers (in order, none twice, none missing), naming `what`. */
export function assertConsecutive(seqs: readonly number[], what: string): void {
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== (seqs[i - 1] as number) + 1) {
      throw new Error(`${what}: seq ${seqs[i]} after ${seqs[i - 1]} (at ${i} of ${seqs.length})`);
    }
  }
}

export interface InstanceRig {
  /** The file's private redis-server. */
  readonly redis: RedisServer;
  /** Starts `n` instances on it (stopped after the file). */
  start(keyPrefix: string, n: number, options?: RoomGroupArgs): Promise<RoomInstance[]>;
  /** Closes `clients` after the file; returns them. */
  track(clients: RoomClient[]): RoomClient[];
}

/** What every multi-instance file needs: a redis-server, and instances and clients all stopped after the file. */
export function instanceRig(): InstanceRig {
  let redis: RedisServer | undefined;
  const instances: RoomInstance[] = [];
  const clients: RoomClient[] = [];
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stopAll(instances);
    await redis?.stop();
  });
  return {
    get redis() {
      return redis as RedisServer;
    },
    async start(keyPrefix, n, options = {}) {
      const started = await Promise.all(Array.from({ length: n }, () => startRoomInstance((redis as RedisServer).url, keyPrefix, options)));
      instances.push(...started);
      return started;
    },
    track(opened) {
      clients.push(...opened);
      return opened;
    },
  };
}
