/**
 * @module test/cluster/rig: what the cluster tests share. A `ClusterPrimary` (in the test process) over the fixture
 * app (`fixtures/app.ts`, real worker processes) with its events recorded in order and every worker pid it ever had
 * remembered so `stopClusters()` can leave nothing behind; a loopback HTTP client that says which worker answered
 * and on which local port; and a fixed-rate load of keep-alive and new-connection requests whose every outcome is
 * kept.
 */
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { ClusterPrimary, type ClusterEventMap, type ClusterOptions } from '../../src/cluster/index.js';
import { alive } from '../helpers/process.js';

export const APP = fileURLToPath(new URL('./fixtures/app.js', import.meta.url));

export interface RecordedEvent {
  readonly name: keyof ClusterEventMap;
  readonly at: number;
  readonly data: Record<string, unknown>;
}

export interface Rig {
  readonly primary: ClusterPrimary;
  readonly events: RecordedEvent[];
  /** Every worker pid seen ready, in order. */
  readonly pids: Set<number>;
}

const rigs: Rig[] = [];

/** A primary over the fixture app on port 0, not started; its events recorded from now on. */
export function makeCluster(options: Partial<ClusterOptions> = {}): Rig {
  const primary = new ClusterPrimary({ script: APP, workers: 2, port: 0, ...options });
  const rig: Rig = { primary, events: [], pids: new Set() };
  for (const name of ['ready', 'crash', 'gave-up', 'hung', 'fatal'] as const) {
    primary.on(name, (data: unknown) => {
      const d = data instanceof Error ? { message: data.message, code: (data as { code?: unknown }).code } : (data as Record<string, unknown>);
      rig.events.push({ name, at: Date.now(), data: d });
      if (name === 'ready') rig.pids.add(Number(d.pid));
    });
  }
  rigs.push(rig);
  return rig;
}

/** A started cluster of the fixture app, with `port`. */
export async function startCluster(options: Partial<ClusterOptions> = {}): Promise<Rig & { port: number }> {
  const rig = makeCluster(options);
  const port = await rig.primary.start();
  return Object.assign(rig, { port });
}

