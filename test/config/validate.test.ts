/** @module test/config/validate: defaults, merging, smart-stick compatibility and every error message. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig, type CustomStrategyFn, type HealthCheckFn } from '../../src/config/index.js';
import type { ConfigError } from '../../src/errors.js';
import { issuesOf, lines } from './helpers.js';

/** smart-stick-loadbalancer's documented config.json, with every field it knows. */
const SMART_STICK_JSON = `{
  "port": 3001,
  "strategy": "round-robin",
  "backends": [
    {
      "id": 0,
      "url": "http://localhost:5000",
      "weight": 2,
      "healthPath": "/health",
      "healthMethod": "GET",
      "owner": "your-email@example.com"
    },
    {
      "id": 1,
      "url": "http://localhost:5001",
      "weight": 1,
      "healthPath": "/ready",
      "healthMethod": "HEAD",
      "healthAlgorithm": "http",
      "healthTimeout": 5000,
      "healthHeaders": { "X-Health-Token": "secret123" },
      "owner": "your-email@example.com"
    }
  ],
  "health": {
    "interval": 10000,
    "timeout": 2000,
    "path": "/",
    "method": "get",
    "algorithm": "http-status",
    "headers": { "X-Internal": "true" }
  },
  "email": {
    "service": "gmail",
    "auth": { "user": "your-email@gmail.com", "pass": "your-app-password" }
  }
}`;

const ok = { backends: [{ url: 'http://127.0.0.1:3000' }] };

describe('validateConfig: smart-stick compatibility', () => {
  it('accepts a literal smart-stick config.json and maps its fields', () => {
    const config = validateConfig(JSON.parse(SMART_STICK_JSON));
    assert.equal(config.port, 3001);
    assert.equal(config.strategy, 'round-robin');
    assert.deepEqual(config.email, { service: 'gmail', auth: { user: 'your-email@gmail.com', pass: 'your-app-password' } });
    assert.deepEqual(config.health, {
      intervalMs: 10000,
      path: '/',
      method: 'GET',
      algorithm: 'http-status',
      timeoutMs: 2000,
      headers: { 'X-Internal': 'true' },
      check: undefined,
      rise: 2,
      fall: 3,
    });
    const [a, b] = config.backends;
    assert.ok(a && b);
    assert.deepEqual([a.id, a.rawId, a.weight, a.owner], ['0', 0, 2, 'your-email@example.com']);
    assert.deepEqual([a.health.path, a.health.method, a.health.algorithm, a.health.timeoutMs], ['/health', 'GET', 'http-status', 2000]);
    assert.deepEqual(a.health.headers, { 'X-Internal': 'true' });
    assert.deepEqual([b.id, b.health.path, b.health.method, b.health.algorithm, b.health.timeoutMs], ['1', '/ready', 'HEAD', 'http', 5000]);
    // healthHeaders replaces the global headers, as in smart-stick.
    assert.deepEqual(b.health.headers, { 'X-Health-Token': 'secret123' });
  });

  it('tolerates the runtime fields smart-stick prints for each backend', () => {
    const config = validateConfig({
      backends: [{ id: 0, url: 'http://x', healthy: true, requests: 10, activeConnections: 1, lastChecked: null }],
    });
    assert.equal(config.backends[0]?.id, '0');
  });
});

