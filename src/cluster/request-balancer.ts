/**
 * @module cluster/request-balancer: per-request mode. The primary runs the keyway gateway on the public port with
 * the workers (each bound to a loopback port of its own) as its backends, so one keep-alive client is spread over
 * every worker, the worker sees `X-Forwarded-For`, an idempotent request the worker refused or reset before
 * answering is retried on another, and socket.io's polling requests and upgrade stay on one worker (the gateway's
 * signed sticky cookie). The pick is the cluster's own: the less busy of two, on the workers' figures.
 */
import { randomBytes } from 'node:crypto';
import type { Candidate, CustomStrategyFn } from '../config/index.js';
import { resolveRuntimeBackend, validateConfig } from '../config/index.js';
import { Gateway } from '../gateway/index.js';
import { silentLogger } from '../observe/index.js';
import type { Logger } from '../types.js';
import { pickWorker, type Candidate as WorkerCandidate } from './pick-worker.js';
import type { WorkerStats } from './messages.js';

/** What the balancer needs to know of a worker by its backend id. */
export type FiguresOf = (id: string) => { readonly stats: WorkerStats | null; sentSinceStats: number } | null;

export class RequestBalancer {
  readonly #figures: FiguresOf;
  readonly #log: Logger | undefined;
  #gateway: Gateway | null = null;

  constructor(figures: FiguresOf, log: Logger | undefined) {
    this.#figures = figures;
    this.#log = log;
  }

  /** Starts the gateway on `port` with its first worker; resolves with the port bound. */
  async start(port: number, host: string | undefined, first: { id: string; url: string }): Promise<number> {
    const strategy: CustomStrategyFn = (candidates) => this.#pick(candidates);
    const config = validateConfig({
      port,
      host: host ?? '0.0.0.0',
      strategy,
      backends: [first],
      // Liveness is the cluster's business (stats over IPC): the "probe" reaches no app, it only lets a worker
      // added at runtime take traffic at once (rise 1).
      health: { interval: 200, rise: 1, fall: 1000, check: () => true },
      sticky: { secret: randomBytes(24).toString('base64url'), cookie: 'kw_worker' },
      retries: true,
    });
    this.#gateway = new Gateway(config, { logger: this.#log ?? silentLogger() });
    const address = await this.#gateway.listen();
    return address.port;
  }

  add(backend: { id: string; url: string }): void {
    const gw = this.#gateway;
    if (gw !== null) gw.addBackend(resolveRuntimeBackend(gw.config, { ...backend }));
  }

  /** New requests go elsewhere; those in flight finish. */
  remove(id: string): void {
    this.#gateway?.removeBackend(id);
  }

  /** In rotation or not (a hung worker), without forgetting it. */
  setInRotation(id: string, on: boolean): void {
    this.#gateway?.setAdminState(id, on ? 'enabled' : 'disabled');
  }

  async close(): Promise<void> {
    await this.#gateway?.close();
  }

  #pick(candidates: readonly Candidate[]): Candidate | null {
    const workers: WorkerCandidate[] = [];
    candidates.forEach((c, i) => {
      const f = this.#figures(c.id);
      workers.push({ slot: i, stats: f?.stats ?? null, sentSinceStats: (f?.sentSinceStats ?? 0) + c.inflight });
    });
    const w = pickWorker(workers);
    if (w === null) return null;
    const chosen = candidates[w.slot] as Candidate;
    // Counted until the worker's next figures, so picks between two samples do not all go to one worker.
    const f = this.#figures(chosen.id);
    if (f !== null) f.sentSinceStats++;
    return chosen;
  }
}

