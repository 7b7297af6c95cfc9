/**
 * @module test/singleton/helpers: groups on a real redis-server, and the counter singleton most tests use.
 */
import { SingletonGroup, type SingletonDefinition } from '../../src/singleton/index.js';

export interface CounterState extends Record<string, unknown> {
  count: number;
  log: string[];
}

/** A counter; `slow` waits `ms` before counting; `fail` throws. */
export function counterDefinition(extra: Partial<SingletonDefinition<CounterState, never>> = {}) {
  return {
    initialState: { count: 0, log: [] as string[] },
    actions: {
      increment: (s: CounterState, by: number | null) => (s.count += by ?? 1),
      slow: async (s: CounterState, ms: number) => {
        await new Promise((r) => setTimeout(r, ms));
        return (s.count += 1);
      },
      fail: (s: CounterState) => {
        s.count += 1000;
        throw new Error('no such luck');
      },
      read: (s: CounterState) => s.count,
    },
    leaseMs: 1000,
    ...extra,
  };
}

export function group(url: string, keyPrefix: string, extra: { secret?: string; instanceId?: string } = {}): SingletonGroup {
  return new SingletonGroup({ redis: url, keyPrefix, ...extra });
}
