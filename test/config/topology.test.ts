/** @module test/config/topology: pools, routes, default/service/WebSocket pools and fallback: defaults, merging, errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig, type CustomStrategyFn } from '../../src/config/index.js';
import { lines } from './helpers.js';

const ok = { backends: [{ url: 'http://127.0.0.1:3000' }] };
const b = (url: string, extra: Record<string, unknown> = {}) => ({ url, ...extra });
/** Two pools, `api` and `web`, and no top-level backends. */
const twoPools = { pools: { api: { backends: [b('http://a1'), b('http://a2')] }, web: { backends: [b('http://w1')] } } };

describe('topology: backward compatibility', () => {
  it('turns top-level backends into the pool "default" with the top-level settings', () => {
    const strategy: CustomStrategyFn = (c) => c[0];
    const config = validateConfig({ ...ok, strategy, hashKey: 'ip', health: { intervalMs: 500 }, sticky: { cookie: 'srv' } });
    assert.equal(config.pools.length, 1);
    const [pool] = config.pools;
    assert.ok(pool);
    assert.deepEqual(
      [pool.name, pool.strategy, pool.hashKey, pool.sticky, pool.health, pool.fallback],
      ['default', strategy, 'ip', config.sticky, config.health, null],
    );
    assert.deepEqual(pool.backends, config.backends);
    assert.equal(config.backends[0]?.pool, 'default');
    // The top-level fields other folders read are unchanged.
    assert.deepEqual([config.strategy, config.hashKey, config.health.intervalMs], [strategy, 'ip', 500]);
  });

  it('fills every topology default', () => {
    const config = validateConfig(ok);
    assert.deepEqual(config.routes, []);
    assert.equal(config.defaultPool, 'default');
    assert.equal(config.serviceRoutes, false);
    assert.equal(config.websocketPool, null);
    assert.deepEqual(config.websocketPaths, ['/socket.io/']);
    assert.deepEqual(config.fallback, { pool: undefined, header: 'x-keyway-fallback', toClient: false });
    assert.equal(config.redis, false);
    assert.equal(config.bootHandshake, false);
    assert.equal(config.strictBootHandshake, false);
  });

  it('keeps the rules for zero backends', () => {
    assert.deepEqual(lines({}), ['backends: required']);
    assert.deepEqual(lines({ backends: [] }), ['backends: must contain at least 1 backend']);
    assert.deepEqual(lines({ pools: {} }), ['backends: required']);
    assert.deepEqual(lines({ pools: { api: { backends: [] } } }), ['pools.api.backends: must contain at least 1 backend']);
    assert.deepEqual(lines({ pools: { api: {} } }), ['pools.api.backends: required']);
  });

  it('deep-freezes pools, routes and their parts', () => {
    const config = validateConfig({ ...twoPools, routes: [{ path: '/api', header: 'x-a: 1', pool: 'api' }] });
    for (const value of [config.pools, config.pools[0], config.pools[0]?.backends, config.pools[0]?.sticky, config.routes, config.routes[0], config.routes[0]?.header, config.websocketPaths, config.fallback]) {
      assert.ok(Object.isFrozen(value));
    }
  });
});

