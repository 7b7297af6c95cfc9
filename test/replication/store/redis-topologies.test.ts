import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { RedisStore, storeKeys } from '../../../src/replication/store/index.js';
import { freePort, randomPrefix, redisCli, startRedisServer, testRedisConfig, type RedisServer } from '../../helpers/redis.js';
import { startRedisCluster, type RedisClusterSetup } from '../../helpers/redis-cluster.js';
import { startRedisSentinel, type RedisSentinelSetup } from '../../helpers/redis-sentinel.js';
import { EventQueue, storeConformance } from './store-conformance.js';

const verdict = { backendId: 'api-1', replicaId: 'r1', up: false, sinceMs: 1_700_000_000_000 };

let cluster: RedisClusterSetup;
let sentinel: RedisSentinelSetup;
before(async () => {
  [cluster, sentinel] = await Promise.all([startRedisCluster(3), startRedisSentinel({ replica: true })]);
});
after(async () => {
  await Promise.all([cluster?.stop(), sentinel?.stop()]);
});

storeConformance('redis cluster (3 masters)', async (count) => {
  const keyPrefix = randomPrefix('cluster');
  return Array.from({ length: count }, () => new RedisStore(testRedisConfig({ cluster: cluster.seeds, keyPrefix })));
});

storeConformance('redis via sentinel', async (count) => {
  const keyPrefix = randomPrefix('sentinel');
  const sentinels = sentinel.sentinels.map((s) => ({ host: s.host, port: s.port }));
  return Array.from(
    { length: count },
    () => new RedisStore(testRedisConfig({ sentinels, name: sentinel.name, keyPrefix })),
  );
});

describe('RedisStore on a cluster', () => {
  it('puts every key in one slot, on one node', async () => {
    const keyPrefix = randomPrefix('slot');
    const keys = storeKeys(keyPrefix);
    const slots = await Promise.all(
      [keys.verdicts, keys.admin, keys.backend, keys.events].map((k) => redisCli(cluster.seeds[0]!.port, ['CLUSTER', 'KEYSLOT', k])),
    );
    assert.equal(new Set(slots).size, 1, `slots ${slots.join(',')}`);
    const store = new RedisStore(testRedisConfig({ cluster: cluster.seeds, keyPrefix }));
    await store.start();
    await store.putVerdict(verdict, 5000);
    await store.putRegister('admin', { id: 'a', value: 'v', atMs: 1, by: 'r1' }, 5000);
    await store.putRegister('backend', { id: 'b', value: 'v', atMs: 1, by: 'r1' }, 5000);
    const perNode = await Promise.all(cluster.nodes.map((n) => n.cli('--scan', '--pattern', `*${keyPrefix}*`)));
    const counts = perNode.map((out) => out.trim().split('\n').filter(Boolean).length).sort();
    assert.deepEqual(counts, [0, 0, 3]);
    await store.close();
  });
});

describe('RedisStore via sentinel', () => {
  it('writes on the master the sentinel names', async () => {
    const keyPrefix = randomPrefix('sentinel-master');
    const sentinels = sentinel.sentinels.map((s) => ({ host: s.host, port: s.port }));
    const store = new RedisStore(testRedisConfig({ sentinels, name: sentinel.name, keyPrefix }));
    await store.start();
    await store.putVerdict(verdict, 5000);
    assert.equal(await sentinel.master.cli('EXISTS', storeKeys(keyPrefix).verdicts), '1\n');
    await store.close();
  });
});

describe('RedisStore over TLS (rediss://)', () => {
  let dir: string;
  let server: RedisServer;
  let tlsPort: number;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyway-tls-'));
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { timeout: 20_000 });
    tlsPort = await freePort();
    server = await startRedisServer({
      args: () => [
        '--tls-port', String(tlsPort),
        '--tls-cert-file', join(dir, 'cert.pem'),
        '--tls-key-file', join(dir, 'key.pem'),
        '--tls-ca-cert-file', join(dir, 'cert.pem'),
        '--tls-auth-clients', 'no',
      ],
    });
  });
  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('connects with a private CA, writes and receives events', async () => {
    const ca = await readFile(join(dir, 'cert.pem'));
    const config = testRedisConfig({ url: `rediss://127.0.0.1:${tlsPort}`, keyPrefix: randomPrefix('tls') });
    const store = new RedisStore(config, { tls: { ca } });
    try {
      await store.start();
      const events = new EventQueue(store);
      assert.equal(await store.putVerdict(verdict, 5000), true);
      assert.equal((await events.next()).type, 'verdict');
    } finally {
      await store.close();
    }
  });

  it('refuses a server certificate it cannot verify', async () => {
    const config = testRedisConfig({ url: `rediss://127.0.0.1:${tlsPort}`, connectTimeoutMs: 500 });
    const store = new RedisStore(config);
    try {
      await assert.rejects(store.start(), (err: Error) => /not reachable/.test(err.message) && /certificate/.test(String((err.cause as Error)?.message)));
    } finally {
      await store.close();
    }
  });
});
