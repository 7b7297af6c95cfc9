/**
 * @module test/failover/helpers: what the failover tests drive through a Sentinel or a Cluster: coordinator members
 * and registries on their own connections, a bounded resolve load that records every caller error and every claim
 * it was told about, and waits on the topology (a new master elected, an old one demoted).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Member, Registry, type ResolveResult } from '../../src/index.js';
import { closeClient, createRedisClient, type RedisClient } from '../../src/redis/index.js';
import type { RedisSentinelSetup } from '../helpers/redis-sentinel.js';
import { testRedisConfig, waitFor } from '../helpers/redis.js';

/** A connection found through the setup's sentinels (what a service would build). */
export function sentinelClient(setup: RedisSentinelSetup): RedisClient {
  const sentinels = setup.sentinels.map((s) => ({ host: s.host, port: s.port }));
  return createRedisClient(testRedisConfig({ sentinels, name: setup.name, connectTimeoutMs: 1000 }));
}

/** The port Sentinel names as the master now. */
export async function masterPort(setup: RedisSentinelSetup): Promise<number> {
  for (const s of setup.sentinels) {
    try {
      const answer = (await s.cli('SENTINEL', 'get-master-addr-by-name', setup.name)).trim().split('\n');
      const port = Number(answer[1]);
      if (Number.isInteger(port) && port > 0) return port;
    } catch {
      // that sentinel is not answering; ask the next
    }
  }
  throw new Error('no sentinel names a master');
}

/** Resolves once the sentinels name a master other than `oldPort`; returns when (Date.now()). */
export async function newMasterElected(setup: RedisSentinelSetup, oldPort: number, ms = 20_000): Promise<number> {
  await waitFor('a new master elected by the sentinels', async () => (await masterPort(setup).catch(() => oldPort)) !== oldPort, ms);
  return Date.now();
}

export interface CoordinatorSide {
  readonly members: Member[];
  readonly registries: Registry[];
  close(): Promise<void>;
}

/**
 * `memberCount` members (heartbeating every second, TTL 10 s: they outlive a failover) and two registries, each on its own Sentinel
 * connection, under one key prefix.
 */
export async function coordinatorOn(setup: RedisSentinelSetup, keyPrefix: string, memberCount = 2): Promise<CoordinatorSide> {
  const clients: RedisClient[] = [];
  const client = (): RedisClient => {
    const c = sentinelClient(setup);
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const members: Member[] = [];
  for (let i = 0; i < memberCount; i++) {
    const member = new Member({ redis: client(), keyPrefix, memberId: `m${i}`, address: `http://127.0.0.1:${5000 + i}`, ttl: 10, heartbeatIntervalMs: 1000 });
    await member.register();
    members.push(member);
  }
  const registries = [0, 1].map(() => new Registry({ redis: client(), keyPrefix, memberListRefreshMs: 500, callTimeoutMs: 15_000 }));
  await Promise.all(registries.map((r) => r.ready()));
  return {
    members,
    registries,
    async close() {
      await Promise.all(registries.map((r) => r.close()));
      await Promise.all(members.map((m) => m.close()));
      await Promise.all(clients.map((c) => closeClient(c)));
    },
  };
}

/** One resolution a caller was answered. */
export interface Answered {
  readonly destinationId: string;
  readonly registry: number;
  readonly at: number;
  readonly result: ResolveResult;
}

/**
 * `loops` concurrent callers, each resolving `idOf(n)` with `claimOnMiss` through the registries in turn, with
 * `pauseMs` between its calls, until `stop()`. Every answer and every thrown error is kept.
 */
export class ResolveLoad {
  readonly answers: Answered[] = [];
  readonly errors: { at: number; message: string }[] = [];
  #stopped = false;
  #n = 0;
  readonly #runs: Promise<void>[] = [];

  constructor(
    readonly registries: readonly Registry[],
    readonly idOf: (n: number) => string,
    readonly loops = 4,
    readonly pauseMs = 5,
  ) {}

  start(): void {
    for (let i = 0; i < this.loops; i++) this.#runs.push(this.#run());
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const n = this.#n++;
      const registry = n % this.registries.length;
      const destinationId = this.idOf(n);
      try {
        const result = await (this.registries[registry] as Registry).resolveDestination(destinationId, { claimOnMiss: true });
        if (result !== null) this.answers.push({ destinationId, registry, at: Date.now(), result });
      } catch (err) {
        this.errors.push({ at: Date.now(), message: (err as Error).message });
      }
      await delay(this.pauseMs);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#runs);
  }
}
