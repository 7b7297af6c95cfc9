/** @module test/routing/router: the routing order, path boundaries, hosts, headers and shared answers. */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { validateConfig, type RouteConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { Router, stripPathPrefix, type RouterOptions } from '../../src/routing/index.js';

const POOLS = ['default', 'api', 'web', 'ws', 'users', 'admin'];

function rule(r: Partial<RouteConfig> & { pool: string }): RouteConfig {
  return { path: undefined, host: undefined, header: undefined, stripPrefix: false, ...r };
}

function router(options: Partial<RouterOptions>): Router {
  return new Router({ routes: [], defaultPool: 'default', serviceRoutes: false, websocketPool: null, websocketPaths: ['/socket.io/'], poolNames: POOLS, ...options });
}

/** `[pool, stripPrefix]` for a request, or null. */
function go(r: Router, url: string, headers: IncomingHttpHeaders = {}, upgrade = false): [string, string] | null {
  const match = r.route({ url, headers }, upgrade);
  return match === null ? null : [match.pool, match.stripPrefix];
}

describe('Router: path prefixes', () => {
  const r = router({ routes: [rule({ path: '/api', pool: 'api', stripPrefix: true }), rule({ path: '/api/admin', pool: 'admin' }), rule({ path: '/', pool: 'web' })] });

  it('matches at a path boundary, ignoring the query', () => {
    assert.deepEqual(go(r, '/api'), ['api', '/api']);
    assert.deepEqual(go(r, '/api/'), ['api', '/api']);
    assert.deepEqual(go(r, '/api/x/y'), ['api', '/api']);
    assert.deepEqual(go(r, '/api?q=/api/admin'), ['api', '/api']);
    assert.deepEqual(go(r, '/apix'), ['web', '']);
  });

  it('prefers the longest prefix', () => {
    assert.deepEqual(go(r, '/api/admin'), ['admin', '']);
    assert.deepEqual(go(r, '/api/admin/users?x'), ['admin', '']);
    assert.deepEqual(go(r, '/api/administrator'), ['api', '/api']);
  });

  it('lets "/" match every origin-form path, but nothing strips it', () => {
    assert.deepEqual(go(r, '/'), ['web', '']);
    assert.deepEqual(go(r, '/anything'), ['web', '']);
    assert.deepEqual(go(router({ routes: [rule({ path: '/', pool: 'web', stripPrefix: true })] }), '/x'), ['web', '']);
  });

  it('normalises hand-built prefixes with a trailing slash', () => {
    assert.deepEqual(go(router({ routes: [rule({ path: '/api/', pool: 'api' })] }), '/api'), ['api', '']);
  });
});

describe('Router: host and header conditions', () => {
  it('compares hosts without port and case; *. matches subdomains only', () => {
    const r = router({ routes: [rule({ host: 'api.example.com', pool: 'api' }), rule({ host: '*.example.com', pool: 'web' }), rule({ host: '[::1]', pool: 'admin' })] });
    assert.deepEqual(go(r, '/', { host: 'API.Example.com:8443' }), ['api', '']);
    assert.deepEqual(go(r, '/', { host: 'api.example.com.' }), ['api', '']);
    assert.deepEqual(go(r, '/', { host: 'www.example.com' }), ['web', '']);
    assert.deepEqual(go(r, '/', { host: 'a.b.EXAMPLE.com:80' }), ['web', '']);
    assert.deepEqual(go(r, '/', { host: 'example.com' }), ['default', '']);
    assert.deepEqual(go(r, '/', { host: 'notexample.com' }), ['default', '']);
    assert.deepEqual(go(r, '/', { host: 'api.example.com.evil.org' }), ['default', '']);
    assert.deepEqual(go(r, '/', { host: '[::1]:8080' }), ['admin', '']);
    assert.deepEqual(go(r, '/', {}), ['default', ''], 'no Host header: host rules do not match');
  });

  it('matches a header by presence or exact value', () => {
    const r = router({ routes: [rule({ header: { name: 'x-canary', value: undefined }, pool: 'web' }), rule({ header: { name: 'X-Tenant', value: 'acme' }, pool: 'api' })] });
    assert.deepEqual(go(r, '/', { 'x-canary': '' }), ['web', '']);
    assert.deepEqual(go(r, '/', { 'x-tenant': 'acme' }), ['api', '']);
    assert.deepEqual(go(r, '/', { 'x-tenant': 'Acme' }), ['default', '']);
    assert.deepEqual(go(r, '/', { 'x-tenant': ['other', 'acme'] }), ['api', ''], 'any value of a repeated header');
    assert.deepEqual(go(r, '/', {}), ['default', '']);
  });

  it('needs every condition of a rule', () => {
    const r = router({ routes: [rule({ path: '/api', host: 'a.com', header: { name: 'x-v', value: '2' }, pool: 'api' })] });
    assert.deepEqual(go(r, '/api', { host: 'a.com', 'x-v': '2' }), ['api', '']);
    assert.deepEqual(go(r, '/api', { host: 'b.com', 'x-v': '2' }), ['default', '']);
    assert.deepEqual(go(r, '/api', { host: 'a.com', 'x-v': '1' }), ['default', '']);
    assert.deepEqual(go(r, '/web', { host: 'a.com', 'x-v': '2' }), ['default', '']);
  });

  it('counts a rule without path as prefix length 0 and breaks ties by config order', () => {
    const r = router({
      routes: [rule({ host: 'a.com', pool: 'web' }), rule({ header: { name: 'x-a', value: undefined }, pool: 'admin' }), rule({ path: '/api', pool: 'api' }), rule({ path: '/api', host: 'a.com', pool: 'users' })],
    });
    assert.deepEqual(go(r, '/api', { host: 'a.com' }), ['api', ''], 'a path beats no path; then the first of equal length');
    assert.deepEqual(go(r, '/x', { host: 'a.com', 'x-a': '1' }), ['web', '']);
    assert.deepEqual(go(r, '/x', { 'x-a': '1' }), ['admin', '']);
  });
});

describe('Router: WebSocket pool', () => {
  const r = router({ websocketPool: 'ws', websocketPaths: ['/socket.io/', '/live'], routes: [rule({ path: '/', pool: 'web' }), rule({ path: '/socket.io', pool: 'api' })] });

  it('takes every upgrade and the websocketPaths before any route', () => {
    assert.deepEqual(go(r, '/chat', {}, true), ['ws', '']);
    assert.deepEqual(go(r, '/socket.io/?EIO=4&transport=polling'), ['ws', '']);
    assert.deepEqual(go(r, '/socket.io?EIO=4'), ['ws', '']);
    assert.deepEqual(go(r, '/live/feed'), ['ws', '']);
    assert.deepEqual(go(r, '/lively'), ['web', '']);
    assert.deepEqual(go(r, '/chat'), ['web', '']);
  });

  it('leaves upgrades to the routes when there is no websocketPool', () => {
    const plain = router({ routes: [rule({ path: '/chat', pool: 'api' })] });
    assert.deepEqual(go(plain, '/chat', {}, true), ['api', '']);
    assert.deepEqual(go(plain, '/socket.io/', {}, true), ['default', '']);
  });
});

describe('Router: service routes, default pool, no match', () => {
  it('sends /<prefix>/<service>[/...] to an existing pool of that name', () => {
    const r = router({ serviceRoutes: { prefix: '/api' }, routes: [rule({ path: '/api/admin', pool: 'web' })] });
    assert.deepEqual(go(r, '/api/users'), ['users', '']);
    assert.deepEqual(go(r, '/api/users/7?x=1'), ['users', '']);
    assert.deepEqual(go(r, '/api/users?x=1'), ['users', '']);
    assert.deepEqual(go(r, '/api/usersx'), ['default', '']);
    assert.deepEqual(go(r, '/api/nobody'), ['default', '']);
    assert.deepEqual(go(r, '/api/admin/x'), ['web', ''], 'routes come first');
    assert.deepEqual(go(r, '/users'), ['default', '']);
  });

  it('works with the prefix "/"', () => {
    const r = router({ serviceRoutes: { prefix: '/' }, defaultPool: null });
    assert.deepEqual(go(r, '/users/1'), ['users', '']);
    assert.equal(go(r, '/other'), null);
  });

  it('answers null with no default pool', () => {
    const r = router({ defaultPool: null, routes: [rule({ path: '/api', pool: 'api' })] });
    assert.equal(go(r, '/web'), null);
    assert.deepEqual(go(r, '/api'), ['api', '']);
  });
});

describe('Router: shared answers and construction', () => {
  it('returns the same frozen object for the same answer', () => {
    const r = router({ routes: [rule({ path: '/a', pool: 'api' }), rule({ path: '/b', pool: 'api' }), rule({ path: '/c', pool: 'default' })], serviceRoutes: { prefix: '/svc' } });
    const a = r.route({ url: '/a', headers: {} }, false);
    assert.ok(a !== null && Object.isFrozen(a));
    assert.equal(r.route({ url: '/a/x', headers: {} }, false), a);
    assert.equal(r.route({ url: '/b', headers: {} }, false), a, 'one object per pool and strip prefix');
    assert.equal(r.route({ url: '/svc/api', headers: {} }, false), a);
    assert.equal(r.route({ url: '/c', headers: {} }, false), r.route({ url: '/zzz', headers: {} }, false));
  });

  it('answers a constant when there is nothing to route on', () => {
    const r = new Router(validateConfig({ backends: [{ url: 'http://a' }] }));
    const first = r.route({ url: '/x', headers: {} }, false);
    assert.deepEqual(first, { pool: 'default', stripPrefix: '' });
    assert.equal(r.route({ url: '/socket.io/', headers: { host: 'x' } }, true), first);
    const none = new Router(validateConfig({ pools: { api: { backends: [{ url: 'http://a' }] } } }));
    assert.equal(none.route({ url: '/', headers: {} }, false), null);
  });

  it('builds from a validated config', () => {
    const config = validateConfig({
      backends: [{ url: 'http://d' }],
      pools: { api: { backends: [{ url: 'http://a' }] }, ws: { backends: [{ url: 'http://w' }] } },
      routes: [{ path: '/api/', pool: 'api', stripPrefix: true }, { host: 'API.example.com:80', pool: 'api' }],
      websocketPool: 'ws',
      serviceRoutes: true,
    });
    const r = new Router(config);
    assert.deepEqual(go(r, '/api/v1'), ['api', '/api']);
    assert.deepEqual(go(r, '/', { host: 'api.example.COM' }), ['api', '']);
    assert.deepEqual(go(r, '/socket.io/?EIO=4'), ['ws', '']);
    assert.deepEqual(go(r, '/x', {}, true), ['ws', '']);
    assert.deepEqual(go(r, '/elsewhere'), ['default', '']);
  });

  it('refuses hand-built options that name unknown pools', () => {
    assert.throws(() => router({ routes: [rule({ path: '/a', pool: 'nope' })], websocketPool: 'gone' }), (err: ConfigError) => {
      assert.deepEqual(err.issues.map((i) => i.path), ['routes.0.pool', 'websocketPool']);
      return true;
    });
  });
});

describe('stripPathPrefix', () => {
  it('removes the matched prefix and keeps a leading slash and the query', () => {
    assert.equal(stripPathPrefix('/api/x?q=1', '/api'), '/x?q=1');
    assert.equal(stripPathPrefix('/api', '/api'), '/');
    assert.equal(stripPathPrefix('/api?q', '/api'), '/?q');
    assert.equal(stripPathPrefix('/web/x', '/api'), '/web/x');
    assert.equal(stripPathPrefix('/x', ''), '/x');
  });
});
