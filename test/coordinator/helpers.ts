/**
 * @module test/coordinator/helpers: a fixture of real Members and Registries on one test redis-server, each test under
 * its own key prefix, everything closed after the test; bounded waits on events; Redis command counters.
 */
import type { EventEmitter } from 'node:events';
import { after, afterEach, before, beforeEach } from 'node:test';
import { Member, Registry, type MemberOptions, type RegistryOptions } from '../../src/index.js';
import { coordinatorKeys, type CoordinatorKeys, type CoordinatorLayout } from '../../src/coordinator/store/index.js';
import { randomPrefix, startRedisServer, type RedisServer } from '../helpers/redis.js';

export interface Fixture {
  readonly prefix: string;
  readonly keys: CoordinatorKeys;
  /** A registered Member (no background heartbeat unless asked) at `http://127.0.0.1:<4000 + n>`. */
  member(memberId: string, options?: Partial<MemberOptions>): Promise<Member>;
  /** A Registry on this prefix, ready (subscribed, member list read). */
  registry(options?: Partial<RegistryOptions>): Promise<Registry>;
  /** The fencing epoch Redis holds for `destinationId` (0 when none). */
  epoch(destinationId: string): Promise<number>;
  /** Closes every member and registry made here. */
  close(): Promise<void>;
}

let port = 4000;

/**
 * The key layout the coordinator suites run on: keyway's, or platformatic's with `KW_COORDINATOR_LAYOUT=platformatic`
 * (`npm test` runs them on both).
 */
export const TEST_LAYOUT: CoordinatorLayout = process.env.KW_COORDINATOR_LAYOUT === 'platformatic' ? 'platformatic' : 'keyway';

export function fixture(server: RedisServer, prefix = randomPrefix('reg')): Fixture {
  const closers: (() => Promise<void>)[] = [];
  return {
    prefix,
    keys: coordinatorKeys(prefix, TEST_LAYOUT),
    async member(memberId, options = {}) {
      const member = new Member({ redis: server.url, keyPrefix: prefix, memberId, address: `http://127.0.0.1:${port++}`, layout: TEST_LAYOUT, ...options });
      closers.push(() => member.close());
      await member.register();
      return member;
    },
    async epoch(destinationId) {
      return Number((await server.cli('HGET', coordinatorKeys(prefix, TEST_LAYOUT).epochs, destinationId)) || 0);
    },
    async registry(options = {}) {
      const registry = new Registry({ redis: server.url, keyPrefix: prefix, layout: TEST_LAYOUT, ...options });
      closers.push(() => registry.close());
      await registry.ready();
      return registry;
    },
    async close() {
      await Promise.all(closers.splice(0).map((close) => close()));
    },
  };
}

/** A {@link Fixture} that also names the redis-server it runs on. */
export interface SuiteFixture extends Fixture {
  readonly server: RedisServer;
}

/**
 * Hooks the enclosing `describe` block: one redis-server, started before its tests and stopped after them, and a
 * fresh {@link fixture} (its own prefix) per test, closed after it. The object returned always speaks for the
 * current test's fixture, so it is read inside tests and hooks only.
 */
export function suiteFixture(): SuiteFixture {
  let server: RedisServer | undefined;
  let current: Fixture | undefined;
  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(() => {
    current = fixture(started());
  });
  afterEach(async () => {
    await current?.close();
  });
  function started(): RedisServer {
    if (server === undefined) throw new Error('suiteFixture: the redis-server is not started yet');
    return server;
  }
  function now(): Fixture {
    if (current === undefined) throw new Error('suiteFixture: read inside a test only');
    return current;
  }
  return {
    get server() {
      return started();
    },
    get prefix() {
      return now().prefix;
    },
    get keys() {
      return now().keys;
    },
    member: (memberId, options) => now().member(memberId, options),
    registry: (options) => now().registry(options),
    epoch: (destinationId) => now().epoch(destinationId),
    close: () => now().close(),
  };
}

/** The next `name` event whose arguments satisfy `match`; rejects after `ms`. */
export function nextEvent<A extends unknown[]>(
  emitter: EventEmitter,
  name: string,
  match: (...args: A) => boolean = () => true,
  ms = 5000,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, listener);
      reject(new Error(`timed out after ${ms} ms waiting for ${name}`));
    }, ms);
    const listener = (...args: unknown[]): void => {
      if (!match(...(args as A))) return;
      clearTimeout(timer);
      emitter.off(name, listener);
      resolve(args as A);
    };
    emitter.on(name, listener);
  });
}

/** Calls per command name from `INFO commandstats` (`evalsha`, `hmget`, ...). */
export async function commandStats(server: RedisServer): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of (await server.cli('INFO', 'commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) stats.set(m[1]!, Number(m[2]));
  }
  return stats;
}

/** Commands the server ran during `run()`, by name; the `info` (and `command`) calls of the measurement excluded. */
export async function commandsDuring(server: RedisServer, run: () => Promise<unknown>): Promise<Map<string, number>> {
  const before = await commandStats(server);
  await run();
  const after = await commandStats(server);
  const delta = new Map<string, number>();
  for (const [name, calls] of after) {
    if (name === 'info' || name.startsWith('command')) continue;
    const d = calls - (before.get(name) ?? 0);
    if (d !== 0) delta.set(name, d);
  }
  return delta;
}

/** Scripts run among `delta` (each coordinator call that writes or resolves is one script, one round trip). */
export function scriptsRun(delta: Map<string, number>): number {
  return (delta.get('evalsha') ?? 0) + (delta.get('eval') ?? 0);
}
