/**
 * Gateway replicas sharing one view through a real 3-master Redis Cluster: the same guarantees as on one
 * redis-server, including the master that holds the gateway's slot dying under load and coming back empty.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backendSet, type TestBackend } from '../helpers/backends.js';
import { replicaStarter, upstreamOf, type Started } from '../helpers/gateway.js';
import { cookieFrom, request } from '../helpers/http.js';
import { LoadGenerator } from '../helpers/load.js';
import { masterOf, startRedisCluster, type RedisClusterSetup } from '../helpers/redis-cluster.js';
import { randomPrefix, waitFor, type RedisServer } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';

const start = backendSet();
after(start.closeAll);
let cluster: RedisClusterSetup;
before(async () => {
  cluster = await startRedisCluster(3);
});
after(() => cluster.stop());

/** Starts replicas on the cluster with `prefix`, serving `servers`: see `replicaStarter`. */
function replicasOn(prefix: string, servers: TestBackend[]): (intervalMs: number) => Promise<Started> {
  return replicaStarter(servers, { redis: { cluster: cluster.seeds, keyPrefix: prefix, syncIntervalMs: 300 } });
}

/** The master serving the slot of `{prefix}`, where every gateway key lives. */
function ownerOf(prefix: string): Promise<RedisServer> {
  return masterOf(cluster, `{${prefix}}`);
}

describe('replicas on a 3-master Redis Cluster', () => {
  test('health, drain and sticky cookies are shared', { timeout: 30_000 }, async () => {
    const [a, b] = await start('a', 'b');
    const replica = replicasOn(randomPrefix('cluster'), [a!, b!]);
    const prober = await replica(200);
    const follower = await replica(60_000);

    const first = await request(prober.port);
    const cookie = cookieFrom(first, 'keyway_sticky');
    assert.equal((await request(follower.port, { headers: { cookie: cookie! } })).body, first.body);

    prober.gateway.setAdminState('a', 'draining');
    await until(() => upstreamOf(follower, 'a').adminState === 'draining', 1000);
    prober.gateway.setAdminState('a', 'enabled');
    await until(() => upstreamOf(follower, 'a').adminState === 'enabled', 1000);

    await a!.close();
    await until(() => !upstreamOf(follower, 'a').healthy, 2 * 200 + 1000);
    await a!.restart();
    await until(() => upstreamOf(follower, 'a').healthy, 2 * 200 + 1000);
  });

  test('the master holding the gateway slot killed under load: zero failed requests, then both resynchronise', { timeout: 60_000 }, async () => {
    const [a, b] = await start('a', 'b');
    const prefix = randomPrefix('cluster-outage');
    const replica = replicasOn(prefix, [a!, b!]);
    const one = await replica(200);
    const two = await replica(200);
    one.gateway.setAdminState('a', 'disabled');
    await until(() => upstreamOf(two, 'a').adminState === 'disabled', 1000);

    const owner = await ownerOf(prefix);
    const loads = [one, two].map((r) => new LoadGenerator({ port: r.port, ratePerSecond: 100, maxInflight: 20 }));
    /** Until each replica has answered `n` requests sent since `since` (`what` names the phase). */
    const flowed = (n: number, since: number, what: string): Promise<unknown> =>
      Promise.all(loads.map((l) => l.answered(n, 5000, (o) => o.sentAt >= since, `answered requests sent ${what}`)));
    for (const l of loads) l.start();
    await flowed(30, 0, 'before the kill');
    await owner.kill('SIGKILL');
    await until(() => !one.gateway.shared.available || !two.gateway.shared.available, 8000).catch(() => undefined);
    // Serving without the master: at this rate, 100 answers take at least a second.
    await flowed(100, Date.now(), 'while the master is down');
    await owner.restart(); // same nodes.conf: it rejoins with its slots, but without its data
    await waitFor('cluster_state:ok', async () => (await owner.cli('CLUSTER', 'INFO')).includes('cluster_state:ok'), 15_000);
    // Load keeps flowing while the replicas reconnect to the recovered cluster: at this rate, at least 1.5 s of it.
    await flowed(150, Date.now(), 'after the cluster recovered');
    await Promise.all(loads.map((l) => l.stop()));
    for (const l of loads) {
      const s = l.summary();
      assert.ok(s.sent > 100, `sent ${s.sent}`);
      assert.equal(s.failed, 0, JSON.stringify(s));
    }

    await until(() => one.gateway.shared.available && two.gateway.shared.available, 15_000);
    const three = await replica(60_000);
    await until(() => upstreamOf(three, 'a').adminState === 'disabled', 3000);
    two.gateway.setAdminState('a', 'enabled');
    await until(() => upstreamOf(one, 'a').adminState === 'enabled' && upstreamOf(three, 'a').adminState === 'enabled', 2000);
  });
});