describe('validateConfig: defaults', () => {
  it('fills every default', () => {
    const config = validateConfig(ok);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.port, 8080);
    assert.equal(config.strategy, 'round-robin');
    assert.equal(config.hashKey, undefined);
    assert.deepEqual(config.health, {
      intervalMs: 10000,
      path: '/',
      method: 'GET',
      algorithm: 'http-status',
      timeoutMs: 2000,
      headers: {},
      check: undefined,
      rise: 2,
      fall: 3,
    });
    assert.deepEqual(config.sticky, { cookie: 'keyway_sticky', secret: undefined, maxAgeMs: undefined, secure: false, sameSite: 'Lax' });
    assert.deepEqual(config.admin, { path: '/_lb', token: undefined });
    assert.deepEqual(config.timeouts, { connectMs: 5000, responseMs: 30000, clientHeadersMs: 10000, clientIdleMs: 5000, requestMs: 300000, upstreamIdleMs: 60000, wsHandshakeMs: 10000, wsIdleMs: 0 });
    assert.deepEqual(config.retries, { enabled: true, budgetPercent: 20, minPerSecond: 3, idempotencyKey: false });
    assert.deepEqual(config.outlier, { consecutiveFailures: 5, on5xx: false, baseEjectionMs: 30000, maxEjectionMs: 300000, maxEjectionPercent: 50 });
    assert.equal(config.whenAllDown, 'reject');
    assert.equal(config.slowStartMs, 0);
    assert.equal(config.drainTimeoutMs, 300000);
    assert.deepEqual(config.limits, { maxBodyBytes: undefined, maxHeaderBytes: 16384, maxHeaderCount: 100, maxConnections: undefined, wsMaxBytes: undefined });
    assert.deepEqual(config.metrics, { enabled: true, processMetrics: false });
    assert.equal(config.accessLog, false);
    assert.deepEqual(config.alerts, { holdMs: 30000, attempts: 5, webhooks: [] });
    assert.deepEqual(config.trustedProxies, []);
    assert.equal(config.preserveHost, true);
    assert.equal(config.shutdownGraceMs, 10000);
    assert.equal(config.email, undefined);
    const [backend] = config.backends;
    assert.deepEqual(backend, { id: '1', rawId: 1, url: 'http://127.0.0.1:3000', weight: 1, owner: undefined, health: config.health, pool: 'default' });
  });

  it('defaults ids to the 1-based position', () => {
    const config = validateConfig({ backends: [{ url: 'http://a' }, { id: 'x', url: 'http://b' }, { url: 'http://c' }] });
    assert.deepEqual(config.backends.map((b) => b.rawId), [1, 'x', 3]);
    assert.deepEqual(config.backends.map((b) => b.id), ['1', 'x', '3']);
  });

  it('turns sticky on with defaults for true, off for false, and merges an object', () => {
    assert.equal(validateConfig({ ...ok, sticky: false }).sticky, false);
    assert.deepEqual(validateConfig({ ...ok, sticky: true }).sticky, validateConfig(ok).sticky);
    const sticky = validateConfig({ ...ok, sticky: { cookie: 'srv', secret: 's3', maxAgeMs: 60000, secure: true, sameSite: 'none' } }).sticky;
    assert.deepEqual(sticky, { cookie: 'srv', secret: 's3', maxAgeMs: 60000, secure: true, sameSite: 'None' });
    const strict = validateConfig({ ...ok, sticky: { sameSite: 'STRICT' } }).sticky;
    assert.equal(strict && strict.sameSite, 'Strict');
  });

  it('normalises hashKey', () => {
    assert.equal(validateConfig({ ...ok, hashKey: 'header:X-User-Id' }).hashKey, 'header:x-user-id');
    assert.equal(validateConfig({ ...ok, hashKey: 'cookie:SID' }).hashKey, 'cookie:SID');
    assert.equal(validateConfig({ ...ok, hashKey: 'query:user' }).hashKey, 'query:user');
    assert.equal(validateConfig({ ...ok, hashKey: 'ip' }).hashKey, 'ip');
  });

  it('takes keyway fields as given', () => {
    const config = validateConfig({
      ...ok,
      host: '127.0.0.1',
      strategy: 'p2c',
      admin: { path: '/admin/lb', token: 'tok' },
      timeouts: { connectMs: 100, responseMs: 200 },
      trustedProxies: ['10.0.0.1', '::1'],
      preserveHost: false,
      shutdownGraceMs: 0,
      health: { intervalMs: 500, timeoutMs: 250, rise: 1, fall: 5 },
    });
    assert.deepEqual(
      [config.host, config.strategy, config.admin, config.timeouts, config.trustedProxies, config.preserveHost, config.shutdownGraceMs],
      ['127.0.0.1', 'p2c', { path: '/admin/lb', token: 'tok' }, { connectMs: 100, responseMs: 200, clientHeadersMs: 10000, clientIdleMs: 5000, requestMs: 300000, upstreamIdleMs: 60000, wsHandshakeMs: 10000, wsIdleMs: 0 }, ['10.0.0.1', '::1'], false, 0],
    );
    assert.deepEqual([config.health.intervalMs, config.health.timeoutMs, config.health.rise, config.health.fall], [500, 250, 1, 5]);
  });

  it('lets overrides win over the file, and validates them', () => {
    const config = validateConfig({ ...ok, port: 3000, host: 'localhost' }, { port: 9000, host: '::' });
    assert.deepEqual([config.port, config.host], [9000, '::']);
    assert.equal(validateConfig({ ...ok, port: 3000 }, {}).port, 3000);
    assert.throws(() => validateConfig(ok, { port: 70000 }), (err: ConfigError) => err.issues[0]?.path === 'port');
  });
});

