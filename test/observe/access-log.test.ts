import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLog, type AccessLogEntry } from '../../src/observe/index.js';

function entry(over: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return {
    method: 'GET',
    path: '/api/items',
    status: 200,
    backend: 'a',
    durationMs: 12.5,
    bytesIn: 512,
    bytesOut: 0,
    remoteAddress: '10.0.0.7',
    retries: 0,
    ...over,
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'keyway-access-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('one JSON line per request with every field, query string stripped', () =>
  withDir(async (dir) => {
    const file = join(dir, 'nested', 'logs', 'access.log'); // missing directories are created
    const log = new AccessLog({ destination: file });
    log.write(entry({ path: '/login?token=s3cret&user=bob' }));
    log.write(entry({ method: 'POST', path: '/upload', status: 503, backend: null, bytesOut: 9, remoteAddress: undefined, retries: 2 }));
    log.write(entry({ path: '/?' }));
    await log.close();

    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, /s3cret|user=bob/);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 3);
    const [first, second, third] = lines;
    assert.equal(typeof first?.time, 'string');
    assert.ok(!Number.isNaN(Date.parse(first?.time as string)));
    const { time: _time, ...rest } = first ?? {};
    assert.deepEqual(rest, { log: 'access', method: 'GET', path: '/login', status: 200, backend: 'a', durationMs: 12.5, bytesIn: 512, bytesOut: 0, remoteAddress: '10.0.0.7', retries: 0 });
    assert.equal(second?.backend, null);
    assert.equal(second?.remoteAddress, null);
    assert.equal(second?.status, 503);
    assert.equal(second?.retries, 2);
    assert.equal(second?.method, 'POST');
    assert.equal(third?.path, '/');
    // An access line is not a diagnostic line.
    assert.ok(!('level' in (first ?? {})) && !('pid' in (first ?? {})) && !('hostname' in (first ?? {})));
  }));

test('close() flushes everything written before it, twice is fine, later writes are dropped', () =>
  withDir(async (dir) => {
    const file = join(dir, 'access.log');
    await writeFile(file, '');
    const log = new AccessLog({ destination: file });
    for (let i = 0; i < 500; i++) log.write(entry({ path: `/n/${i}?q=${i}`, status: 200 + (i % 3) }));
    const closing = log.close();
    assert.equal(log.close(), closing);
    await closing;
    await log.close();
    log.write(entry({ path: '/late' }));

    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 500);
    assert.equal((JSON.parse(lines[499] as string) as { path: string }).path, '/n/499');
  }));

test('an unwritable path throws from the constructor', () =>
  withDir(async (dir) => {
    const blocker = join(dir, 'file');
    await writeFile(blocker, 'x');
    assert.throws(() => new AccessLog({ destination: join(blocker, 'access.log') }), { code: 'EEXIST' });
    assert.throws(() => new AccessLog({ destination: dir }), { code: 'EISDIR' });
  }));

test('a failing write emits error once, disables the log, and close() still settles', { skip: !existsSync('/dev/full') }, async () => {
  const log = new AccessLog({ destination: '/dev/full' }); // every write fails with ENOSPC
  const errors: Error[] = [];
  log.on('error', (err) => errors.push(err));
  const first = once(log, 'error');
  log.write(entry());
  await first;
  log.write(entry());
  await log.close();
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as NodeJS.ErrnoException).code, 'ENOSPC');
});

test('stdout and stderr destinations are flushed on close and left open', async () => {
  for (const destination of ['stdout', 'stderr']) {
    const log = new AccessLog({ destination });
    await log.close();
    await log.close();
  }
  // The process's own streams still work.
  assert.ok(process.stdout.write(''));
});