describe('topology: pools', () => {
  it('lists pools and backends in config order, the default pool first', () => {
    const config = validateConfig({ pools: { api: { backends: [b('http://a')] }, default: { backends: [b('http://d')] } } });
    assert.deepEqual(config.pools.map((p) => p.name), ['default', 'api']);
    assert.deepEqual(config.backends.map((x) => [x.id, x.pool]), [['1', 'default'], ['api-1', 'api']]);
    assert.equal(config.defaultPool, 'default');
    const both = validateConfig({ backends: [b('http://d')], pools: { web: { backends: [b('http://w')] }, api: { backends: [b('http://a')] } } });
    assert.deepEqual(both.backends.map((x) => x.id), ['1', 'web-1', 'api-1']);
  });

  it('defaults backend ids to <pool>-<position> outside the pool "default"', () => {
    const config = validateConfig(twoPools);
    assert.deepEqual(config.backends.map((x) => [x.id, x.rawId]), [['api-1', 'api-1'], ['api-2', 'api-2'], ['web-1', 'web-1']]);
    assert.equal(config.defaultPool, null, 'no pool "default": unmatched requests get 404');
  });

  it('inherits strategy and hashKey, and takes its own', () => {
    const config = validateConfig({ strategy: 'p2c', hashKey: 'ip', pools: { api: { backends: [b('http://a')], strategy: 'consistent-hash', hashKey: 'header:X-User' }, web: { backends: [b('http://w')] } } });
    assert.deepEqual(config.pools.map((p) => [p.strategy, p.hashKey]), [['consistent-hash', 'header:x-user'], ['p2c', 'ip']]);
  });

  it('merges pool health over the top level, and backend fields over the pool', () => {
    const config = validateConfig({
      health: { interval: 5000, path: '/g', headers: { a: '1' }, rise: 4 },
      pools: {
        api: { health: { intervalMs: 100, path: '/p', headers: { p: '2' } }, backends: [b('http://a'), b('http://b', { healthPath: '/own', healthHeaders: { o: '3' } })] },
        web: { backends: [b('http://w')] },
      },
    });
    const [api, web] = config.pools;
    assert.ok(api && web);
    assert.deepEqual([api.health.intervalMs, api.health.path, api.health.headers, api.health.rise, api.health.fall], [100, '/p', { p: '2' }, 4, 3]);
    assert.deepEqual(web.health, config.health);
    const [a, bb] = api.backends;
    assert.deepEqual([a?.health.intervalMs, a?.health.path, a?.health.headers], [100, '/p', { p: '2' }]);
    assert.deepEqual([bb?.health.intervalMs, bb?.health.path, bb?.health.headers], [100, '/own', { o: '3' }]);
  });

  it('suffixes the inherited sticky cookie with the pool name, keeps an explicit one, inherits the secret', () => {
    const config = validateConfig({
      sticky: { cookie: 'srv', secret: 's3', maxAgeMs: 1000, secure: true, sameSite: 'None' },
      backends: [b('http://d')],
      pools: { api: { backends: [b('http://a')] }, web: { backends: [b('http://w')], sticky: { cookie: 'web_pin', maxAgeMs: 5 } }, off: { backends: [b('http://o')], sticky: false } },
    });
    const sticky = Object.fromEntries(config.pools.map((p) => [p.name, p.sticky]));
    assert.deepEqual(sticky.default, { cookie: 'srv', secret: 's3', maxAgeMs: 1000, secure: true, sameSite: 'None' });
    assert.deepEqual(sticky.api, { cookie: 'srv_api', secret: 's3', maxAgeMs: 1000, secure: true, sameSite: 'None' });
    assert.deepEqual(sticky.web, { cookie: 'web_pin', secret: 's3', maxAgeMs: 5, secure: true, sameSite: 'None' });
    assert.equal(sticky.off, false);
  });

  it('keeps a pool sticky off when the top level is off, unless the pool turns it on', () => {
    const config = validateConfig({ sticky: false, pools: { api: { backends: [b('http://a')] }, web: { backends: [b('http://w')], sticky: true } } });
    assert.deepEqual(config.pools.map((p) => p.sticky), [false, { cookie: 'keyway_sticky_web', secret: undefined, maxAgeMs: undefined, secure: false, sameSite: 'Lax' }]);
  });

  it('does not suffix the cookie of a pool "default" written under pools', () => {
    const config = validateConfig({ pools: { default: { backends: [b('http://d')] } } });
    assert.deepEqual(config.pools[0]?.sticky, config.sticky);
  });

  const cases: [string, unknown, string[]][] = [
    ['bad pool name', { pools: { Api: { backends: [b('http://a')] } } }, ['pools.Api: pool names must be lower case letters, digits, "_" and "-", starting with a letter or digit']],
    ['pool name starting with -', { pools: { '-x': { backends: [b('http://a')] } } }, ['pools.-x: pool names must be lower case letters, digits, "_" and "-", starting with a letter or digit']],
    ['pool "default" beside top-level backends', { ...ok, pools: { default: { backends: [b('http://d')] } } }, ['pools.default: the top-level backends already form the pool "default": rename this pool or move them into it']],
    ['unknown pool field', { pools: { api: { backends: [b('http://a')], weight: 1 } } }, ['pools.api.weight: unknown field']],
    ['bad pool backend', { pools: { api: { backends: [{ url: 'ftp://x' }] } } }, ['pools.api.backends.0.url: must be an http(s) URL, got "ftp://x"']],
    ['bad pool strategy', { pools: { api: { backends: [b('http://a')], strategy: 'x' } } }, ['pools.api.strategy: unknown value "x" (expected one of round-robin, least-connections, random, p2c, consistent-hash, or a function)']],
    ['bad pool health', { pools: { api: { backends: [b('http://a')], health: { interval: 1, intervalMs: 1 } } } }, ['pools.api.health.intervalMs: give interval or intervalMs, not both']],
    ['pools type', { pools: [] }, ['pools: expected object, got array']],
    ['pool fallback type', { pools: { api: { backends: [b('http://a')], fallback: true } } }, ['pools.api.fallback: must be a pool name or false']],
    ['SameSite None without Secure after merging', { sticky: { sameSite: 'None', secure: true }, pools: { api: { backends: [b('http://a')], sticky: { secure: false } } } }, ['pools.api.sticky.sameSite: "None" requires secure: true']],
    ['two pools, one cookie', { ...ok, pools: { api: { backends: [b('http://a')], sticky: { cookie: 'keyway_sticky' } } } }, ['pools.api.sticky.cookie: cookie "keyway_sticky" is also the pool "default"\'s']],
  ];
  for (const [name, input, expected] of cases) {
    it(`refuses: ${name}`, () => assert.deepEqual(lines(input), expected));
  }

  it('accepts SameSite None in a pool that inherits Secure', () => {
    const config = validateConfig({ sticky: { secure: true }, pools: { api: { backends: [b('http://a')], sticky: { sameSite: 'none' } } } });
    assert.equal(config.pools[0]?.sticky && config.pools[0].sticky.sameSite, 'None');
  });
});