describe('validateConfig: health merge precedence', () => {
  it('backend fields win over global health, which wins over defaults', () => {
    const globalCheck: HealthCheckFn = () => true;
    const ownCheck: HealthCheckFn = async () => false;
    const config = validateConfig({
      health: { path: '/g', method: 'head', algorithm: 'http-status', timeout: 1000, headers: { a: '1' }, check: globalCheck },
      backends: [
        { url: 'http://a' },
        { url: 'http://b', healthPath: '/b', healthMethod: 'options', healthAlgorithm: 'http', healthTimeout: 7, healthHeaders: { b: '2' }, healthCheck: ownCheck },
      ],
    });
    const [a, b] = config.backends;
    assert.ok(a && b);
    assert.deepEqual([a.health.path, a.health.method, a.health.algorithm, a.health.timeoutMs, a.health.headers, a.health.check], ['/g', 'HEAD', 'http-status', 1000, { a: '1' }, globalCheck]);
    assert.deepEqual([b.health.path, b.health.method, b.health.algorithm, b.health.timeoutMs, b.health.headers, b.health.check], ['/b', 'OPTIONS', 'http', 7, { b: '2' }, ownCheck]);
    // Interval, rise and fall are global only.
    assert.deepEqual([b.health.intervalMs, b.health.rise, b.health.fall], [10000, 2, 3]);
  });

  it('keeps function strategies and checks as-is', () => {
    const strategy: CustomStrategyFn = (candidates) => candidates[0];
    const config = validateConfig({ ...ok, strategy });
    assert.equal(config.strategy, strategy);
    assert.equal(Object.isFrozen(strategy), false);
  });
});

describe('validateConfig: result is deep-frozen', () => {
  it('freezes every level and does not freeze the caller objects', () => {
    const email = { auth: { user: 'u', pass: 'p' }, to: ['a@b'] };
    const input = { ...ok, email, trustedProxies: ['127.0.0.1'], health: { headers: { h: 'v' } } };
    const config = validateConfig(input);
    for (const value of [config, config.backends, config.backends[0], config.backends[0]?.health, config.backends[0]?.health.headers, config.health, config.health.headers, config.sticky, config.admin, config.timeouts, config.trustedProxies, config.email, config.email?.auth, config.email?.to]) {
      assert.ok(Object.isFrozen(value));
    }
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.equal(Object.isFrozen(email), false);
    assert.equal(Object.isFrozen(email.auth), false);
    assert.equal(Object.isFrozen(input.health.headers), false);
  });
});

