/**
 * @module cluster/cluster-primary: `ClusterPrimary` runs an unchanged app on every core. It forks the workers
 * (with `worker/bootstrap.ts` preloaded), owns the port, and hands each client connection to the least busy of
 * two random ready workers (their figures come over IPC every `statsIntervalMs`). It respawns a worker that exits
 * with a growing delay and gives a slot up after too many crashes, takes a worker whose figures stop out of
 * rotation (and replaces it if it does not come back), reloads workers one at a time without dropping a
 * connection, and shuts down gracefully.
 */
import { fork } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import type { Socket } from 'node:net';
import { ErrorCodes, ClusterError } from '../errors.js';
import type { Logger } from '../types.js';
import { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from './cluster-options.js';
import { fromWorker, WORKER_ENV } from './messages.js';
import { pickWorker, type Candidate } from './pick-worker.js';
import { RequestBalancer } from './request-balancer.js';
import { clusterRegistry } from './cluster-metrics.js';
import { portOf, startStatusServer } from './status-server.js';
import type { Server as HttpServer } from 'node:http';
import type { ClusterStatus } from './cluster-status.js';
import { WorkerSlot, workerProcess, type WorkerProcess } from './worker-slot.js';

const BOOTSTRAP = new URL('./worker/bootstrap.js', import.meta.url).href;
/** Connections held while no worker is ready (a respawn, the first start), and for how long. */
const MAX_HELD = 1000;
const HOLD_MS = 5000;

export interface ClusterEventMap {
  /** A worker is in rotation. */
  ready: [{ slot: number; pid: number }];
  /** A worker exited unasked. */
  crash: [{ slot: number; pid: number | undefined; code: number | null; signal: string | null; respawnInMs: number | null }];
  /** A slot stopped respawning (crash loop). */
  'gave-up': [{ slot: number; crashes: number }];
  /** A worker's figures stopped: out of rotation. */
  hung: [{ slot: number; pid: number }];
  /** Every slot has given up: nothing can serve. */
  fatal: [Error];
}

export class ClusterPrimary extends EventEmitter<ClusterEventMap> {
  readonly options: ResolvedClusterOptions;
  readonly #slots: WorkerSlot[];
  readonly #log: Logger | undefined;
  readonly #server: net.Server;
  #port: number | undefined;
  #listening: Promise<number> | null = null;
  readonly #held: { socket: Socket; timer: NodeJS.Timeout }[] = [];
  #dispatched = 0;
  #dropped = 0;
  #connSeq = 0;
  #watch: NodeJS.Timeout | undefined;
  #closing: Promise<void> | null = null;
  #reloading: Promise<void> | null = null;
  /** Per-request mode: the gateway in front of the workers; null per connection. */
  readonly #balancer: RequestBalancer | null;
  /** Per-request mode: backend id -> its worker. */
  readonly #backends = new Map<string, WorkerProcess>();
  #statusServer: HttpServer | null = null;

  constructor(options: ClusterOptions) {
    super();
    this.options = resolveClusterOptions(options);
    this.#log = options.logger?.child({ component: 'cluster' });
    this.#slots = Array.from({ length: this.options.workers }, (_, i) => new WorkerSlot(i, this.options.respawn));
    this.#server = net.createServer({ pauseOnConnect: true }, (socket) => this.#dispatch(socket));
    this.#server.on('error', (err) => this.#log?.error({ err: err.message }, 'cluster listener error'));
    this.#balancer =
      this.options.balance === 'request'
        ? new RequestBalancer((id) => this.#backends.get(id) ?? null, this.#log)
        : null;
  }

  /** The status endpoint's port, once it listens (with `statusPort`). */
  get statusPort(): number | undefined {
    return this.#statusServer === null ? undefined : portOf(this.#statusServer);
  }

  /** The port the cluster listens on, once it does. */
  get port(): number | undefined {
    return this.#port;
  }

  get status(): ClusterStatus {
    return {
      port: this.#port,
      workers: this.#slots.map((s) => ({
        slot: s.index,
        pid: s.current?.child.pid,
        state: s.givenUp ? 'given-up' : (s.current?.state ?? 'exited'),
        restarts: s.restarts,
        stats: s.current?.stats ?? null,
      })),
      dispatched: this.#dispatched,
      dropped: this.#dropped,
    };
  }

  /**
   * Forks every worker; resolves with the port once the first one is ready and the primary listens.
   *
   * @throws {ClusterError} `CLUSTER_NOT_READY` when no worker is ready within `readyTimeoutMs`, `CLUSTER_LISTEN`
   *   when the port cannot be bound.
   */
  async start(): Promise<number> {
    for (const slot of this.#slots) this.#spawn(slot);
    this.#watch = setInterval(() => this.#checkHung(), Math.max(50, Math.floor(this.options.statsIntervalMs / 2)));
    this.#watch.unref();
    const ready = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ClusterError(ErrorCodes.CLUSTER_NOT_READY, `no worker became ready within ${this.options.readyTimeoutMs} ms`)),
        this.options.readyTimeoutMs,
      );
      this.once('ready', () => {
        clearTimeout(timer);
        resolve(this.#port as number);
      });
      this.once('fatal', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    try {
      const port = await ready;
      if (this.options.statusPort !== undefined) {
        const status = (): ClusterStatus => this.status;
        this.#statusServer = await startStatusServer(this.options.statusPort, this.options.statusHost, status, clusterRegistry(status));
      }
      return port;
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Replaces every worker, one at a time: the new one is ready before the old one drains. */
  reload(): Promise<void> {
    this.#reloading ??= (async () => {
      for (const slot of this.#slots) {
        if (this.#closing) return;
        if (slot.givenUp) {
          slot.givenUp = false;
          this.#spawn(slot);
          continue;
        }
        const old = slot.current;
        const next = this.#spawn(slot, false);
        const ok = await this.#whenReady(next, this.options.readyTimeoutMs);
        if (!ok) {
          this.#log?.error({ slot: slot.index }, 'reload: the new worker did not become ready; the old one stays');
          next.expected = true;
          next.child.kill('SIGKILL');
          continue;
        }
        slot.current = next;
        if (old !== null) await this.#drainProcess(old);
      }
    })().finally(() => {
      this.#reloading = null;
    });
    return this.#reloading;
  }

  /** Stops accepting, lets every worker finish within `graceMs`, then resolves. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#watch);
      for (const h of this.#held.splice(0)) {
        clearTimeout(h.timer);
        h.socket.destroy();
      }
      const closed = this.#server.listening ? new Promise<void>((r) => this.#server.close(() => r())) : Promise.resolve();
      // Per request: the gateway stops accepting and lets its requests to the workers finish, then they drain.
      const balancer = this.#balancer?.close();
      await Promise.all(
        this.#slots.map(async (slot) => {
          clearTimeout(slot.respawnTimer);
          if (slot.current !== null) await this.#drainProcess(slot.current);
        }),
      );
      await closed;
      await balancer;
      if (this.#statusServer !== null) {
        const s = this.#statusServer;
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    })();
    return this.#closing;
  }

  // ---- workers ---------------------------------------------------------------------------------------------

  #spawn(slot: WorkerSlot, install = true): WorkerProcess {
    const o = this.options;
    const child = fork(o.script, [...o.args], {
      execArgv: [...process.execArgv, '--import', BOOTSTRAP],
      env: {
        ...process.env,
        ...o.env,
        [WORKER_ENV.slot]: String(slot.index),
        [WORKER_ENV.statsMs]: String(o.statsIntervalMs),
        ...(o.balance === 'request' ? { [WORKER_ENV.balance]: 'request' } : {}),
        ...(o.readiness === 'explicit' ? { [WORKER_ENV.readiness]: 'explicit' } : {}),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const w = workerProcess(child, Date.now());
    if (install) slot.current = w;
    child.on('message', (raw) => this.#onMessage(slot, w, raw));
    child.once('exit', (code, signal) => this.#onExit(slot, w, code, signal));
    child.on('error', (err) => this.#log?.warn({ slot: slot.index, err: err.message }, 'worker process error'));
    return w;
  }

  #onMessage(slot: WorkerSlot, w: WorkerProcess, raw: unknown): void {
    const m = fromWorker(raw);
    if (m === null) return;
    switch (m.kw) {
      case 'listen':
        if (this.#balancer !== null) {
          if (m.bound !== undefined) w.backend = { id: `w${slot.index}-${w.child.pid}`, url: `http://127.0.0.1:${m.bound}` };
          if (w.readyAsked) this.#readyPerRequest(slot, w);
          break;
        }
        void this.#listen(m.port).then(
          (port) => w.child.connected && w.child.send({ kw: 'listening', port }),
          (err: unknown) => this.emit('fatal', err instanceof Error ? err : new Error(String(err))),
        );
        break;
      case 'ready':
        if (w.state === 'starting' && this.#balancer !== null) {
          // Explicit readiness may come before the server listens: it joins once it does.
          w.readyAsked = true;
          if (w.backend !== null) this.#readyPerRequest(slot, w);
        } else if (w.state === 'starting') {
          // Ready only once the primary listens: `ready` in explicit mode may come before `listen`.
          void (this.#listening ?? this.#listen(this.options.port ?? 0)).then(() => this.#setReady(slot, w), () => undefined);
        }
        break;
      case 'stats':
        w.stats = m.stats;
        w.lastStatsAt = Date.now();
        w.sentSinceStats = 0;
        if (w.state === 'hung') {
          w.state = 'ready';
          if (w.backend !== null) this.#balancer?.setInRotation(w.backend.id, true);
          this.#log?.info({ slot: slot.index }, 'worker answers again: back in rotation');
        }
        break;
      case 'draining':
        w.state = 'draining';
        break;
      case 'took': {
        // The worker holds its own descriptor now: closing ours does not end the connection.
        w.unacked.get(m.id)?.destroy();
        w.unacked.delete(m.id);
        break;
      }
      case 'refused': {
        const s = w.unacked.get(m.id);
        w.unacked.delete(m.id);
        if (s !== undefined && !s.destroyed) this.#dispatch(s);
        break;
      }
    }
  }

  #setReady(slot: WorkerSlot, w: WorkerProcess): void {
    if (w.state !== 'starting') return;
    w.state = 'ready';
    w.lastStatsAt = Date.now();
    this.emit('ready', { slot: slot.index, pid: w.child.pid as number });
    this.#releaseHeld();
  }

  #listen(requested: number): Promise<number> {
    this.#listening ??= new Promise<number>((resolve, reject) => {
      const onError = (err: Error): void => reject(new ClusterError(ErrorCodes.CLUSTER_LISTEN, `cannot listen on port ${this.options.port ?? requested}: ${err.message}`, err));
      this.#server.once('error', onError);
      this.#server.listen(this.options.port ?? requested, this.options.host, () => {
        this.#server.off('error', onError);
        this.#port = (this.#server.address() as net.AddressInfo).port;
        this.#log?.info({ port: this.#port, workers: this.options.workers }, 'cluster listening');
        resolve(this.#port);
      });
    });
    return this.#listening;
  }

  #onExit(slot: WorkerSlot, w: WorkerProcess, code: number | null, signal: string | null): void {
    w.state = 'exited';
    this.#rescueOrphans(w);
    this.#dropBackend(w);
    if (slot.current === w) slot.current = null;
    if (w.expected || this.#closing) return;
    const decision = slot.policy.exited(Date.now() - w.startedAt, Date.now());
    this.emit('crash', { slot: slot.index, pid: w.child.pid, code, signal, respawnInMs: decision.respawn ? decision.delayMs : null });
    if (!decision.respawn) {
      slot.givenUp = true;
      this.#log?.error({ slot: slot.index, crashes: decision.crashes }, 'worker crash loop: slot given up');
      this.emit('gave-up', { slot: slot.index, crashes: decision.crashes });
      if (this.#slots.every((s) => s.givenUp)) this.emit('fatal', new ClusterError(ErrorCodes.CLUSTER_NO_WORKERS, 'every worker slot gave up after repeated crashes'));
      return;
    }
    this.#log?.warn({ slot: slot.index, code, signal, respawnInMs: decision.delayMs }, 'worker exited: respawning');
    slot.respawnTimer = setTimeout(() => {
      if (this.#closing || slot.current !== null) return;
      slot.restarts++;
      this.#spawn(slot);
    }, decision.delayMs);
    slot.respawnTimer.unref();
  }

  /**
   * Connections handed to `w` that it never took go to another worker (or the hold, while none is ready). Only once
   * its IPC channel has been read to the end (`connected` turns false at EOF), so a `took` still in the pipe at
   * 'exit' is not missed: a connection the worker took may have been read, and must not be handed on.
   */
  #rescueOrphans(w: WorkerProcess, waitedMs = 0): void {
    if (w.unacked.size === 0) return;
    if (w.child.connected && waitedMs < 1000) {
      setTimeout(() => this.#rescueOrphans(w, waitedMs + 10), 10).unref();
      return;
    }
    // `took` messages parsed before EOF are emitted on the next tick: take them into account first.
    process.nextTick(() => {
      const orphans = [...w.unacked.values()];
      w.unacked.clear();
      for (const s of orphans) if (!s.destroyed) this.#dispatch(s);
    });
  }

  #checkHung(): void {
    const now = Date.now();
    for (const slot of this.#slots) {
      const w = slot.current;
      if (w === null) continue;
      if (w.state === 'ready' && now - w.lastStatsAt > this.options.hungAfterMs) {
        w.state = 'hung';
        w.hungSince = now;
        this.#log?.warn({ slot: slot.index, pid: w.child.pid }, 'worker stopped reporting: out of rotation');
        if (w.backend !== null) this.#balancer?.setInRotation(w.backend.id, false);
        this.emit('hung', { slot: slot.index, pid: w.child.pid as number });
      } else if (w.state === 'hung' && now - w.hungSince > this.options.replaceHungAfterMs) {
        this.#log?.error({ slot: slot.index, pid: w.child.pid }, 'worker hung too long: replaced');
        w.child.kill('SIGKILL');
      }
    }
  }

  #whenReady(w: WorkerProcess, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.off('ready', onReady);
        w.child.off('exit', onExit);
        resolve(ok);
      };
      const onReady = (e: { pid: number }): void => {
        if (e.pid === w.child.pid) done(true);
      };
      const onExit = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.on('ready', onReady);
      w.child.once('exit', onExit);
    });
  }

  /** Asks `w` to finish and exit within the grace; SIGKILL shortly after it if it has not. */
  async #drainProcess(w: WorkerProcess): Promise<void> {
    if (w.state === 'exited') return;
    w.expected = true;
    w.state = 'draining';
    // Per request: the gateway stops sending it new requests first; those in flight finish.
    this.#dropBackend(w);
    const exited = once(w.child, 'exit').then(() => undefined);
    if (w.child.connected) w.child.send({ kw: 'drain', graceMs: this.options.graceMs });
    else w.child.kill('SIGTERM');
    const timer = setTimeout(() => w.child.kill('SIGKILL'), this.options.graceMs + 2000);
    await exited;
    clearTimeout(timer);
  }

  #readyPerRequest(slot: WorkerSlot, w: WorkerProcess): void {
    if (w.state !== 'starting' || this.#backends.has((w.backend as { id: string }).id)) return;
    void this.#addBackend(w, slot).then(
      () => this.#setReady(slot, w),
      (err: unknown) => this.emit('fatal', err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** Per request: `w` joins the gateway's backends (the first one starts the gateway on the public port). */
  async #addBackend(w: WorkerProcess, slot: WorkerSlot): Promise<void> {
    const backend = w.backend;
    const balancer = this.#balancer as RequestBalancer;
    if (backend === null) throw new ClusterError(ErrorCodes.CLUSTER_LISTEN, `worker ${slot.index} is ready but never listened`);
    this.#backends.set(backend.id, w);
    if (this.#listening === null) {
      this.#listening = balancer.start(this.options.port ?? 0, this.options.host, backend).then(
        (port) => {
          this.#port = port;
          this.#log?.info({ port, workers: this.options.workers, balance: 'request' }, 'cluster listening');
          return port;
        },
        (err: unknown) => {
          throw new ClusterError(ErrorCodes.CLUSTER_LISTEN, `cannot listen on port ${this.options.port ?? 0}: ${(err as Error).message}`, err);
        },
      );
      await this.#listening;
      return;
    }
    await this.#listening;
    balancer.add(backend);
  }

  #dropBackend(w: WorkerProcess): void {
    if (w.backend === null || !this.#backends.has(w.backend.id)) return;
    this.#backends.delete(w.backend.id);
    this.#balancer?.remove(w.backend.id);
  }

  // ---- dispatch --------------------------------------------------------------------------------------------

  #candidates(): (Candidate & { w: WorkerProcess })[] {
    const out: (Candidate & { w: WorkerProcess })[] = [];
    for (const slot of this.#slots) {
      const w = slot.current;
      if (w !== null && w.state === 'ready' && w.child.connected) out.push({ slot: slot.index, stats: w.stats, sentSinceStats: w.sentSinceStats, w });
    }
    return out;
  }

  #dispatch(socket: Socket, tries = 0): void {
    socket.on('error', () => socket.destroy());
    const picked = pickWorker(this.#candidates()) as (Candidate & { w: WorkerProcess }) | null;
    if (picked === null) {
      this.#hold(socket);
      return;
    }
    const w = picked.w;
    w.sentSinceStats++;
    const id = ++this.#connSeq;
    // Our descriptor stays open until the worker says it took the connection: one that dies first never read a
    // byte of it, and another worker gets it (Node keeps a handle sent to a child that dies before its ACK open
    // forever, and never calls back the sends queued behind it).
    w.unacked.set(id, socket);
    w.child.send({ kw: 'conn', id }, socket, { keepOpen: true }, (err) => {
      if (err === null) {
        this.#dispatched++;
        return;
      }
      if (!w.unacked.delete(id)) return;
      // The worker went away between the pick and the send: another one gets it.
      if (tries < 3 && !socket.destroyed) this.#dispatch(socket, tries + 1);
      else socket.destroy();
    });
  }

  #hold(socket: Socket): void {
    if (this.#held.length >= MAX_HELD || this.#closing) {
      this.#dropped++;
      socket.destroy();
      return;
    }
    const entry = {
      socket,
      timer: setTimeout(() => {
        const i = this.#held.indexOf(entry);
        if (i >= 0) this.#held.splice(i, 1);
        this.#dropped++;
        socket.destroy();
      }, HOLD_MS),
    };
    this.#held.push(entry);
  }

  #releaseHeld(): void {
    for (const h of this.#held.splice(0)) {
      clearTimeout(h.timer);
      if (!h.socket.destroyed) this.#dispatch(h.socket);
    }
  }
}
