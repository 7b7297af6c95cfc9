/** @module test/config/mask: the printable view of a config hides every secret and never throws. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskConfig, validateConfig, type GatewayConfig } from '../../src/config/index.js';

const SECRETS = ['sticky-secret', 'admin-token', 'global-header-value', 'backend-header-value', 'smtp-pass', 'api-key', 'url-password', 'oauth-token'];

function fullConfig(): GatewayConfig {
  return validateConfig({
    strategy: () => null,
    hashKey: 'header:x-user',
    backends: [
      { id: 'a', url: 'http://user:url-password@localhost:5000/app', healthHeaders: { 'X-Token': 'backend-header-value' }, healthCheck: () => true },
      { id: 'b', url: 'http://localhost:5001' },
    ],
    health: { headers: { Authorization: 'global-header-value' } },
    sticky: { secret: 'sticky-secret' },
    admin: { token: 'admin-token' },
    email: {
      service: 'gmail',
      auth: { user: 'me@example.com', pass: 'smtp-pass' },
      apiKey: 'api-key',
      oauth: { accessToken: 'oauth-token' },
    },
  });
}

describe('maskConfig', () => {
  it('hides every secret', () => {
    const text = JSON.stringify(maskConfig(fullConfig()));
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `leaked ${secret}: ${text}`);
  });

  it('replaces secrets with *** and keeps the rest readable', () => {
    const masked = maskConfig(fullConfig()) as {
      sticky: { secret: string; cookie: string };
      admin: { token: string; path: string };
      health: { headers: Record<string, string> };
      backends: { url: string; health: { headers: Record<string, string>; check: string } }[];
      email: { service: string; auth: { user: string; pass: string }; apiKey: string; oauth: { accessToken: string } };
      strategy: string;
      hashKey: string;
    };
    assert.equal(masked.sticky.secret, '***');
    assert.equal(masked.sticky.cookie, 'keyway_sticky');
    assert.equal(masked.admin.token, '***');
    assert.equal(masked.admin.path, '/_lb');
    assert.deepEqual(masked.health.headers, { Authorization: '***' });
    assert.deepEqual(masked.backends[0]?.health.headers, { 'X-Token': '***' });
    assert.equal(masked.backends[0]?.url, 'http://user:***@localhost:5000/app');
    assert.equal(masked.backends[1]?.url, 'http://localhost:5001');
    assert.deepEqual(masked.email, { service: 'gmail', auth: { user: 'me@example.com', pass: '***' }, apiKey: '***', oauth: { accessToken: '***' } });
    assert.equal(masked.strategy, '[function]');
    assert.equal(masked.backends[0]?.health.check, '[function]');
    assert.equal(masked.hashKey, 'header:x-user');
  });

  it('leaves unset secrets absent and is JSON round-trippable', () => {
    const masked = maskConfig(validateConfig({ backends: [{ url: 'http://a' }] }));
    assert.deepEqual(JSON.parse(JSON.stringify(masked)), masked);
    assert.equal('token' in (masked.admin as object), false);
    assert.equal('secret' in (masked.sticky as object), false);
  });

  it('never throws on odd values', () => {
    const email: Record<string, unknown> = { big: 10n, when: new Date(0), bad: new Date(Number.NaN), inf: Infinity, sym: Symbol('s') };
    email.self = email;
    Object.defineProperty(email, 'boom', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    const config = { ...validateConfig({ backends: [{ url: 'http://a' }] }), email } as unknown as GatewayConfig;
    const masked = maskConfig(config);
    assert.deepEqual(masked.email, {
      big: '10',
      when: '1970-01-01T00:00:00.000Z',
      bad: 'Invalid Date',
      inf: 'Infinity',
      sym: 'Symbol(s)',
      self: '[circular]',
      boom: '[unreadable]',
    });
    assert.doesNotThrow(() => JSON.stringify(masked));
    assert.deepEqual(maskConfig(null as unknown as GatewayConfig), {});
  });
});

describe('maskConfig: alerts', () => {
it('masks webhook URLs and headers; only the origin shows', () => {
  const config = validateConfig({
    backends: [{ url: 'http://127.0.0.1:1' }],
    alerts: { webhooks: [{ url: 'https://hooks.slack.example/services/T000/B000/XXXXSECRET', format: 'slack', headers: { authorization: 'Bearer hook-secret' } }] },
  });
  const text = JSON.stringify(maskConfig(config));
  assert.ok(!text.includes('XXXXSECRET'));
  assert.ok(!text.includes('hook-secret'));
  assert.ok(text.includes('https://hooks.slack.example/***'));
});
});
