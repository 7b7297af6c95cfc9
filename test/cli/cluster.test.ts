/**
 * `keyway cluster APP`: an unchanged app (it calls `listen(PORT)`) on 2 workers behind one port, as a real CLI
 * process. Usage errors exit 2; SIGHUP replaces every worker with no failed request; SIGTERM lets a request in
 * flight finish, then exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { CLI, runCli, tempFile } from '../helpers/cli.js';

const APP = tempFile(
  'app.mjs',
  `import http from 'node:http';
const server = http.createServer((req, res) => {
  const answer = () => res.end(String(process.pid));
  if (req.url === '/slow') setTimeout(answer, 400); else answer();
});
server.listen(Number(process.env.PORT ?? 3000));
`,
);

async function startCluster(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [CLI, 'cluster', APP, '--workers', '2', '--port', '0', '--host', '127.0.0.1', '--grace-ms', '3000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (c) => (out += c));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`keyway cluster did not start:\n${out}`)), 15_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /"port":(\d+).*cluster listening/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`keyway cluster exited with ${code}:\n${out}`)));
  });
  return { child, port };
}

const get = async (port: number, path = '/'): Promise<string> => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } });
  assert.equal(r.status, 200);
  return r.text();
};

test('cluster usage errors exit 2 with one line', { timeout: 20_000 }, async () => {
  for (const [args, text] of [
    [['cluster'], /cluster needs the app/],
    [['cluster', APP, '--workers', '0'], /--workers: must be a whole number >= 1 or auto/],
    [['cluster', '/no/such/app.js'], /no such file \/no\/such\/app.js/],
    [['cluster', 'reload'], /cluster reload needs --pid-file FILE or --pid N/],
  ] as const) {
    const r = await runCli([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, text);
  }
});

test('two workers share the port; SIGHUP replaces both with no failed request; SIGTERM finishes the request in flight and exits 0', { timeout: 45_000 }, async () => {
  const { child, port } = await startCluster();
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) seen.add(await get(port));
  assert.equal(seen.size, 2, 'both workers answer');

  let failures = 0;
  let stop = false;
  const load = (async () => {
    while (!stop) await get(port).catch(() => failures++);
  })();
  child.kill('SIGHUP');
  const replaced = new Set<string>();
  const until = Date.now() + 20_000;
  while (Date.now() < until && [...replaced].filter((p) => !seen.has(p)).length < 2) replaced.add(await get(port));
  stop = true;
  await load;
  assert.equal([...replaced].filter((p) => !seen.has(p)).length, 2, 'both workers were replaced');
  assert.equal(failures, 0, 'no request failed during the reload');

  const slow = get(port, '/slow');
  await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  assert.match(await slow, /^\d+$/, 'the request in flight got its answer');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});
