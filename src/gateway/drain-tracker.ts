/**
 * @module gateway/drain-tracker: when a draining backend is done. A draining backend takes no new clients but
 * keeps its pinned ones; it is drained once it has been idle (nothing in flight, no new request) for
 * `idleMs`, or at the latest after `timeoutMs`. One unref'd timer checks every draining backend each second.
 */
import type { Upstream, UpstreamPool } from '../upstream/index.js';

const CHECK_MS = 1000;

interface Draining {
  readonly startedAt: number;
  requestsSeen: number;
  quietSince: number;
}

export class DrainTracker {
  readonly #pool: UpstreamPool;
  readonly #timeoutMs: number;
  readonly #idleMs: number;
  readonly #onDrained: (u: Upstream) => void;
  readonly #draining = new Map<Upstream, Draining>();
  #timer: NodeJS.Timeout | undefined;

  constructor(pool: UpstreamPool, timeoutMs: number, onDrained: (u: Upstream) => void, idleMs = Math.min(30_000, timeoutMs)) {
    this.#pool = pool;
    this.#timeoutMs = timeoutMs;
    this.#idleMs = idleMs;
    this.#onDrained = onDrained;
  }

  start(u: Upstream): void {
    const now = Date.now();
    this.#draining.set(u, { startedAt: now, requestsSeen: u.requests, quietSince: now });
    this.#timer ??= setInterval(() => this.#check(), Math.min(CHECK_MS, Math.max(50, this.#idleMs / 2))).unref();
  }

  stop(u: Upstream): void {
    this.#draining.delete(u);
    if (this.#draining.size === 0) this.close();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    const now = Date.now();
    for (const [u, d] of this.#draining) {
      if (u.adminState !== 'draining' || this.#pool.get(u.id) !== u) {
        this.stop(u);
        continue;
      }
      if (u.requests !== d.requestsSeen || u.inflight > 0) {
        d.requestsSeen = u.requests;
        d.quietSince = now;
      }
      if (now - d.quietSince >= this.#idleMs || now - d.startedAt >= this.#timeoutMs) {
        this.stop(u);
        this.#onDrained(u);
      }
    }
  }
}
