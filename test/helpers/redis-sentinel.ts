/**
 * Test harness: one master, optionally one replica, and one or more Sentinels (`redis-server <conf>
 * --sentinel`) watching it under `name`; ready once every Sentinel resolves the master.
 */
import { startRedisServer, waitFor, type RedisServer } from './redis.js';

export interface RedisSentinelSetup {
  readonly name: string;
  readonly master: RedisServer;
  readonly replica: RedisServer | undefined;
  readonly sentinels: readonly RedisServer[];
  /** Kills everything and removes the dirs. Idempotent. */
  stop(): Promise<void>;
}

export interface StartSentinelOptions {
  readonly name?: string;
  /** 1 or 3. Default 1. */
  readonly sentinels?: number;
  readonly replica?: boolean;
  readonly timeoutMs?: number;
}

export async function startRedisSentinel(options: StartSentinelOptions = {}): Promise<RedisSentinelSetup> {
  const name = options.name ?? 'kwmaster';
  const count = options.sentinels ?? 1;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const servers: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    // No 5 s wait before a diskless full sync (the default delay): the replica is in sync at once.
    const master = await startRedisServer({ args: () => ['--repl-diskless-sync-delay', '0'] });
    servers.push(master);
    let replica: RedisServer | undefined;
    if (options.replica) {
      replica = await startRedisServer({ args: () => ['--replicaof', master.host, String(master.port)] });
      servers.push(replica);
      await waitFor('the replica to sync', async () => (await master.cli('INFO', 'replication')).includes('state=online'), timeoutMs);
    }
    const quorum = Math.floor(count / 2) + 1;
    const sentinels: RedisServer[] = [];
    for (let i = 0; i < count; i++) {
      const sentinel = await startRedisServer({
        sentinelConfig: (port, dir) =>
          [
            `port ${port}`,
            `dir ${dir}`,
            `sentinel monitor ${name} ${master.host} ${master.port} ${quorum}`,
            `sentinel down-after-milliseconds ${name} 2000`,
            `sentinel failover-timeout ${name} 10000`,
            '',
          ].join('\n'),
      });
      servers.push(sentinel);
      sentinels.push(sentinel);
    }
    await waitFor('every sentinel to know the master', async () => {
      const answers = await Promise.all(sentinels.map((s) => s.cli('SENTINEL', 'get-master-addr-by-name', name)));
      return answers.every((a) => a.includes(String(master.port)));
    }, timeoutMs);
    return { name, master, replica, sentinels, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
