import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, watch, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { CLI, runCli, tempFile } from '../helpers/cli.js';
import { request } from '../helpers/http.js';

const TOKEN = 'reload-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

const backends: TestBackend[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(backends.map((b) => b.close()));
});

interface Served {
  child: ChildProcess;
  port: number;
  /** stdout and stderr so far. */
  output(): string;
  stderr(): string;
  /** Resolves once `pattern` appears in the output written after `from` (an `output().length`). */
  waitFor(pattern: RegExp, from: number, timeoutMs?: number): Promise<void>;
}

/** `keyway serve --config F --pid-file P` on port 0; resolves once it logs the port it listens on. */
async function serve(configFile: string, pidFile: string): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--pid-file', pidFile, '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KEYWAY_LOG_LEVEL: 'info' },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c));
  child.stderr!.on('data', (c: Buffer) => {
    out += c;
    err += c;
  });
  const waitFor = (pattern: RegExp, from: number, timeoutMs = 10_000): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const check = (): boolean => {
        if (!pattern.test(out.slice(from))) return false;
        cleanup();
        resolve();
        return true;
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`keyway serve exited (${code}) before ${pattern}:\n${out}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${out.slice(from)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        child.off('exit', onExit);
      };
      // Listeners added after the accumulating ones, so `out` already holds the chunk.
      const onData = (): void => void check();
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', onExit);
      check();
    });
  await waitFor(/"port":\d+.*gateway listening/, 0, 15_000);
  const port = Number(/"port":(\d+).*gateway listening/.exec(out)?.[1]);
  return { child, port, output: () => out, stderr: () => err, waitFor };
}

/** Resolves once `file` exists (watching its folder), bounded by `timeoutMs`. */
async function fileAppears(file: string, timeoutMs = 5000): Promise<void> {
  if (existsSync(file)) return;
  const watcher = watch(dirname(file));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${file} never appeared`)), timeoutMs);
      watcher.on('change', () => {
        if (!existsSync(file)) return;
        clearTimeout(timer);
        resolve();
      });
      if (existsSync(file)) {
        clearTimeout(timer);
        resolve();
      }
    });
  } finally {
    watcher.close();
  }
}

function configText(list: TestBackend[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    strategy: 'round-robin',
    sticky: false,
    admin: { token: TOKEN },
    health: { path: '/health', interval: 60_000 },
    backends: list.map((b) => ({ id: b.name, url: b.url })),
    ...extra,
  });
}

async function names(port: number, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await request(port);
    assert.equal(r.status, 200, r.body);
    seen.add(r.body);
  }
  return seen;
}

test('keyway reload re-reads the file; an invalid file sent by SIGHUP is refused and the old config kept', async () => {
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => startBackend(n)));
  backends.push(a!, b!, c!);
  const file = tempFile('keyway.json', configText([a!, b!]));
  const pidFile = join(dirname(file), 'keyway.pid');
  const gw = await serve(file, pidFile);
  try {
    await fileAppears(pidFile);
    assert.deepEqual([...(await names(gw.port, 4))].sort(), ['a', 'b']);

    // Remove a, add c.
    writeFileSync(file, configText([b!, c!]));
    let mark = gw.output().length;
    const r = await runCli(['reload', '--pid-file', pidFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`process ${gw.child.pid}`));
    await gw.waitFor(/"msg":"config reloaded"/, mark);
    await gw.waitFor(/"backend":"c".*"msg":"backend is up"/, mark);
    assert.match(gw.output().slice(mark), /"added":\["c"\],"removed":\["a"\]/);
    const aHits = a!.hits;
    assert.deepEqual([...(await names(gw.port, 6))].sort(), ['b', 'c']);
    assert.equal(a!.hits, aHits, 'a gets nothing after the reload');

    // Invalid JSON: refused, with the reason on stderr; the gateway keeps b and c.
    writeFileSync(file, '{ "backends": [ oops ');
    mark = gw.output().length;
    gw.child.kill('SIGHUP');
    await gw.waitFor(/reload refused/, mark);
    assert.match(gw.stderr(), /keyway: reload refused, keeping the running config\n\s+.*keyway\.json.*line 1/);
    assert.deepEqual([...(await names(gw.port, 6))].sort(), ['b', 'c']);
    assert.equal(a!.hits, aHits);

    // Valid JSON, invalid config: refused with one line per problem.
    writeFileSync(file, JSON.stringify({ strategy: 'fastest', backends: [] }));
    mark = gw.output().length;
    const again = await runCli(['reload', '--pid', String(gw.child.pid)]);
    assert.equal(again.code, 0, again.stderr);
    await gw.waitFor(/reload refused[^]*backends: must contain at least 1 backend/, mark);
    assert.match(gw.output().slice(mark), /strategy: unknown value "fastest"/);
    assert.doesNotMatch(gw.stderr(), /\n\s+at /, 'no stack trace');
    assert.deepEqual([...(await names(gw.port, 6))].sort(), ['b', 'c']);

    // SIGTERM still shuts down cleanly and removes the pid file.
    const exited = once(gw.child, 'exit');
    gw.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, gw.output());
    assert.equal(existsSync(pidFile), false);
  } finally {
    if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
  }
});

