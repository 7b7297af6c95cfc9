/**
 * @module gateway/backend-picker: which backend serves a request: the one its sticky cookie names while that one
 * may still serve it, else the strategy's pick. Allocates nothing per request beyond what the strategy does.
 */
import type { IncomingMessage } from 'node:http';
import type { Strategy } from '../balancer/index.js';
import type { KeyExtractor, StickySessions } from '../sticky/index.js';
import { STICKY_SEPARATOR, type Upstream, type UpstreamPool } from '../upstream/index.js';

/** The outcome of one pick; reused by the caller to avoid an object per request. */
export interface Pick {
  upstream: Upstream | null;
  /** Set-Cookie line to send when the client is (re)pinned; undefined when its cookie is already right. */
  setCookie: string | undefined;
}

const NO_CONTEXT = Object.freeze({});

export class BackendPicker {
  readonly #pool: UpstreamPool;
  readonly #strategy: Strategy;
  readonly #sticky: StickySessions | null;
  readonly #keyOf: KeyExtractor | null;

  constructor(pool: UpstreamPool, strategy: Strategy, sticky: StickySessions | null, keyOf: KeyExtractor | null) {
    this.#pool = pool;
    this.#strategy = strategy;
    this.#sticky = sticky;
    this.#keyOf = keyOf;
  }

  /** The pool it picks from. */
  get pool(): UpstreamPool {
    return this.#pool;
  }

  get strategyName(): string {
    return this.#strategy.name;
  }

  /** The Set-Cookie line pinning a client to `upstream` (undefined without stickiness). */
  cookieFor(upstream: Upstream): string | undefined {
    return this.#sticky?.setCookieFor(upstream.stickyKey);
  }

  /**
   * Fills `out` for `req`. `exclude` holds ids not to use (a retry). `out.upstream` is null when no backend
   * can take it (503).
   */
  pick(req: IncomingMessage, out: Pick, exclude: ReadonlySet<string> | null): Pick {
    out.setCookie = undefined;
    const sticky = this.#sticky;
    if (sticky !== null) {
      const key = sticky.backendOf(req);
      if (key !== null) {
        const sep = key.indexOf(STICKY_SEPARATOR);
        const pinned = this.#pool.get(sep < 0 ? key : key.slice(0, sep));
        // Weight 0 and draining take no *new* clients; a client already pinned stays while its backend may serve.
        // A cookie from before the backend restarted (another boot id) no longer pins.
        if (
          pinned !== undefined &&
          pinned.stickyKey === key &&
          (exclude === null || !exclude.has(pinned.id)) &&
          this.#pool.mayServeSticky(pinned)
        ) {
          out.upstream = pinned;
          return out;
        }
      }
    }
    const hashKey = this.#keyOf === null ? undefined : this.#keyOf(req);
    const ctx = exclude === null ? (hashKey === undefined ? NO_CONTEXT : { hashKey }) : { hashKey, exclude };
    const chosen = this.#strategy.pick(this.#pool.candidates(), ctx);
    out.upstream = chosen;
    if (chosen !== null && sticky !== null) out.setCookie = sticky.setCookieFor(chosen.stickyKey);
    return out;
  }
}
