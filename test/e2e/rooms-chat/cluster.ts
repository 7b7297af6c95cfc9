/**
 * @module test/e2e/rooms-chat/cluster: starts the whole rooms-chat example (see examples/rooms-chat/README.md): a
 * private redis-server on a free loopback port, three app instances (instance.ts) as child processes, and the
 * keyway gateway in front of them with sticky sessions and WebSocket proxying. `examples/rooms-chat/start.mjs` runs
 * `runCli()`; the test calls the same through that script.
 *
 * Importing this module does nothing (it only exports), so `node --test`, which runs every file under test/, passes
 * over it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createGateway, type Gateway } from '../../../src/index.js';
import { REDIS_SERVER, startRedisServer, type RedisServer } from '../../helpers/redis.js';

const INSTANCE_JS = fileURLToPath(new URL('./instance.js', import.meta.url));
/** The page, from .test-build/test/e2e/rooms-chat/ back to the repository. */
const PUBLIC_DIR = fileURLToPath(new URL('../../../../examples/rooms-chat/public/', import.meta.url));
const READY_MS = 20_000;
const STOP_MS = 5000;

export interface ClusterOptions {
  /** Gateway port (0: a free one). Default 8080. */
  readonly port?: number;
  /** Where the gateway listens. Default 127.0.0.1 (instances and Redis are on loopback always). */
  readonly host?: string;
  /** App instances. Default 3. */
  readonly instances?: number;
  /** An existing Redis to use instead of starting a private redis-server. */
  readonly redis?: string;
  /** Key prefix of everything the example keeps in Redis. Default `rooms-chat`. */
  readonly prefix?: string;
  /** How long a member of a killed instance stays listed (ms). Default 10000 (the rooms default). */
  readonly presenceTtlMs?: number;
  /** For people: instance output, exits, the gateway's view of its backends. */
  readonly log?: (line: string) => void;
}

export interface InstanceInfo {
  readonly id: string;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
}

export interface RunningCluster {
  /** The gateway: what browsers open. */
  readonly url: string;
  readonly port: number;
  readonly redisUrl: string;
  /** The private redis-server's PID (undefined with `redis` given). */
  readonly redisPid: number | undefined;
  readonly instances: readonly InstanceInfo[];
  readonly gateway: Gateway;
  /** Gateway, then instances (SIGTERM: they leave their rooms and hand the singleton over), then redis. Idempotent. */
  close(): Promise<void>;
}

/** An instance child and its ready line. */
interface Child {
  readonly info: InstanceInfo;
  readonly process: ChildProcess;
}

export async function startCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  const log = options.log ?? (() => undefined);
  const count = options.instances ?? 3;
  const prefix = options.prefix ?? 'rooms-chat';
  const presenceTtlMs = options.presenceTtlMs ?? 10_000;
  let redis: RedisServer | undefined;
  if (options.redis === undefined) {
    if (!existsSync(REDIS_SERVER)) {
      throw new Error(`rooms-chat needs redis-server at ${REDIS_SERVER} (apt-get install redis-server), or --redis redis://host:port for one that runs`);
    }
    redis = await startRedisServer();
  }
  const redisUrl = options.redis ?? (redis as RedisServer).url;
  const children: Child[] = [];
  let gateway: Gateway | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await gateway?.close().catch(() => undefined);
      await Promise.all(children.map((c) => stopChild(c.process)));
      await redis?.stop();
    })());
  try {
    const ids = Array.from({ length: count }, (_, i) => `chat-${i + 1}`);
    const args = ['--redis', redisUrl, '--prefix', prefix, '--port', '0', '--public', PUBLIC_DIR, '--presence-ttl', String(presenceTtlMs), '--managed'];
    for (const started of await Promise.allSettled(ids.map((id) => startInstance(id, args, log)))) {
      if (started.status === 'fulfilled') children.push(started.value);
    }
    if (children.length < count) throw new Error(`only ${children.length} of ${count} instances started; see the lines above`);
    gateway = createGateway(
      {
        host: options.host ?? '127.0.0.1',
        port: options.port ?? 8080,
        strategy: 'round-robin',
        backends: children.map((c) => ({ id: c.info.id, url: c.info.url })),
        // Tight probes: a killed instance is out within about a second, and its users' reconnects go elsewhere.
        health: { interval: 500, timeout: 400, path: '/health', algorithm: 'http-status', rise: 1, fall: 1 },
        sticky: { cookie: 'rooms_chat', secret: process.env.KEYWAY_STICKY_SECRET ?? randomBytes(24).toString('base64url') },
        shutdownGraceMs: 1000,
      },
      { logger: pino({ level: process.env.KEYWAY_LOG_LEVEL ?? 'error' }, pino.destination(2)) },
    );
    gateway.on('backend:down', (b) => log(`gateway: ${b.id} is down; its users reconnect to the others`));
    gateway.on('backend:up', (b) => log(`gateway: ${b.id} is up`));
    const { port, host } = await gateway.listen();
    const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
    return {
      url: `http://${shown}:${port}/`,
      port,
      redisUrl,
      redisPid: redis?.pid,
      instances: children.map((c) => c.info),
      gateway,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Spawns one instance and resolves with its ready line; its later output goes to `log`, prefixed with its id. */
function startInstance(id: string, args: string[], log: (line: string) => void): Promise<Child> {
  // stdin is a pipe nobody writes to: it closes when this process dies, however it dies, and the instance exits.
  const child = spawn(process.execPath, [INSTANCE_JS, ...args, '--id', id], { stdio: ['pipe', 'pipe', 'pipe'] });
  let ready = false;
  lines(child.stderr, (line) => log(`[${id}] ${line}`));
  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${id} did not start within ${READY_MS} ms`));
    }, READY_MS);
    lines(child.stdout, (line) => {
      if (ready) return log(`[${id}] ${line}`);
      ready = true;
      clearTimeout(timer);
      try {
        const r = JSON.parse(line) as { port: number; pid: number };
        resolve({ info: { id, pid: r.pid, port: r.port, url: `http://127.0.0.1:${r.port}` }, process: child });
      } catch {
        child.kill('SIGKILL');
        reject(new Error(`${id} printed ${line} instead of its ready line`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) {
        log(`[${id}] exited with ${signal ?? code} before it was ready`);
        reject(new Error(`${id} exited with ${signal ?? code} before it was ready`));
      } else {
        log(`${id} (pid ${child.pid}) exited${signal === null ? ` with code ${code}` : ` on ${signal}`}`);
      }
    });
  });
}