test('POST /_lb/reload with the token re-reads the file and answers the summary; without it 401', async () => {
  const [a, b] = await Promise.all(['a', 'b'].map((n) => startBackend(n)));
  backends.push(a!, b!);
  const file = tempFile('keyway.json', configText([a!]));
  const pidFile = join(dirname(file), 'keyway.pid');
  const gw = await serve(file, pidFile);
  try {
    writeFileSync(file, configText([a!, b!], { shutdownGraceMs: 2000 }));
    const denied = await request(gw.port, { method: 'POST', path: '/_lb/reload' });
    assert.equal(denied.status, 401);
    const mark = gw.output().length;
    const r = await request(gw.port, { method: 'POST', path: '/_lb/reload', headers: AUTH });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { added: ['b'], removed: [], replaced: [], reweighted: [], restartNeeded: ['shutdownGraceMs'] });
    await gw.waitFor(/"backend":"b".*"msg":"backend is up"/, mark);
    assert.deepEqual([...(await names(gw.port, 4))].sort(), ['a', 'b']);

    // An invalid file: 400 with the problems, nothing changed.
    writeFileSync(file, JSON.stringify({ backends: [{ id: 'x', url: 'ftp://x' }] }));
    const bad = await request(gw.port, { method: 'POST', path: '/_lb/reload', headers: AUTH });
    assert.equal(bad.status, 400, bad.body);
    const body = JSON.parse(bad.body) as { code: string; issues: { path: string }[] };
    assert.equal(body.code, 'KW_ERR_CONFIG_INVALID');
    assert.ok(body.issues.some((i) => i.path === 'backends.0.url'), bad.body);
    writeFileSync(file, '{');
    const unparsable = await request(gw.port, { method: 'POST', path: '/_lb/reload', headers: AUTH });
    assert.equal(unparsable.status, 400, unparsable.body);
    assert.equal(JSON.parse(unparsable.body).code, 'KW_ERR_CONFIG_LOAD');
    assert.deepEqual([...(await names(gw.port, 4))].sort(), ['a', 'b']);
  } finally {
    const exited = once(gw.child, 'exit');
    gw.child.kill('SIGTERM');
    await exited;
  }
});

test('keyway reload explains a missing pid file or a process that is gone', async () => {
  const missing = await runCli(['reload', '--pid-file', '/nonexistent/keyway.pid']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read pid file \/nonexistent\/keyway\.pid/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
  const garbage = await runCli(['reload', '--pid-file', tempFile('x.pid', 'not a pid\n')]);
  assert.equal(garbage.code, 2);
  assert.match(garbage.stderr, /no process id in/);
  // A process that has exited: spawn one, wait for it to end, then ask it to reload.
  const gone = spawn(process.execPath, ['-e', '']);
  await once(gone, 'exit');
  const r = await runCli(['reload', '--pid', String(gone.pid)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`no process ${gone.pid}`));
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test(
  'a JS config edited on disk is re-read by a reload',
  async () => {
    const [a, b] = await Promise.all(['a', 'b'].map((n) => startBackend(n)));
    backends.push(a!, b!);
    const js = (list: TestBackend[]): string => `export default ${configText(list)};\n`;
    const file = tempFile('keyway.config.mjs', js([a!]));
    const gw = await serve(file, join(dirname(file), 'keyway.pid'));
    try {
      writeFileSync(file, js([a!, b!]));
      const r = await request(gw.port, { method: 'POST', path: '/_lb/reload', headers: AUTH });
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(JSON.parse(r.body).added, ['b']);
    } finally {
      const exited = once(gw.child, 'exit');
      gw.child.kill('SIGTERM');
      await exited;
    }
  },
);