describe('validateConfig: error messages', () => {
  const cases: [string, unknown, string][] = [
    ['no backends', { backends: [] }, 'backends: must contain at least 1 backend'],
    ['missing backends', {}, 'backends: required'],
    ['unknown strategy', { ...ok, strategy: 'fastest' }, 'strategy: unknown value "fastest" (expected one of round-robin, least-connections, random, p2c, consistent-hash, or a function)'],
    ['strategy type', { ...ok, strategy: 3 }, 'strategy: expected string or function, got number'],
    ['non-http url', { backends: [{ url: 'ftp://x' }] }, 'backends.0.url: must be an http(s) URL, got "ftp://x"'],
    ['invalid url', { backends: [{ url: 'not a url' }] }, 'backends.0.url: must be a valid URL'],
    ['missing url', { backends: [{ id: 1 }] }, 'backends.0.url: required'],
    ['port range', { ...ok, port: 70000 }, 'port: must be an integer from 0 to 65535'],
    ['port fraction', { ...ok, port: 80.5 }, 'port: must be an integer from 0 to 65535'],
    ['port negative', { ...ok, port: -1 }, 'port: must be an integer from 0 to 65535'],
    ['port type', { ...ok, port: '8080' }, 'port: expected number, got string'],
    ['sameSite', { ...ok, sticky: { sameSite: 'x' } }, 'sticky.sameSite: unknown value "x" (expected one of Strict, Lax, None)'],
    ['sameSite None without secure', { ...ok, sticky: { sameSite: 'None' } }, 'sticky.sameSite: "None" requires secure: true'],
    ['sticky type', { ...ok, sticky: 'yes' }, 'sticky: expected boolean or object, got string'],
    ['hashKey kind', { ...ok, hashKey: 'body:x' }, 'hashKey: must be "ip" or "header:<name>", "cookie:<name>", "query:<name>"'],
    ['hashKey empty name', { ...ok, hashKey: 'header:' }, 'hashKey: must be "ip" or "header:<name>", "cookie:<name>", "query:<name>"'],
    ['hashKey bad name', { ...ok, hashKey: 'cookie:a b' }, 'hashKey: must be "ip" or "header:<name>", "cookie:<name>", "query:<name>"'],
    ['unknown top-level field', { ...ok, foo: 1 }, 'foo: unknown field'],
    ['unknown backend field', { backends: [{ url: 'http://x', wieght: 2 }] }, 'backends.0.wieght: unknown field'],
    ['unknown health field', { ...ok, health: { intervall: 5 } }, 'health.intervall: unknown field'],
    ['algorithm', { ...ok, health: { algorithm: 'tcp' } }, 'health.algorithm: unknown value "tcp" (expected one of http, http-status)'],
    ['admin path slash', { ...ok, admin: { path: '/lb/' } }, 'admin.path: must start with "/" and not end with "/"'],
    ['admin path start', { ...ok, admin: { path: 'lb' } }, 'admin.path: must start with "/" and not end with "/"'],
    ['admin token', { ...ok, admin: { token: '' } }, 'admin.token: must be a non-empty string'],
    ['timeouts', { ...ok, timeouts: { connectMs: 0 } }, 'timeouts.connectMs: must be a positive integer'],
    ['trusted proxy', { ...ok, trustedProxies: ['10.0.0.300'] }, 'trustedProxies.0: must be an IP address, got "10.0.0.300"'],
    ['weight', { backends: [{ url: 'http://x', weight: -1 }] }, 'backends.0.weight: must be an integer >= 0'],
    ['id', { backends: [{ url: 'http://x', id: '' }] }, 'backends.0.id: must be an integer or a non-empty string'],
    ['health check type', { backends: [{ url: 'http://x', healthCheck: 'yes' }] }, 'backends.0.healthCheck: expected function, got string'],
    ['health path', { ...ok, health: { path: 'health' } }, 'health.path: must start with "/"'],
    ['rise', { ...ok, health: { rise: 0 } }, 'health.rise: must be an integer >= 1'],
    ['both interval spellings', { ...ok, health: { interval: 1, intervalMs: 2 } }, 'health.intervalMs: give interval or intervalMs, not both'],
    ['shutdownGraceMs', { ...ok, shutdownGraceMs: -1 }, 'shutdownGraceMs: must be an integer >= 0'],
    ['preserveHost', { ...ok, preserveHost: 'yes' }, 'preserveHost: expected boolean, got string'],
    ['email', { ...ok, email: 'me@x' }, 'email: expected object, got string'],
    ['header value', { ...ok, health: { headers: { a: 1 } } }, 'health.headers.a: expected string, got number'],
    ['NaN', { ...ok, port: Number.NaN }, 'port: expected number, got NaN'],
    ['root type', [], 'expected object, got array'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(lines(input), [expected]));
  }

  it('reports a root-level problem with an empty path', () => {
    assert.deepEqual(issuesOf(null), [{ path: '', message: 'expected object, got null' }]);
  });

  it('reports every problem at once', () => {
    const got = lines({
      port: 'x',
      strategy: 'fastest',
      foo: true,
      sticky: { sameSite: 'x' },
      backends: [{ url: 'ftp://x' }, { url: 'http://ok', weight: 1.5 }],
    });
    assert.deepEqual(got.sort(), [
      'backends.0.url: must be an http(s) URL, got "ftp://x"',
      'backends.1.weight: must be an integer >= 0',
      'foo: unknown field',
      'port: expected number, got string',
      'sticky.sameSite: unknown value "x" (expected one of Strict, Lax, None)',
      'strategy: unknown value "fastest" (expected one of round-robin, least-connections, random, p2c, consistent-hash, or a function)',
    ]);
  });

  it('puts every problem in the error message, one per line', () => {
    assert.throws(() => validateConfig({ port: -1, backends: [] }), {
      name: 'ConfigError',
      message: 'invalid config:\nport: must be an integer from 0 to 65535\nbackends: must contain at least 1 backend',
    });
  });
});

