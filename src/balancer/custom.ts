/** @module balancer/custom: a strategy given as a function in a JS config. */
import type { CustomStrategyFn } from '../config/index.js';
import type { Candidate, PickContext, Strategy } from './strategy.js';

/** Options of `CustomStrategy`. */
export interface CustomStrategyOptions {
  /** Told when the function throws (for logging); the pick is then null. Default: ignore. */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/**
 * Runs a user's `CustomStrategyFn` and maps its answer back to the caller's own candidate object, matched by
 * `id`, so the gateway never forwards to an object the function made up. The answer is null (a 503) when the
 * function returns null/undefined, something whose id is not in the list, an excluded or weight-0 candidate,
 * or when it throws: a user's bug fails one request, never the gateway. Invalid answers are not replaced
 * with another pick, so the bug shows instead of being hidden.
 *
 * @example
 * new CustomStrategy((candidates) => candidates.find((c) => c.id.startsWith('eu-')));
 */
export class CustomStrategy implements Strategy {
  readonly name = 'custom';
  readonly #fn: CustomStrategyFn;
  readonly #onError: ((error: unknown) => void) | undefined;

  constructor(fn: CustomStrategyFn, options: CustomStrategyOptions = {}) {
    this.#fn = fn;
    this.#onError = options.onError;
  }

  pick<T extends Candidate>(candidates: readonly T[], ctx: PickContext): T | null {
    let chosen: unknown;
    try {
      chosen = this.#fn(candidates, ctx);
    } catch (error) {
      this.#report(error);
      return null;
    }
    // A JS config is untyped: the answer may be anything, a Promise included.
    if (typeof chosen !== 'object' || chosen === null) return null;
    const id: unknown = (chosen as { id?: unknown }).id;
    if (typeof id !== 'string' || ctx.exclude?.has(id) === true) return null;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      if (candidate.id === id) return candidate.weight > 0 ? candidate : null;
    }
    return null;
  }

  #report(error: unknown): void {
    try {
      this.#onError?.(error);
    } catch {
      // A failing error reporter must not turn a null pick into a crash.
    }
  }
}
