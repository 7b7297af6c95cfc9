import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { startBackend, type TestBackend } from '../helpers/backends.js';
import { serveCli, tempFile } from '../helpers/cli.js';

const SIZE = 100 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'k');
/** The gateway process's peak RSS must stay far below the 200 MB that went through it. */
const PEAK_RSS_LIMIT_KB = 160 * 1024;

const backends: TestBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

function generate(size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      sent += CHUNK.length;
      this.push(CHUNK);
    },
  });
}

function peakRssKb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

test('100 MB upload and 100 MB download stream through the gateway with bounded memory', { timeout: 120_000 }, async () => {
  const b = await startBackend('big', (req, res) => {
    if (req.method === 'POST') {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
      return;
    }
    res.writeHead(200, { 'content-length': String(SIZE) });
    generate(SIZE).pipe(res);
  });
  backends.push(b);
  const config = tempFile('stream.json', JSON.stringify({ backends: [{ id: 1, url: b.url }], health: { path: '/health' }, sticky: { secret: 'x' } }));
  const gw = await serveCli(config);
  try {
    const up = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, method: 'POST', path: '/upload', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      generate(SIZE).pipe(req);
    });
    assert.equal(Number(up), SIZE);

    const down = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: gw.port, path: '/download' }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve(n));
        res.on('error', reject);
      }).on('error', reject);
    });
    assert.equal(down, SIZE);
    const peak = peakRssKb(gw.child.pid!);
    assert.ok(peak < PEAK_RSS_LIMIT_KB, `gateway peak RSS ${peak} kB`);
  } finally {
    gw.child.kill('SIGTERM');
    await once(gw.child, 'exit');
  }
});