describe('validateConfig: duplicate ids', () => {
  it('reports the second occurrence and names the first', () => {
    assert.deepEqual(lines({ backends: [{ id: 'a', url: 'http://x' }, { id: 'b', url: 'http://y' }, { id: 'a', url: 'http://z' }] }), [
      'backends.2.id: duplicate id "a" (also backends.0.id)',
    ]);
  });

  it('compares ids as strings', () => {
    assert.deepEqual(lines({ backends: [{ id: 1, url: 'http://x' }, { id: '1', url: 'http://y' }] }), ['backends.1.id: duplicate id "1" (also backends.0.id)']);
  });

  it('explains a clash with a defaulted id', () => {
    assert.deepEqual(lines({ backends: [{ id: 2, url: 'http://x' }, { url: 'http://y' }] }), [
      'backends.1.id: duplicate id "2", the default from its position (also backends.0.id)',
    ]);
  });

  it('is reported together with other backend problems', () => {
    const got = lines({ backends: [{ id: 'a', url: 'http://x' }, { id: 'a', url: 'nope' }] });
    assert.deepEqual(got.sort(), ['backends.1.id: duplicate id "a" (also backends.0.id)', 'backends.1.url: must be a valid URL']);
  });
});

describe('validateConfig: resilience options', () => {
  const base = { backends: [{ url: 'http://127.0.0.1:1' }] };
  it('accepts shorthand booleans and objects', () => {
    const c = validateConfig({ ...base, retries: false, outlier: false, metrics: false, accessLog: true });
    assert.equal(c.retries.enabled, false);
    assert.equal(c.outlier, false);
    assert.equal(c.metrics.enabled, false);
    assert.deepEqual(c.accessLog, { destination: 'stdout' });
    const d = validateConfig({
      ...base,
      retries: { budgetPercent: 50, idempotencyKey: true },
      outlier: { consecutiveFailures: 2, on5xx: true },
      whenAllDown: 'fail-open',
      limits: { maxBodyBytes: 1024, wsMaxBytes: 10 },
      alerts: { holdMs: 0, webhooks: [{ url: 'http://127.0.0.1:9/hook', format: 'slack' }] },
    });
    assert.equal(d.retries.budgetPercent, 50);
    assert.equal(d.outlier && d.outlier.consecutiveFailures, 2);
    assert.equal(d.whenAllDown, 'fail-open');
    assert.equal(d.limits.maxBodyBytes, 1024);
    assert.deepEqual(d.alerts.webhooks, [{ url: 'http://127.0.0.1:9/hook', format: 'slack', headers: {} }]);
  });
  it('reports bad values with their paths', () => {
    assert.throws(
      () =>
        validateConfig({
          ...base,
          whenAllDown: 'panic',
          retries: { budgetPercent: 500 },
          outlier: { maxEjectionPercent: -1, bogus: 1 },
          alerts: { webhooks: [{ url: 'ftp://x' }] },
          limits: { maxHeaderBytes: 10 },
          timeouts: { wsIdleMs: -5 },
        }),
      (err: Error & { issues: { path: string; message: string }[] }) => {
        const lines = err.issues.map((i) => `${i.path}: ${i.message}`);
        for (const expected of [
          'whenAllDown: unknown value "panic" (expected one of reject, fail-open)',
          'alerts.webhooks.0.url: must be an http(s) URL, got "ftp://x"',
          'limits.maxHeaderBytes: must be an integer from 1024 to 1048576',
          'timeouts.wsIdleMs: must be an integer >= 0',
        ]) {
          assert.ok(lines.includes(expected), `${expected} in ${JSON.stringify(lines)}`);
        }
        assert.ok(lines.some((l) => l.startsWith('retries')), JSON.stringify(lines));
        assert.ok(lines.some((l) => l.startsWith('outlier')), JSON.stringify(lines));
        return true;
      },
    );
  });
});
