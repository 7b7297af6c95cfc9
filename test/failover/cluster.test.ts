/**
 * @module test/failover/cluster: a real Redis Cluster with replicas (3 masters + 3 replicas, node timeout 2 s) losing
 * the master of the gateways' slot under load. `SIGSTOP` for 10 s with a drain issued during the pause: no failed
 * request, the drain is in Redis after the failover (on the promoted replica) and shown by a gateway started
 * afterwards. `kill -9`: no failed request, and a drain issued after the failover reaches the other gateway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { storeKeys } from '../../src/replication/store/index.js';
import { backendSet, type TestBackend } from '../helpers/backends.js';
import { replicaStarter, upstreamOf, type Started } from '../helpers/gateway.js';
import { LoadGenerator } from '../helpers/load.js';
import { masterOf, startRedisCluster, type RedisClusterSetup } from '../helpers/redis-cluster.js';
import { randomPrefix, waitFor, type RedisServer } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';

const start = backendSet();
after(start.closeAll);
let cluster: RedisClusterSetup;
before(async () => {
  cluster = await startRedisCluster(3, 30_000, 1);
});
after(() => cluster.stop());

function replicasOn(prefix: string, servers: TestBackend[]): (intervalMs: number) => Promise<Started> {
  return replicaStarter(servers, { redis: { cluster: cluster.seeds, keyPrefix: prefix, syncIntervalMs: 300, connectTimeoutMs: 1000 } });
}

/** Some live node other than `gone`, to ask about the cluster. */
function another(gone: RedisServer): RedisServer {
  return cluster.nodes.find((n) => n !== gone) as RedisServer;
}

/** Resolves once a node other than `old` serves the slot of `key`; returns when. */
async function promoted(key: string, old: RedisServer): Promise<number> {
  await waitFor('a replica promoted for the slot', async () => (await masterOf(cluster, key, another(old)).catch(() => old)) !== old, 20_000);
  return Date.now();
}

/** The admin fact for backend `id` as the slot's master holds it now (empty when none). */
async function drainInRedis(prefix: string, id: string, old: RedisServer): Promise<string> {
  const master = await masterOf(cluster, `{${prefix}}`, another(old));
  return master.cli('HGET', storeKeys(prefix).admin, id);
}

/**
 * Two gateways on a fresh prefix serving backends a and b, each under 100 req/s until 100 requests were answered,
 * and the master that serves the prefix's slot now.
 */
async function underLoad(label: string) {
  const [a, b] = await start('a', 'b');
  const prefix = randomPrefix(label);
  const replica = replicasOn(prefix, [a!, b!]);
  const one = await replica(60_000);
  const two = await replica(60_000);
  const loads = [one, two].map((r) => new LoadGenerator({ port: r.port, ratePerSecond: 100, maxInflight: 20 }));
  for (const l of loads) l.start();
  await Promise.all(loads.map((l) => l.answered(100, 5000)));
  const key = `{${prefix}}`;
  return { prefix, replica, one, two, loads, key, owner: await masterOf(cluster, key) };
}

describe('Cluster failover of the gateways\' slot', () => {
  test('SIGSTOP for 10 s with a drain issued during the pause: 0 failed requests, the drain survives in Redis', { timeout: 90_000 }, async (t) => {
    const { prefix, replica, one, two, loads, key, owner } = await underLoad('cluster-pause');
    const pausedAt = Date.now();
    owner.pause();
    try {
      one.gateway.setAdminState('a', 'draining');
      const promotedAt = await promoted(key, owner);
      await waitFor('the drain in Redis on the promoted master', async () => (await drainInRedis(prefix, 'a', owner)).includes('draining'), 10_000);
      const storedAt = Date.now();
      await until(() => upstreamOf(two, 'a').adminState === 'draining', 10_000, 'the drain reaching the other gateway');
      const seenAt = Date.now();
      await waitFor('10 s of pause', async () => Date.now() - pausedAt >= 10_000, 15_000);
      owner.resume();
      await waitFor('the old master demoted to a replica', async () => (await owner.cli('ROLE')).startsWith('slave'), 20_000);
      const demotedAt = Date.now();
      await Promise.all(loads.map((l) => l.answered(l.outcomes.length + 100, 10_000)));
      for (const l of loads) await l.stop();

      // Still there once the old master is back (a write that landed on it just before its demotion is wiped).
      await waitFor('the drain in Redis after the demotion', async () => (await drainInRedis(prefix, 'a', owner)).includes('draining'), 5000);
      const three = await replica(60_000);
      assert.equal(upstreamOf(three, 'a').adminState, 'draining', 'a gateway started afterwards shows the drain');
      const summaries = loads.map((l) => l.summary());
      t.diagnostic(`promoted ${promotedAt - pausedAt} ms after SIGSTOP; drain in Redis ${storedAt - pausedAt} ms, at the other gateway ${seenAt - pausedAt} ms after it; old master demoted ${demotedAt - pausedAt - 10_000} ms after SIGCONT`);
      t.diagnostic(`gateways: ${JSON.stringify(summaries)}`);
      for (const s of summaries) assert.equal(s.failed, 0, JSON.stringify(s));
    } finally {
      owner.resume();
    }
  });

  test('kill -9 of the slot\'s master under load: 0 failed requests, a drain after the failover reaches the other gateway', { timeout: 60_000 }, async (t) => {
    const { prefix, one, two, loads, key, owner } = await underLoad('cluster-kill');
    const killedAt = Date.now();
    await owner.kill('SIGKILL');
    const promotedAt = await promoted(key, owner);
    const drainAt = Date.now();
    one.gateway.setAdminState('b', 'draining');
    await waitFor('the drain in Redis on the promoted master', async () => (await drainInRedis(prefix, 'b', owner)).includes('draining'), 10_000);
    await until(() => upstreamOf(two, 'b').adminState === 'draining', 10_000, 'the drain reaching the other gateway');
    const seenMs = Date.now() - drainAt;
    await Promise.all(loads.map((l) => l.answered(l.outcomes.length + 100, 10_000)));
    for (const l of loads) await l.stop();
    await owner.restart(); // rejoins as a replica of the promoted node

    const summaries = loads.map((l) => l.summary());
    t.diagnostic(`promoted ${promotedAt - killedAt} ms after the kill; drain at the other gateway ${seenMs} ms after it was issued`);
    t.diagnostic(`gateways: ${JSON.stringify(summaries)}`);
    for (const s of summaries) assert.equal(s.failed, 0, JSON.stringify(s));
  });
});
