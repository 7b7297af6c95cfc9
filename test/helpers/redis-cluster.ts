/**
 * Test harness: a real Redis Cluster of `masters` nodes (no replicas) on free loopback ports, joined with
 * `redis-cli --cluster create`, ready once every node reports `cluster_state:ok`.
 */
import { freePort, redisCli, startRedisServer, waitFor, type RedisServer } from './redis.js';

export interface RedisClusterSetup {
  readonly nodes: readonly RedisServer[];
  /** Seed addresses for a cluster client. */
  readonly seeds: readonly { host: string; port: number }[];
  /** Kills every node and removes their dirs. Idempotent. */
  stop(): Promise<void>;
}

/** Starts and joins a cluster; bounded by `timeoutMs` (default 20 s) overall. */
export async function startRedisCluster(masters = 3, timeoutMs = 20_000): Promise<RedisClusterSetup> {
  const nodes: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      // The cluster bus port is chosen too: port + 10000 may be taken or above 65535.
      const busPort = await freePort();
      nodes.push(
        await startRedisServer({
          args: () => [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', '2000',
            '--cluster-port', String(busPort),
          ],
        }),
      );
    }
    const addresses = nodes.map((n) => `${n.host}:${n.port}`);
    const create = ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'];
    await redisCli(nodes[0]!.port, create, timeoutMs);
    await waitFor('cluster_state:ok on every node', async () => {
      const infos = await Promise.all(nodes.map((n) => n.cli('CLUSTER', 'INFO')));
      return infos.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`));
    }, timeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, seeds: nodes.map((n) => ({ host: n.host, port: n.port })), stop };
}