describe('topology: backend ids across pools', () => {
  it('names both paths of a duplicate', () => {
    assert.deepEqual(lines({ backends: [{ id: 'x', url: 'http://a' }], pools: { api: { backends: [{ id: 'x', url: 'http://b' }] } } }), [
      'pools.api.backends.0.id: duplicate id "x" (also backends.0.id)',
    ]);
    assert.deepEqual(lines({ pools: { api: { backends: [{ id: 1, url: 'http://a' }] }, web: { backends: [{ id: '1', url: 'http://b' }] } } }), [
      'pools.web.backends.0.id: duplicate id "1" (also pools.api.backends.0.id)',
    ]);
  });

  it('explains a clash with a defaulted id', () => {
    assert.deepEqual(lines({ backends: [{ id: 'api-1', url: 'http://a' }], pools: { api: { backends: [{ url: 'http://b' }] } } }), [
      'pools.api.backends.0.id: duplicate id "api-1", the default from its position (also backends.0.id)',
    ]);
  });

  it('is reported with the other problems of the same pass', () => {
    const got = lines({ pools: { api: { backends: [{ id: 'x', url: 'http://a' }] }, web: { backends: [{ id: 'x', url: 'nope' }] } } });
    assert.deepEqual(got.sort(), ['pools.web.backends.0.id: duplicate id "x" (also pools.api.backends.0.id)', 'pools.web.backends.0.url: must be a valid URL']);
  });
});

