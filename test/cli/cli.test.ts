import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { runCli, serveCli, tempFile } from '../helpers/cli.js';
import { request } from '../helpers/http.js';

const backends: TestBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

test('help and version', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /keyway <command>/);
  const version = await runCli(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  const bad = await runCli(['serve']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /serve needs --config FILE/);
});

test('an invalid config exits 2 with one line per problem and no stack trace', async () => {
  const file = tempFile('bad.json', JSON.stringify({ strategy: 'fastest', backends: [] }));
  const r = await runCli(['serve', '--config', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /backends: must contain at least 1 backend/);
  assert.match(r.stderr, /strategy: unknown value "fastest" \(expected one of round-robin/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('malformed JSON and YAML name their line; a missing file is a clear error', async () => {
  const json = await runCli(['check', '--config', tempFile('bad.json', '{\n  "port": 80,\n  oops\n}')]);
  assert.equal(json.code, 2);
  assert.match(json.stderr, /line 3/);
  const yaml = await runCli(['check', '--config', tempFile('bad.yaml', 'port: 80\nbackends:\n  - url: [unclosed\n')]);
  assert.equal(yaml.code, 2);
  assert.match(yaml.stderr, /line \d/);
  const missing = await runCli(['check', '--config', '/nonexistent/keyway.json']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read config/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
});

test('check prints the resolved config with secrets masked', async () => {
  const file = tempFile(
    'ok.yaml',
    [
      'port: 9000',
      'sticky: { secret: sticky-secret-value }',
      'admin: { token: admin-secret-value }',
      'email: { host: smtp.local, auth: { user: me, pass: mail-secret-value } }',
      'backends:',
      '  - { id: 1, url: "http://127.0.0.1:3001", healthHeaders: { x-key: header-secret-value } }',
    ].join('\n'),
  );
  const r = await runCli(['check', '--config', file]);
  assert.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout);
  assert.equal(printed.port, 9000);
  for (const s of ['sticky-secret-value', 'admin-secret-value', 'mail-secret-value', 'header-secret-value']) {
    assert.ok(!r.stdout.includes(s), `${s} must be masked`);
  }
});

test('SIGTERM: stops accepting, lets the in-flight request finish, exits 0', async () => {
  const slow = await startBackend('slow', (_req, res) => setTimeout(() => res.end('finished'), 700));
  backends.push(slow);
  const file = tempFile('slow.json', JSON.stringify({ backends: [{ id: 1, url: slow.url }], health: { path: '/health' }, sticky: { secret: 's' }, shutdownGraceMs: 5000 }));
  const gw = await serveCli(file);
  const inflight = request(gw.port, { path: '/slow' });
  await new Promise((r) => setTimeout(r, 200)); // the request is now at the backend
  const exited = once(gw.child, 'exit');
  gw.child.kill('SIGTERM');
  const reply = await inflight;
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'finished');
  const [code] = await exited;
  assert.equal(code, 0, gw.output());
  await assert.rejects(request(gw.port), /ECONNREFUSED/);
});

test('SIGTERM: a request outliving the grace period is cut and the process still exits 0', async () => {
  const hang = await startBackend('hang', () => undefined);
  backends.push(hang);
  const file = tempFile('hang.json', JSON.stringify({ backends: [{ id: 1, url: hang.url }], health: { path: '/health' }, sticky: { secret: 's' }, shutdownGraceMs: 300 }));
  const gw = await serveCli(file);
  const pending = request(gw.port, { path: '/hang' }).then(
    () => 'answered',
    () => 'cut',
  );
  await new Promise((r) => setTimeout(r, 150));
  const t0 = Date.now();
  gw.child.kill('SIGTERM');
  const [code] = await once(gw.child, 'exit');
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 < 3000);
  assert.equal(await pending, 'cut');
});

test('keyway demo serves three backends through a gateway with a page naming the backend', async () => {
  const { spawn } = await import('node:child_process');
  const { CLI } = await import('../helpers/cli.js');
  const child = spawn(process.execPath, [CLI, 'demo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(out)), 15_000);
      child.stdout.on('data', (c) => {
        out += c;
        const m = /gateway:\s+(http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const port = Number(new URL(url).port);
    const page = await request(port);
    assert.equal(page.status, 200);
    assert.match(page.body, /backend-\d/);
    const status = JSON.parse((await request(port, { path: '/_lb/health' })).body);
    assert.equal(status.total, 3);
    assert.equal(status.healthy, 3);
    await new Promise<void>((resolve) => http.get(`${url}api/whoami`, (res) => res.resume().on('end', resolve)));
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});