function lines(stream: NodeJS.ReadableStream | null, each: (line: string) => void): void {
  let buffer = '';
  stream?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (line !== '') each(line);
    }
  });
}

/** SIGTERM, then SIGKILL after `STOP_MS`; resolves once it exited. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
  await exited;
  clearTimeout(timer);
}

const USAGE = `usage: node examples/rooms-chat/start.mjs [--port 8080] [--host 127.0.0.1] [--instances 3]
                                          [--redis redis://host:port] [--prefix rooms-chat]
                                          [--presence-ttl 10000] [--json]
  Starts a private redis-server (unless --redis), the app instances and the keyway gateway, and prints the URL.
  --json prints one JSON line instead of the banner once everything is up. Ctrl-C stops everything.`;

function whole(what: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${what} must be a whole number from ${min} to ${max}, got ${raw}`);
  return n;
}

class UsageError extends Error {}

/** The command line of `examples/rooms-chat/start.mjs`: starts everything, prints the URL, stops on Ctrl-C. */
export async function runCli(argv: string[]): Promise<void> {
  let options: ClusterOptions;
  let json: boolean;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '8080' },
        host: { type: 'string', default: '127.0.0.1' },
        instances: { type: 'string', default: '3' },
        redis: { type: 'string' },
        prefix: { type: 'string', default: 'rooms-chat' },
        'presence-ttl': { type: 'string', default: '10000' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    json = values.json;
    options = {
      port: whole('--port', values.port, 0, 65535),
      host: values.host,
      instances: whole('--instances', values.instances, 1, 16),
      redis: values.redis,
      prefix: values.prefix,
      presenceTtlMs: whole('--presence-ttl', values['presence-ttl'], 300, 3_600_000),
      log: (line) => process.stderr.write(`${line}\n`),
    };
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }

  let cluster: RunningCluster;
  try {
    cluster = await startCluster(options);
  } catch (err) {
    process.stderr.write(`rooms-chat: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1); // a second Ctrl-C: now
    stopping = true;
    process.stderr.write('rooms-chat: stopping\n');
    cluster.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  if (json) {
    const ready = { ready: true, url: cluster.url, port: cluster.port, redis: cluster.redisUrl, redisPid: cluster.redisPid ?? null, instances: cluster.instances };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
    return;
  }
  const rows = cluster.instances.map((i) => `    ${i.id}   pid ${String(i.pid).padEnd(8)} ${i.url}/`).join('\n');
  process.stdout.write(
    [
      '',
      `rooms-chat is running: open ${cluster.url} in two browsers (or a private window), same room, two names.`,
      '',
      `  redis     ${cluster.redisUrl}${cluster.redisPid === undefined ? '' : ` (private, pid ${cluster.redisPid})`}`,
      `  gateway   ${cluster.url}   sticky cookie rooms_chat, WebSockets proxied, health every 500 ms`,
      '  instances (each serves the page and /ws):',
      rows,
      '',
      `  Try: kill -9 <an instance's pid>. Its users reconnect through the gateway with ?fromSeq=..&epoch=..`,
      '  and miss no message; users on the other instances see nothing happen. Votes survive: the votes',
      '  singleton moves to a survivor. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}