describe('topology: routes', () => {
  const pools = { ...ok, pools: { api: { backends: [b('http://a')] } } };

  it('normalises path, host and header', () => {
    const config = validateConfig({
      ...pools,
      routes: [
        { path: '/api/', pool: 'api', stripPrefix: true },
        { path: '/', host: 'API.Example.com:8443', pool: 'api' },
        { host: '*.Example.COM.', pool: 'default' },
        { host: '[::1]:8080', pool: 'default' },
        { header: 'X-Canary', pool: 'api' },
        { header: 'X-Version: 2 ', pool: 'api' },
        { header: { name: 'X-Tenant', value: 'Acme' }, pool: 'api' },
      ],
    });
    assert.deepEqual(config.routes, [
      { path: '/api', host: undefined, header: undefined, pool: 'api', stripPrefix: true },
      { path: '/', host: 'api.example.com', header: undefined, pool: 'api', stripPrefix: false },
      { path: undefined, host: '*.example.com', header: undefined, pool: 'default', stripPrefix: false },
      { path: undefined, host: '[::1]', header: undefined, pool: 'default', stripPrefix: false },
      { path: undefined, host: undefined, header: { name: 'x-canary', value: undefined }, pool: 'api', stripPrefix: false },
      { path: undefined, host: undefined, header: { name: 'x-version', value: '2' }, pool: 'api', stripPrefix: false },
      { path: undefined, host: undefined, header: { name: 'x-tenant', value: 'Acme' }, pool: 'api', stripPrefix: false },
    ]);
  });

  const cases: [string, unknown, string[]][] = [
    ['no condition', [{ pool: 'api' }], ['routes.0: needs at least one of path, host, header']],
    ['relative path', [{ path: 'api', pool: 'api' }], ['routes.0.path: must start with "/"']],
    ['query in path', [{ path: '/api?x', pool: 'api' }], ['routes.0.path: must not contain "?", "#", "*" or spaces']],
    ['fragment in path', [{ path: '/api#x', pool: 'api' }], ['routes.0.path: must not contain "?", "#", "*" or spaces']],
    ['glob in path', [{ path: '/api/*', pool: 'api' }], ['routes.0.path: must not contain "?", "#", "*" or spaces']],
    ['dot-dot segment', [{ path: '/a/../b', pool: 'api' }], ['routes.0.path: must not contain ".." segments']],
    ['bad host', [{ host: 'a b.com', pool: 'api' }], ['routes.0.host: must be a host name or IP address, optionally with a port or as "*.<domain>"']],
    ['wildcard in the middle', [{ host: 'a.*.com', pool: 'api' }], ['routes.0.host: must be a host name or IP address, optionally with a port or as "*.<domain>"']],
    ['bad header name', [{ header: 'x a', pool: 'api' }], ['routes.0.header: must be "<name>" or "<name>:<value>" with a valid header name']],
    ['bad header name in object', [{ header: { name: 'x:a' }, pool: 'api' }], ['routes.0.header.name: must be a valid header name']],
    ['header type', [{ header: 1, pool: 'api' }], ['routes.0.header: expected string or object, got number']],
    ['unknown pool', [{ path: '/x', pool: 'nope' }], ['routes.0.pool: unknown pool "nope" (expected one of default, api)']],
    ['missing pool', [{ path: '/x' }], ['routes.0.pool: required']],
    ['stripPrefix without path', [{ host: 'a.com', pool: 'api', stripPrefix: true }], ['routes.0.stripPrefix: needs path']],
    ['unknown route field', [{ path: '/x', pool: 'api', prefix: '/y' }], ['routes.0.prefix: unknown field']],
    ['same path modulo a trailing slash', [{ path: '/api', pool: 'api' }, { path: '/api/', pool: 'default' }], ['routes.1: same path, host and header as routes.0, so it never matches']],
    ['same host modulo case and port', [{ host: 'a.com', pool: 'api' }, { host: 'A.com:80', pool: 'api' }], ['routes.1: same path, host and header as routes.0, so it never matches']],
    ['same header condition', [{ header: 'X-A: 1', pool: 'api' }, { header: { name: 'x-a', value: '1' }, pool: 'default' }], ['routes.1: same path, host and header as routes.0, so it never matches']],
  ];
  for (const [name, routes, expected] of cases) {
    it(`refuses: ${name}`, () => assert.deepEqual(lines({ ...pools, routes }), expected));
  }

  it('accepts rules that differ in one condition', () => {
    const config = validateConfig({
      ...pools,
      routes: [{ path: '/api', pool: 'api' }, { path: '/api', host: 'a.com', pool: 'api' }, { path: '/api', header: 'x-a', pool: 'api' }, { path: '/api', header: 'x-a: 1', pool: 'api' }],
    });
    assert.equal(config.routes.length, 4);
  });
});

describe('topology: default, service and WebSocket pools', () => {
  const pools = { ...ok, pools: { api: { backends: [b('http://a')] }, ws: { backends: [b('http://w')] } } };

  it('takes them as given', () => {
    const config = validateConfig({ ...pools, defaultPool: 'api', serviceRoutes: { prefix: '/svc/' }, websocketPool: 'ws', websocketPaths: ['/socket.io/', '/ws'] });
    assert.deepEqual([config.defaultPool, config.serviceRoutes, config.websocketPool, config.websocketPaths], ['api', { prefix: '/svc' }, 'ws', ['/socket.io/', '/ws']]);
  });

  it('reads serviceRoutes true as the prefix /api, and defaultPool null as 404', () => {
    const config = validateConfig({ ...pools, serviceRoutes: true, defaultPool: null });
    assert.deepEqual([config.serviceRoutes, config.defaultPool], [{ prefix: '/api' }, null]);
    assert.equal(validateConfig({ ...pools, serviceRoutes: false }).serviceRoutes, false);
  });

  const cases: [string, unknown, string[]][] = [
    ['unknown defaultPool', { defaultPool: 'x' }, ['defaultPool: unknown pool "x" (expected one of default, api, ws)']],
    ['unknown websocketPool', { websocketPool: 'x' }, ['websocketPool: unknown pool "x" (expected one of default, api, ws)']],
    ['relative websocketPaths', { websocketPool: 'ws', websocketPaths: ['socket.io'] }, ['websocketPaths.0: must start with "/"']],
    ['websocketPaths without websocketPool', { websocketPaths: ['/ws'] }, ['websocketPaths: needs websocketPool']],
    ['bad service prefix', { serviceRoutes: { prefix: 'api' } }, ['serviceRoutes.prefix: must start with "/"']],
    ['serviceRoutes type', { serviceRoutes: '/api' }, ['serviceRoutes: expected boolean or object, got string']],
  ];
  for (const [name, extra, expected] of cases) {
    it(`refuses: ${name}`, () => assert.deepEqual(lines({ ...pools, ...(extra as object) }), expected));
  }
});

