/**
 * Every nested block of the config, row by row: a typo in a key is refused at its own path, and so is every
 * numeric field's out-of-range value (negative, zero where it must be positive, fractional, past its maximum or
 * past what a node timer can wait). A typo like `conectMs` or a negative `responseMs` never passes silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const BASE = { backends: [{ id: 'a', url: 'http://127.0.0.1:3000' }], sticky: false };
const POOLS = { pools: { api: { backends: [{ id: 'p', url: 'http://127.0.0.1:3001' }] } }, routes: [{ path: '/api', pool: 'api' }] };
const TOO_LONG = 2 ** 31;

/** `input` with `value` at the dotted `path` (objects made as needed; numeric segments index arrays). */
function withValue(input: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const root = structuredClone(input);
  const parts = path.split('.');
  let node: Record<string, unknown> = root;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1) as string] = value;
  return root;
}

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    validateConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  return [];
}

const TYPOS: [string, Record<string, unknown>][] = [
  ['timeouts.conectMs', BASE],
  ['retries.budgetPrecent', BASE],
  ['outlier.consecutiveFailure', BASE],
  ['limits.maxBodyByte', BASE],
  ['admin.tokn', BASE],
  ['health.intervalMS', BASE],
  ['sticky.cookiee', { ...BASE, sticky: { secret: 's' } }],
  ['metrics.enable', BASE],
  ['accessLog.dest', { ...BASE, accessLog: { destination: 'stdout' } }],
  ['alerts.holdMS', BASE],
  ['alerts.webhooks.0.formt', { ...BASE, alerts: { webhooks: [{ url: 'http://127.0.0.1:9/h' }] } }],
  ['backends.0.wieght', BASE],
  ['pools.api.stratgy', { ...BASE, ...POOLS }],
  ['pools.api.health.rize', { ...BASE, ...POOLS }],
  ['pools.api.backends.0.wieght', { ...BASE, ...POOLS }],
  ['routes.0.poool', { ...BASE, ...POOLS }],
  ['fallback.pol', { ...BASE, fallback: { pool: 'default' } }],
  ['serviceRoutes.prefx', { ...BASE, serviceRoutes: { prefix: '/api' } }],
  ['redis.syncIntervalMS', { ...BASE, redis: { url: 'redis://127.0.0.1:6390' } }],
  ['bootHandshake.pth', { ...BASE, bootHandshake: {} }],
];

for (const [path, base] of TYPOS) {
  test(`unknown key ${path} is refused at its path`, () => {
    const issues = issuesOf(withValue(base, path, 1));
    assert.ok(issues.some((i) => i.path === path && i.message === 'unknown field'), `${path}: ${JSON.stringify(issues)}`);
  });
}

/** [path, values refused, a base that makes the block exist where needed]. */
const RANGES: [string, unknown[], Record<string, unknown>?][] = [
  ['port', [-1, 65536, 1.5]],
  ['timeouts.connectMs', [0, -1, 1.5, TOO_LONG, '5']],
  ['timeouts.responseMs', [0, -1, TOO_LONG]],
  ['timeouts.upstreamIdleMs', [0, TOO_LONG]],
  ['timeouts.clientHeadersMs', [0, TOO_LONG]],
  ['timeouts.clientIdleMs', [0, TOO_LONG]],
  ['timeouts.requestMs', [-1, 1.5, TOO_LONG]],
  ['timeouts.wsHandshakeMs', [0, TOO_LONG]],
  ['timeouts.wsIdleMs', [-1, TOO_LONG]],
  ['retries.budgetPercent', [-1, 101, 1.5]],
  ['retries.minPerSecond', [-1, 0.5]],
  ['outlier.consecutiveFailures', [0, -1]],
  ['outlier.baseEjectionMs', [0, TOO_LONG]],
  ['outlier.maxEjectionMs', [0, TOO_LONG]],
  ['outlier.maxEjectionPercent', [-1, 101]],
  ['limits.maxBodyBytes', [-1, 1.5]],
  ['limits.maxHeaderBytes', [1023, 1_048_577, 1e12]],
  ['limits.maxHeaderCount', [0, 10_001]],
  ['limits.maxConnections', [0, -1]],
  ['limits.wsMaxBytes', [0]],
  ['health.intervalMs', [0, TOO_LONG]],
  ['health.timeoutMs', [0, TOO_LONG]],
  ['health.rise', [0]],
  ['health.fall', [0]],
  ['sticky.maxAgeMs', [0, -1], { ...BASE, sticky: { secret: 's' } }],
  ['alerts.holdMs', [-1, TOO_LONG]],
  ['alerts.attempts', [0]],
  ['shutdownGraceMs', [-1, TOO_LONG]],
  ['slowStartMs', [-1, TOO_LONG]],
  ['drainTimeoutMs', [-1, TOO_LONG]],
  ['backends.0.weight', [-1, 1.5, 1_000_001, 1e308]],
  ['backends.0.healthTimeout', [0, TOO_LONG]],
  ['pools.api.backends.0.weight', [-1, 1_000_001], { ...BASE, ...POOLS }],
  ['pools.api.health.intervalMs', [0, TOO_LONG], { ...BASE, ...POOLS }],
  ['redis.connectTimeoutMs', [0, TOO_LONG], { ...BASE, redis: { url: 'redis://127.0.0.1:6390' } }],
  ['redis.syncIntervalMs', [0], { ...BASE, redis: { url: 'redis://127.0.0.1:6390' } }],
  ['redis.verdictTtlMs', [0], { ...BASE, redis: { url: 'redis://127.0.0.1:6390' } }],
  ['redis.healthQuorum', [0], { ...BASE, redis: { url: 'redis://127.0.0.1:6390' } }],
  ['bootHandshake.intervalMs', [0, TOO_LONG], { ...BASE, bootHandshake: {} }],
  ['bootHandshake.timeoutMs', [0], { ...BASE, bootHandshake: {} }],
];

for (const [path, values, base] of RANGES) {
  test(`${path} refuses ${values.map((v) => JSON.stringify(v)).join(', ')} at its path`, () => {
    for (const value of values) {
      const issues = issuesOf(withValue(base ?? BASE, path, value));
      assert.ok(issues.some((i) => i.path === path), `${path} = ${JSON.stringify(value)}: ${JSON.stringify(issues)}`);
    }
  });
}

test('the bounds themselves are accepted', () => {
  const ok = withValue(withValue(withValue(BASE, 'limits.maxHeaderBytes', 1_048_576), 'limits.maxHeaderCount', 10_000), 'timeouts.connectMs', TOO_LONG - 1);
  assert.deepEqual(issuesOf(withValue(ok, 'backends.0.weight', 1_000_000)), []);
});
