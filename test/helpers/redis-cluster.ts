/**
 * Test harness: a real Redis Cluster of `masters` nodes (and `replicas` per master) on free loopback ports, joined
 * with `redis-cli --cluster create`, ready once every node reports `cluster_state:ok` and every replica has
 * finished its first sync (a replica still syncing is never promoted).
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
export async function startRedisCluster(masters = 3, timeoutMs = 20_000, replicas = 0): Promise<RedisClusterSetup> {
  const total = masters * (1 + replicas);
  const nodes: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < total; i++) {
      // The cluster bus port is chosen too: port + 10000 may be taken or above 65535.
      const busPort = await freePort();
      nodes.push(
        await startRedisServer({
          args: () => [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', '2000',
            '--cluster-port', String(busPort),
            // No 5 s wait before a diskless full sync: a replica is in sync (and may be promoted) at once.
            '--repl-diskless-sync-delay', '0',
          ],
        }),
      );
    }
    const addresses = nodes.map((n) => `${n.host}:${n.port}`);
    const create = ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'];
    await redisCli(nodes[0]!.port, create, timeoutMs);
    await waitFor('cluster_state:ok on every node', async () => {
      const infos = await Promise.all(nodes.map((n) => n.cli('CLUSTER', 'INFO')));
      return infos.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${total}`));
    }, timeoutMs);
    if (replicas > 0) {
      await waitFor('every replica in sync with its master', async () => {
        const infos = await Promise.all(nodes.map((n) => n.cli('INFO', 'replication')));
        const synced = infos.filter((i) => i.includes('role:slave') && i.includes('master_link_status:up')).length;
        return synced === masters * replicas;
      }, timeoutMs);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, seeds: nodes.map((n) => ({ host: n.host, port: n.port })), stop };
}

/** The node serving the slot of `key` now (asked of `ask`, default the first node that answers). */
export async function masterOf(setup: RedisClusterSetup, key: string, ask?: RedisServer): Promise<RedisServer> {
  const asked = ask ?? (setup.nodes[0] as RedisServer);
  const slot = Number((await asked.cli('CLUSTER', 'KEYSLOT', key)).trim());
  const lines = (await asked.cli('CLUSTER', 'NODES')).trim().split('\n');
  for (const line of lines) {
    const fields = line.split(' ');
    if (!(fields[2] ?? '').includes('master') || (fields[2] ?? '').includes('fail')) continue;
    const port = Number((fields[1] ?? '').split('@')[0]?.split(':')[1]);
    for (const range of fields.slice(8)) {
      const [lo, hi] = range.split('-').map(Number) as [number, number | undefined];
      if (slot >= lo && slot <= (hi ?? lo)) {
        const node = setup.nodes.find((n) => n.port === port);
        if (node) return node;
      }
    }
  }
  throw new Error(`no master found for slot ${slot}`);
}
