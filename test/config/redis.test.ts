/** @module test/config/redis: `redis`, `bootHandshake` and `strictBootHandshake`: defaults, errors, and masking. */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { maskConfig, validateConfig, type RedisConfig } from '../../src/config/index.js';
import { testRedisConfig } from '../helpers/redis.js';
import { lines, withStickySecretEnv } from './helpers.js';

/** Sticky with a shared secret, so `redis` is accepted. */
const base = { backends: [{ url: 'http://127.0.0.1:3000' }], sticky: { secret: 'shared' } };

function redisOf(redis: unknown, extra: Record<string, unknown> = {}): RedisConfig {
  const config = validateConfig({ ...base, ...extra, redis });
  assert.ok(config.redis !== false);
  return config.redis;
}

describe('redis: defaults and forms', () => {
  it('reads a string as the URL and fills every default', () => {
    const redis = redisOf('redis://127.0.0.1:6379/0');
    const { replicaId } = redis;
    // verdictTtlMs: max(3 x 2000, 3 x the default 10000 ms health interval)
    assert.deepEqual(redis, testRedisConfig({ url: 'redis://127.0.0.1:6379/0', keyPrefix: 'keyway', verdictTtlMs: 30000, replicaId }));
    assert.match(replicaId, new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-${process.pid}-[0-9a-f]{6}$`));
  });

  it('turns TLS on for rediss://', () => {
    assert.equal(redisOf('rediss://cache.example.com:6380').tls, true);
    assert.equal(redisOf({ url: 'redis://x', tls: true }).tls, true);
  });

  it('derives verdictTtlMs from the sync interval or the longest health interval of any pool', () => {
    assert.equal(redisOf('redis://x', { health: { intervalMs: 100 } }).verdictTtlMs, 6000);
    assert.equal(redisOf({ url: 'redis://x', syncIntervalMs: 5000 }, { health: { intervalMs: 100 } }).verdictTtlMs, 15000);
    const pools = { pools: { slow: { backends: [{ url: 'http://s' }], health: { intervalMs: 60000 } } } };
    assert.equal(redisOf('redis://x', { health: { intervalMs: 100 }, ...pools }).verdictTtlMs, 180000);
  });

  it('takes every field as given', () => {
    const redis = redisOf({
      sentinels: ['s1:26379', { host: 's2', port: 26380 }, '[::1]:26381'],
      name: 'mymaster',
      username: 'gw',
      password: 'pw',
      tls: true,
      keyPrefix: 'shop',
      required: true,
      connectTimeoutMs: 500,
      syncIntervalMs: 1000,
      verdictTtlMs: 45000,
      stateTtlMs: 60000,
      healthQuorum: 2,
      replicaId: 'gw-a',
    });
    assert.deepEqual(redis.sentinels, [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }, { host: '::1', port: 26381 }]);
    assert.deepEqual(
      [redis.name, redis.username, redis.password, redis.tls, redis.keyPrefix, redis.required, redis.connectTimeoutMs, redis.syncIntervalMs, redis.verdictTtlMs, redis.stateTtlMs, redis.healthQuorum, redis.replicaId],
      ['mymaster', 'gw', 'pw', true, 'shop', true, 500, 1000, 45000, 60000, 2, 'gw-a'],
    );
  });

  it('accepts cluster seeds', () => {
    assert.deepEqual(redisOf({ cluster: ['10.0.0.1:7000', { host: '10.0.0.2', port: 7001 }] }).cluster, [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }]);
  });

  it('is deep-frozen', () => {
    const redis = redisOf({ sentinels: ['a:1'], name: 'm' });
    assert.ok(Object.isFrozen(redis) && Object.isFrozen(redis.sentinels) && Object.isFrozen(redis.sentinels?.[0]));
  });
});

describe('redis: errors', () => {
  const cases: [string, unknown, string[]][] = [
    ['not a redis URL', 'http://x', ['redis: must be a redis:// or rediss:// URL']],
    ['not a URL, and the message does not echo it', 'redis//:secret@x', ['redis: must be a redis:// or rediss:// URL']],
    ['none of url, sentinels, cluster', {}, ['redis: give exactly one of url, sentinels, cluster (got none)']],
    ['two of url, sentinels, cluster', { url: 'redis://x', cluster: ['a:1'] }, ['redis: give exactly one of url, sentinels, cluster (got url, cluster)']],
    ['sentinels without name', { sentinels: ['a:1'] }, ['redis.name: required with sentinels']],
    ['name without sentinels', { url: 'redis://x', name: 'm' }, ['redis.name: only used with sentinels']],
    ['bad node string', { cluster: ['a'] }, ['redis.cluster.0: must be "<host>:<port>"']],
    ['bad node port', { cluster: ['a:70000'] }, ['redis.cluster.0: must be "<host>:<port>"']],
    ['bad node object', { cluster: [{ host: 'a', port: 0 }] }, ['redis.cluster.0.port: must be an integer from 1 to 65535']],
    ['empty cluster', { cluster: [] }, ['redis.cluster: must contain at least 1 node']],
    ['keyPrefix with a brace', { url: 'redis://x', keyPrefix: 'a{b}' }, ['redis.keyPrefix: must not contain "{" or "}" (keyway puts it inside a hash tag)']],
    ['rediss without TLS', { url: 'rediss://x', tls: false }, ['redis.tls: a rediss:// URL always uses TLS']],
    ['credentials twice', { url: 'redis://u:p@x', password: 'q' }, ['redis.url: give credentials in the URL or as username/password, not both']],
    ['healthQuorum', { url: 'redis://x', healthQuorum: 0 }, ['redis.healthQuorum: must be an integer >= 1']],
    ['syncIntervalMs', { url: 'redis://x', syncIntervalMs: 1.5 }, ['redis.syncIntervalMs: must be a positive integer']],
    ['verdictTtlMs below the health interval', { url: 'redis://x', verdictTtlMs: 10000 }, ['redis.verdictTtlMs: must be greater than the longest health interval (10000 ms), or verdicts expire between probes']],
    ['unknown field', { url: 'redis://x', db: 1 }, ['redis.db: unknown field']],
    ['type', 6379, ['redis: expected string or object, got number']],
  ];
  for (const [name, redis, expected] of cases) {
    it(`refuses: ${name}`, () => assert.deepEqual(lines({ ...base, redis }), expected));
  }
});

describe('redis: sticky secret shared by replicas', () => {
  const noSecret = { backends: [{ url: 'http://127.0.0.1:3000' }], redis: 'redis://x' };
  const message = "required with redis: replicas must share a secret to accept each other's sticky cookies (or set KEYWAY_STICKY_SECRET)";

  it('refuses redis with stickiness and no secret anywhere', () => {
    withStickySecretEnv(undefined, () => assert.deepEqual(lines(noSecret), [`sticky.secret: ${message}`]));
  });

  it('names the pool when only a pool is sticky', () => {
    const input = { sticky: false, redis: 'redis://x', pools: { api: { backends: [{ url: 'http://a' }], sticky: true } } };
    withStickySecretEnv(undefined, () => assert.deepEqual(lines(input), [`pools.api.sticky.secret: ${message}`]));
  });

  it('accepts the secret from config or KEYWAY_STICKY_SECRET, or stickiness off', () => {
    withStickySecretEnv(undefined, () => {
      assert.doesNotThrow(() => validateConfig({ ...noSecret, sticky: { secret: 's' } }));
      assert.doesNotThrow(() => validateConfig({ ...noSecret, sticky: false }));
    });
    withStickySecretEnv('from-env', () => assert.doesNotThrow(() => validateConfig(noSecret)));
  });
});

describe('bootHandshake', () => {
  it('is off by default, on with defaults for true', () => {
    assert.equal(validateConfig(base).bootHandshake, false);
    assert.deepEqual(validateConfig({ ...base, bootHandshake: true }).bootHandshake, { path: '/.well-known/keyway/boot', intervalMs: undefined, timeoutMs: 2000, expect: undefined });
  });

  it('takes an object as given', () => {
    const config = validateConfig({ ...base, bootHandshake: { path: '/boot', intervalMs: 500, timeoutMs: 100, expect: { session: 'abc' } } });
    assert.deepEqual(config.bootHandshake, { path: '/boot', intervalMs: 500, timeoutMs: 100, expect: { session: 'abc' } });
  });

  it('turns the handshake on for strictBootHandshake alone', () => {
    const config = validateConfig({ ...base, strictBootHandshake: true });
    assert.equal(config.strictBootHandshake, true);
    assert.deepEqual(config.bootHandshake, { path: '/.well-known/keyway/boot', intervalMs: undefined, timeoutMs: 2000, expect: undefined });
  });

  const cases: [string, unknown, string[]][] = [
    ['strict with the handshake off', { bootHandshake: false, strictBootHandshake: true }, ['strictBootHandshake: needs bootHandshake, which is false']],
    ['relative path', { bootHandshake: { path: 'boot' } }, ['bootHandshake.path: must start with "/"']],
    ['empty expected hash', { bootHandshake: { expect: { session: '' } } }, ['bootHandshake.expect.session: must be a non-empty string']],
    ['timeoutMs', { bootHandshake: { timeoutMs: 0 } }, ['bootHandshake.timeoutMs: must be a positive integer']],
    ['unknown field', { bootHandshake: { paths: '/x' } }, ['bootHandshake.paths: unknown field']],
    ['strict type', { strictBootHandshake: 'yes' }, ['strictBootHandshake: expected boolean, got string']],
  ];
  for (const [name, extra, expected] of cases) {
    it(`refuses: ${name}`, () => assert.deepEqual(lines({ ...base, ...(extra as object) }), expected));
  }
});

describe('maskConfig: topology', () => {
  it('hides Redis credentials and shows the rest', () => {
    const masked = maskConfig(validateConfig({ ...base, redis: { url: 'redis://gw-user:redis-pass@cache:6379/2', keyPrefix: 'shop' } }));
    const text = JSON.stringify(masked);
    for (const secret of ['gw-user', 'redis-pass', 'shared']) assert.ok(!text.includes(secret), `leaked ${secret}: ${text}`);
    const redis = masked.redis as Record<string, unknown>;
    assert.equal(redis.url, 'redis://***:***@cache:6379/2');
    assert.equal(redis.keyPrefix, 'shop');
  });

  it('hides redis.username and redis.password', () => {
    const masked = maskConfig(validateConfig({ ...base, redis: { sentinels: ['s:1'], name: 'm', username: 'gw-user', password: 'redis-pass' } }));
    const redis = masked.redis as Record<string, unknown>;
    assert.deepEqual([redis.username, redis.password, redis.name], ['***', '***', 'm']);
  });

  it('masks pool backends, pool sticky secrets and pool health headers, and shows pool hashKeys', () => {
    const config = validateConfig({
      pools: {
        api: {
          backends: [{ url: 'http://u:backend-pass@a:1/' }],
          hashKey: 'header:x-user',
          sticky: { secret: 'pool-secret' },
          health: { headers: { authorization: 'probe-token' } },
        },
      },
      retries: { idempotencyKey: true },
    });
    const masked = maskConfig(config);
    const text = JSON.stringify(masked);
    for (const secret of ['backend-pass', 'pool-secret', 'probe-token']) assert.ok(!text.includes(secret), `leaked ${secret}: ${text}`);
    const pool = (masked.pools as Record<string, unknown>[])[0];
    assert.equal(pool?.hashKey, 'header:x-user');
    assert.equal((masked.retries as Record<string, unknown>).idempotencyKey, true);
  });
});
