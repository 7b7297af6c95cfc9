/**
 * Test harness: real `redis-server` processes on free loopback ports, each in its own temp dir, stopped by
 * PID. Every start and wait has a deadline; `stop()` kills and cleans up, and a process-exit hook kills any
 * server a failed test left behind. Never touches the shared Redis on 6379.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisConfig } from '../../src/config/types.js';

export const REDIS_SERVER = '/usr/bin/redis-server';
export const REDIS_CLI = '/usr/bin/redis-cli';
const HOST = '127.0.0.1';

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly dir: string;
  /** PID of the running process, undefined while it is down. */
  readonly pid: number | undefined;
  /** Sends `signal` (default SIGKILL) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** `SIGSTOP`: the process stays, its sockets stay open, and it answers nothing until {@link resume}. */
  pause(): void;
  /** `SIGCONT` after {@link pause}. */
  resume(): void;
  /** Starts it again on the same port, dir and arguments (after `kill`). */
  restart(): Promise<void>;
  /** Runs `redis-cli` against it and returns stdout. */
  cli(...args: string[]): Promise<string>;
  /** Kills it and removes its dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** Extra `redis-server` arguments, given the port and dir (e.g. cluster or TLS settings). */
  readonly args?: (port: number, dir: string) => string[];
  /** Run as a Sentinel with this config file body (written to `<dir>/sentinel.conf`). */
  readonly sentinelConfig?: (port: number, dir: string) => string;
  /** Bind this port instead of a free one (no retry then). */
  readonly port?: number;
  /** Deadline for the server to answer PING (ms). Default 5000. */
  readonly timeoutMs?: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A key prefix unique to one test file (or test). */
export function randomPrefix(label = 't'): string {
  return `kwtest-${label}-${randomBytes(4).toString('hex')}`;
}

/** A loopback port that was free a moment ago (listen on 0, then close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** `redis-cli -h 127.0.0.1 -p <port> ...args`, bounded by `timeoutMs`. */
export function redisCli(port: number, args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI, ['-h', HOST, '-p', String(port), ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')} failed: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Resolves once `check()` resolves true; polls every 50 ms; rejects after `ms` naming `what`. */
export async function waitFor(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a `redis-server` (retrying on another port when the chosen one is taken) and waits for PING. */
export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'keyway-redis-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < (options.port ? 1 : 5); attempt++) {
    const port = options.port ?? (await freePort());
    const argv = await buildArgv(port, dir, options);
    try {
      const child = await spawnReady(argv, port, options.timeoutMs ?? 5000);
      return serverHandle(port, dir, argv, child, options.timeoutMs ?? 5000);
    } catch (err) {
      lastError = err;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

async function buildArgv(port: number, dir: string, options: StartRedisOptions): Promise<string[]> {
  if (options.sentinelConfig) {
    const file = join(dir, 'sentinel.conf');
    await writeFile(file, options.sentinelConfig(port, dir));
    return [file, '--sentinel', '--port', String(port), '--bind', HOST, '--dir', dir];
  }
  const base = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir];
  return [...base, '--daemonize', 'no', ...(options.args?.(port, dir) ?? [])];
}

/** Spawns and waits for PING; kills the process and rejects (with its output) if it exits or times out. */
async function spawnReady(argv: string[], port: number, timeoutMs: number): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-2000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    running.delete(child);
  });
  try {
    const deadline = Date.now() + timeoutMs;
    while (!(await ping(port))) {
      if (exited) throw new Error('it exited');
      if (Date.now() > deadline) throw new Error(`no PONG within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // A PONG from someone else's server on a port we lost the race for does not count.
    await new Promise((r) => setTimeout(r, 20));
    if (exited) throw new Error('it exited');
    return child;
  } catch (err) {
    await killChild(child, 'SIGKILL');
    throw new Error(`redis-server on port ${port} did not start: ${(err as Error).message}\n${output}`);
  }
}

function serverHandle(port: number, dir: string, argv: string[], first: ChildProcess, timeoutMs: number): RedisServer {
  let child: ChildProcess | undefined = first;
  let stopped = false;
  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    get pid() {
      return child?.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async kill(signal = 'SIGKILL') {
      if (child) await killChild(child, signal);
      child = undefined;
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async restart() {
      if (child) await killChild(child, 'SIGKILL');
      child = await spawnReady(argv, port, timeoutMs);
    },
    cli: (...args: string[]) => redisCli(port, args),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child) await killChild(child, 'SIGKILL');
      child = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 5000);
  });
  await Promise.race([exited, late]);
  clearTimeout(timer);
}

/** One PING over a raw socket: true on `+PONG` (or `-NOAUTH` from a server with a password). Bounded by 1 s. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

/** A complete `RedisConfig` for tests: `overrides` on top of the documented defaults (no address set). */
export function testRedisConfig(overrides: Partial<RedisConfig>): RedisConfig {
  return {
    url: undefined,
    sentinels: undefined,
    name: undefined,
    cluster: undefined,
    username: undefined,
    password: undefined,
    tls: false,
    keyPrefix: randomPrefix(),
    required: false,
    connectTimeoutMs: 3000,
    syncIntervalMs: 2000,
    verdictTtlMs: 6000,
    stateTtlMs: 86_400_000,
    healthQuorum: undefined,
    replicaId: `replica-${randomBytes(3).toString('hex')}`,
    ...overrides,
  };
}