describe('topology: fallback', () => {
  const three = { pools: { a: { backends: [b('http://a')] }, b: { backends: [b('http://b')] }, c: { backends: [b('http://c')] } } };

  it('sends every other pool to fallback.pool, the pool itself to none', () => {
    const config = validateConfig({ ...three, fallback: 'c' });
    assert.deepEqual(config.pools.map((p) => p.fallback), ['c', 'c', null]);
    assert.deepEqual(config.fallback, { pool: 'c', header: 'x-keyway-fallback', toClient: false });
  });

  it('lets a pool name its own fallback, or none with false', () => {
    const config = validateConfig({ pools: { ...three.pools, a: { backends: [b('http://a')], fallback: 'b' }, b: { backends: [b('http://b')], fallback: false } }, fallback: { pool: 'c', header: 'X-Fell-Back', toClient: true } });
    assert.deepEqual(config.pools.map((p) => p.fallback), ['b', null, null]);
    assert.deepEqual(config.fallback, { pool: 'c', header: 'x-fell-back', toClient: true });
  });

  it('defaults to no fallback', () => {
    assert.deepEqual(validateConfig(three).pools.map((p) => p.fallback), [null, null, null]);
  });

  const cases: [string, unknown, string[]][] = [
    ['unknown fallback', { fallback: 'x' }, ['fallback: unknown pool "x" (expected one of a, b, c)']],
    ['unknown fallback.pool', { fallback: { pool: 'x' } }, ['fallback.pool: unknown pool "x" (expected one of a, b, c)']],
    ['bad fallback header', { fallback: { header: 'x y' } }, ['fallback.header: must be a valid header name']],
    ['fallback type', { fallback: 1 }, ['fallback: expected string or object, got number']],
    ['unknown fallback field', { fallback: { pool: 'a', to: 'b' } }, ['fallback.to: unknown field']],
  ];
  for (const [name, extra, expected] of cases) {
    it(`refuses: ${name}`, () => assert.deepEqual(lines({ ...three, ...(extra as object) }), expected));
  }

  it('refuses an unknown pool fallback', () => {
    assert.deepEqual(lines({ pools: { ...three.pools, a: { backends: [b('http://a')], fallback: 'z' } } }), ['pools.a.fallback: unknown pool "z" (expected one of a, b, c)']);
  });

  it('refuses a loop, once, at a pool that names its own fallback', () => {
    const loop = { pools: { ...three.pools, a: { backends: [b('http://a')], fallback: 'b' }, b: { backends: [b('http://b')], fallback: 'a' } } };
    assert.deepEqual(lines(loop), ['pools.a.fallback: fallback loop a -> b -> a']);
    const self = { pools: { ...three.pools, c: { backends: [b('http://c')], fallback: 'c' } } };
    assert.deepEqual(lines(self), ['pools.c.fallback: fallback loop c -> c']);
  });

  it('refuses a loop through the top-level fallback', () => {
    const config = { pools: { ...three.pools, c: { backends: [b('http://c')], fallback: 'a' } }, fallback: 'c' };
    assert.deepEqual(lines(config), ['pools.c.fallback: fallback loop c -> a -> c']);
  });

  it('accepts a chain that ends', () => {
    const config = validateConfig({ pools: { ...three.pools, a: { backends: [b('http://a')], fallback: 'b' }, b: { backends: [b('http://b')], fallback: 'c' } } });
    assert.deepEqual(config.pools.map((p) => p.fallback), ['b', 'c', null]);
  });
});