/** Closes every primary made in this file (continuing stopped workers first) and kills any worker still alive after. */
export async function stopClusters(): Promise<void> {
  for (const rig of rigs.splice(0)) {
    for (const pid of rig.pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([rig.primary.close(), new Promise((r) => (timer = setTimeout(r, rig.primary.options.graceMs + 5000)))]);
    clearTimeout(timer);
    for (const pid of rig.pids) {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
}

/** The state of every slot, e.g. `0:ready/123 1:hung/124`. */
export function slotsOf(rig: Rig): string {
  return rig.primary.status.workers.map((w) => `${w.slot}:${w.state}/${w.pid ?? '-'}(r${w.restarts})`).join(' ');
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  /** The client socket's local port: the remote port the app should see. */
  readonly localPort: number | undefined;
  /** Whether a kept-alive socket carried it. */
  readonly reused: boolean;
}

export interface GetOptions {
  /** A keep-alive agent; default none (a new connection, `Connection: close`). */
  readonly agent?: http.Agent;
  readonly timeoutMs?: number;
}

/** One GET over loopback. */
export function get(port: number, path = '/', options: GetOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: options.agent ?? false }, (res) => {
      const localPort = req.socket?.localPort;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), localPort, reused: req.reusedSocket }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error('test request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The pid in one of the app's JSON answers. */
export function pidOf(a: Answer): number {
  return (JSON.parse(a.body) as { pid: number }).pid;
}

export interface Outcome {
  readonly keepAlive: boolean;
  readonly sentAt: number;
  finishedAt: number;
  /** Whether the request went out on a kept-alive socket (known once it has a socket). */
  reused: boolean;
  /** When its socket was connected (a reused one: when it was handed the socket); 0 if never. */
  connectedAt: number;
  /** 0 when no answer came. */
  status: number;
  pid: number | undefined;
  error: string | undefined;
}

export interface LoadOptions {
  readonly port: number;
  readonly ratePerSecond: number;
  /** Share of requests sent over the keep-alive agent (the rest on new connections). Default 0. */
  readonly keepAliveShare?: number;
  readonly maxInflight?: number;
  readonly path?: string;
  readonly timeoutMs?: number;
}

/** Requests at a fixed rate, every outcome kept. */
export class Load {
  readonly outcomes: Outcome[] = [];
  skipped = 0;
  readonly #o: LoadOptions;
  readonly #agent: http.Agent;
  readonly #pending = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #carry = 0;
  #n = 0;

  constructor(options: LoadOptions) {
    this.#o = options;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  start(): this {
    this.#timer = setInterval(() => this.#tick(), 10);
    return this;
  }

  /** Stops issuing and waits for what is in flight (each bounded by its time limit). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    this.#agent.destroy();
  }

  /** Resolves once `n` more requests than now have completed, within `ms`. */
  async more(n: number, ms: number): Promise<void> {
    const target = this.done() + n;
    const deadline = Date.now() + ms;
    while (this.done() < target) {
      if (Date.now() > deadline) throw new Error(`load: ${n} more answers not within ${ms} ms (${this.done()} of ${target})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  done(): number {
    let d = 0;
    for (const o of this.outcomes) if (o.finishedAt !== 0) d++;
    return d;
  }

  failures(filter: (o: Outcome) => boolean = () => true): Outcome[] {
    return this.outcomes.filter((o) => o.finishedAt !== 0 && o.status !== 200 && filter(o));
  }

  #tick(): void {
    this.#carry += (this.#o.ratePerSecond * 10) / 1000;
    while (this.#carry >= 1) {
      this.#carry -= 1;
      if (this.#pending.size >= (this.#o.maxInflight ?? 64)) this.skipped++;
      else this.#send();
    }
  }

  #send(): void {
    const share = this.#o.keepAliveShare ?? 0;
    // Interleaved deterministically: of every 10 requests, round(10 * share) go over the keep-alive agent.
    const keepAlive = this.#n++ % 10 < Math.round(share * 10);
    const o: Outcome = { keepAlive, sentAt: Date.now(), finishedAt: 0, reused: false, connectedAt: 0, status: 0, pid: undefined, error: undefined };
    this.outcomes.push(o);
    const done = new Promise<void>((resolve) => {
      const finish = (err?: Error): void => {
        if (o.finishedAt !== 0) return;
        o.finishedAt = Date.now();
        if (err !== undefined) {
          o.status = 0;
          o.error = `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.trim();
        }
        resolve();
      };
      const req = http.request({ host: '127.0.0.1', port: this.#o.port, path: this.#o.path ?? '/', agent: keepAlive ? this.#agent : false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          o.status = res.statusCode ?? 0;
          try {
            o.pid = (JSON.parse(Buffer.concat(chunks).toString()) as { pid?: number }).pid;
          } catch {
            // not the app's JSON
          }
          finish();
        });
        res.on('error', finish);
        res.on('aborted', () => finish(new Error('response aborted')));
      });
      req.on('socket', (socket) => {
        o.reused = req.reusedSocket;
        if (o.reused || !socket.connecting) o.connectedAt = Date.now();
        else socket.once('connect', () => (o.connectedAt = Date.now()));
      });
      req.setTimeout(this.#o.timeoutMs ?? 10_000, () => req.destroy(new Error('load request timed out')));
      req.on('error', finish);
      req.end();
    });
    this.#pending.add(done);
    void done.then(() => this.#pending.delete(done));
  }
}

/** `n` items counted by key. */
export function countBy<T>(items: readonly T[], key: (t: T) => string | number | undefined): Map<string | number | undefined, number> {
  const m = new Map<string | number | undefined, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}
