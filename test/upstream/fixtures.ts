/** @module test/upstream/fixtures: backend configs, a settable clock and event waits for the pool tests. */
import { once, type EventEmitter } from 'node:events';
import type { BackendConfig } from '../../src/config/index.js';
import { settings } from '../health/helpers.js';

const HEALTH = settings({ intervalMs: 10_000, path: '/' });

/** A backend config as `validateConfig()` would produce it; the URL is never connected to. */
export function backend(id: string, weight = 1): BackendConfig {
  return { id, rawId: id, url: `http://127.0.0.1:1/${id}`, weight, owner: undefined, health: HEALTH, pool: 'default' };
}

/** A clock a test moves by hand. */
export interface FakeClock {
  (): number;
  advance(ms: number): void;
}

export function fakeClock(start = 1_000_000): FakeClock {
  let t = start;
  const clock = (() => t) as FakeClock;
  clock.advance = (ms) => {
    t += ms;
  };
  return clock;
}

/**
 * Resolves with the event's arguments, or rejects after `ms` so a broken test fails instead of hanging.
 * The deadline timer is deliberately not unref'd: the pool's own timers are, and something must keep the
 * process alive while the test waits on them.
 */
export async function within<T extends unknown[]>(emitter: EventEmitter, event: string, ms: number): Promise<T> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`no '${event}' within ${ms} ms`)), ms);
  try {
    return (await once(emitter, event, { signal: ac.signal })) as T;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `predicate` every 10 ms until it holds; rejects after `ms`. */
export async function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
