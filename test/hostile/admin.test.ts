/**
 * The admin surface under hostile use: a password in a backend URL is masked wherever a URL is shown (status JSON,
 * logs), and runtime values (a PATCHed weight) meet the config file's rules, so no admin call can starve a pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGateway } from '../../src/index.js';
import type { Logger } from '../../src/types.js';
import { backendSet } from '../helpers/backends.js';
import { request } from '../helpers/http.js';
import { startGateway } from '../helpers/gateway.js';

const TOKEN = 'hostile-admin-token';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

/** A logger that keeps every line (object and message) as JSON text. */
function capturingLogger(lines: string[]): Logger {
  const write = (obj: object | string, msg?: string): void => void lines.push(JSON.stringify({ obj, msg }));
  const logger: Logger = { debug: write, info: write, warn: write, error: write, child: () => logger };
  return logger;
}

test('a password in a backend URL never appears in /_lb/health, /_lb/backends or the logs', { timeout: 15_000 }, async (t) => {
  const start = backendSet();
  t.after(start.closeAll);
  const [a, b] = await start('a', 'b');
  const withPassword = (url: string): string => url.replace('http://', 'http://ops:hunter2-secret@');
  const lines: string[] = [];
  const gw = createGateway(
    { host: '127.0.0.1', port: 0, sticky: false, admin: { token: TOKEN }, health: { interval: 60_000, path: '/health' }, backends: [{ id: 'a', url: withPassword(a!.url) }] },
    { logger: capturingLogger(lines) },
  );
  const { port } = await gw.listen();
  t.after(() => gw.close());
  const added = await request(port, { method: 'POST', path: '/_lb/backends', headers: auth, body: JSON.stringify({ id: 'b', url: withPassword(b!.url) }) });
  assert.equal(added.status, 201);
  for (const path of ['/_lb/health', '/_lb/backends', '/_lb/backends/a', '/_lb/topology']) {
    const reply = await request(port, { path });
    assert.equal(reply.status, 200, path);
    assert.ok(!reply.body.includes('hunter2'), `${path}: ${reply.body}`);
  }
  assert.ok(added.body.includes('ops:***@'), added.body);
  assert.ok((await request(port, { path: '/_lb/health' })).body.includes('ops:***@'));
  assert.ok(lines.length > 0);
  assert.deepEqual(lines.filter((l) => l.includes('hunter2')), []);
});

test('PATCH weight: only what the config file accepts (an integer from 0 to 1,000,000); traffic is unharmed', { timeout: 15_000 }, async (t) => {
  const start = backendSet();
  t.after(start.closeAll);
  const [a, b] = await start('a', 'b');
  const gw = await startGateway({ sticky: false, admin: { token: TOKEN }, backends: [{ id: 'a', url: a!.url }, { id: 'b', url: b!.url }] });
  t.after(gw.close);
  for (const weight of [1e308, 1_000_001, -1, 1.5, '3', null, true, Number.MAX_SAFE_INTEGER]) {
    const reply = await request(gw.port, { method: 'PATCH', path: '/_lb/backends/a', headers: auth, body: JSON.stringify({ weight }) });
    assert.equal(reply.status, 400, `${String(weight)}: ${reply.body}`);
    assert.match(reply.body, /weight: must be/);
  }
  assert.equal(gw.gateway.backends.find((x) => x.id === 'a')?.weight, 1, 'unchanged');
  const ok = await request(gw.port, { method: 'PATCH', path: '/_lb/backends/a', headers: auth, body: JSON.stringify({ weight: 1_000_000 }) });
  assert.equal(ok.status, 200);
  const statuses = await Promise.all(Array.from({ length: 12 }, () => request(gw.port).then((r) => r.status)));
  assert.deepEqual(statuses, Array(12).fill(200));
  assert.throws(() => gw.gateway.setWeight('a', 1e308), /weight: must be at most 1000000/);
});
