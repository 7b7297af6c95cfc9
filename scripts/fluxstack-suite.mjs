#!/usr/bin/env node
/**
 * Runs @fluxstack/live-redis's own vitest tests against keyway's `keyway-node/fluxstack`, the peer's files unmodified
 * but for their import lines (`../RedisClusterAdapter`, `../RedisRoomAdapter`, `../index` -> `keyway-node/fluxstack`).
 *
 *   node scripts/fluxstack-suite.mjs <peer checkout: a work tree, a git dir, or a dir holding packages/redis/src/__tests__> [test file names...]
 *
 * Test file names are those in packages/redis/src/__tests__ (`RedisClusterAdapter.test.ts`, or without the
 * `.test.ts`); without any, every `*.test.ts` there runs but those in SKIP.
 *
 * Everything happens in a temporary folder: the peer's tests and vitest config are copied there, keyway is packed
 * (`npm pack --ignore-scripts`: its `prepack` would rebuild dist/, which must already be built) and installed there
 * with vitest (the peer monorepo's version), keyway's own ioredis and any other package the tests import, and a
 * private redis-server on the port the tests hardcode (16379, loopback; the run stops if that port is taken, it never
 * shares a server). REQUIRE_REDIS=1 makes the peer's redis-available.ts fail instead of silently skipping. One vitest
 * worker. Prints the suite's summary and exits with its status. Nothing of the peer is copied into keyway.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TIMEOUT_MS = 10 * 60_000;
const ENTRY = 'keyway-node/fluxstack';
const TESTS = 'packages/redis/src/__tests__';
/** The monorepo root's `vitest` when this was written; used when the checkout has no root package.json. */
const DEFAULT_VITEST = '^3.2.4';
/** Default port of the peer's tests, when no file states one. */
const DEFAULT_PORT = 16379;
/**
 * Files left out of a default run (a file named on the command line runs anyway), with the reason. Empty: the
 * white-box delta-dedup file (a stub Redis, `adapter.redis.publish` and `adapter.handleDelta` reached through a cast)
 * runs, keyway keeps both reachable on purpose.
 */
const SKIP = new Map([
  // ['RedisX.test.ts', 'why it cannot run against a black-box adapter'],
]);

const [peer, ...names] = process.argv.slice(2);
if (!peer) {
  console.error('usage: node scripts/fluxstack-suite.mjs <fluxstack-live checkout, git dir, or dir holding packages/redis> [test file names...]');
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist', 'singleton', 'fluxstack', 'index.js'))) {
  console.error('dist/singleton/fluxstack/index.js is missing: build keyway first (npm run build)');
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'kw-fluxstack-'));
const keep = process.env.KEEP === '1';
let redis;
let child;
const cleanup = () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL'); // vitest and its forks: it runs in a process group of its own
    } catch {
      // already gone
    }
  }
  redis?.kill('SIGKILL');
  if (!keep) rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const run = (cmd, args, options = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], timeout: TIMEOUT_MS, ...options }).toString();

// 1. The peer's tests, vitest config and manifests, from a work tree (its root or packages/redis) or a bare git dir.
const peerDir = join(work, 'peer');
mkdirSync(peerDir);
const isGitDir = existsSync(join(peer, 'HEAD')) && existsSync(join(peer, 'objects')) && !existsSync(join(peer, 'packages'));
let pkgDir; // the peer's packages/redis, as copied
let rootManifest = {};
if (isGitDir) {
  const paths = [TESTS, 'packages/redis/vitest.config.ts', 'packages/redis/package.json', 'package.json'];
  const have = run('git', ['--git-dir', resolve(peer), 'ls-tree', '--name-only', 'HEAD', '--', ...paths]).split('\n').filter(Boolean);
  if (!have.includes(TESTS)) fail(`${peer}: HEAD has no ${TESTS}`);
  execFileSync('sh', ['-c', `git --git-dir="${resolve(peer)}" archive HEAD ${have.join(' ')} | tar -x -C "${peerDir}"`], { timeout: TIMEOUT_MS });
  pkgDir = join(peerDir, 'packages', 'redis');
  if (existsSync(join(peerDir, 'package.json'))) rootManifest = readJson(join(peerDir, 'package.json'));
} else {
  const src = existsSync(join(peer, TESTS)) ? join(peer, 'packages', 'redis') : existsSync(join(peer, 'src', '__tests__')) ? peer : undefined;
  if (!src) fail(`${peer}: neither ${TESTS} nor src/__tests__ is there`);
  pkgDir = src;
  const root = resolve(src, '..', '..');
  if (src !== peer || existsSync(join(root, 'packages', 'redis'))) {
    if (existsSync(join(root, 'package.json'))) rootManifest = readJson(join(root, 'package.json'));
  }
}
const manifest = existsSync(join(pkgDir, 'package.json')) ? readJson(join(pkgDir, 'package.json')) : {};
const testsDir = join(work, 'src', '__tests__');
cpSync(join(pkgDir, 'src', '__tests__'), testsDir, { recursive: true });
const config = join(pkgDir, 'vitest.config.ts');
if (existsSync(config)) cpSync(config, join(work, 'vitest.config.ts'));
else writeFileSync(join(work, 'vitest.config.ts'), "export default { test: { globals: true, environment: 'node', include: ['src/__tests__/**/*.test.ts'] } }\n");

// 2. Their import lines point at keyway instead of ../RedisClusterAdapter, ../RedisRoomAdapter, ../index (any `../x`
// out of __tests__ into the seed's src). `./redis-available` and other helpers inside __tests__ stay; nothing but
// `import ... from` lines is touched (a `vi.mock('../X')` would stay as it is: none of the files has one).
let rewritten = 0;
const bare = new Set();
for (const file of walk(testsDir)) {
  if (!/\.[cm]?[jt]s$/.test(file)) continue;
  const text = readFileSync(file, 'utf8');
  const next = text.replace(/^(import\s+(?:type\s+)?)(.+?)\s+from\s+(['"])\.\.\/[^'"]+\3/gm, (_m, head, what) => {
    rewritten++;
    // A default import (`import RedisClusterAdapter from`) becomes the named export of the same name.
    const names = what.trim().startsWith('{') ? what.trim() : `{ ${what.trim()} }`;
    return `${head}${names} from '${ENTRY}'`;
  });
  if (next !== text) writeFileSync(file, next);
  for (const [, spec] of next.matchAll(/(?:^|\s)(?:from|import)\s*\(?\s*['"]([^'".][^'"]*)['"]/gm)) bare.add(spec);
}
const packageOf = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

// The files to run: those named, or every *.test.ts but SKIP.
const all = readdirSync(testsDir).filter((f) => f.endsWith('.test.ts')).sort();
let files;
if (names.length) {
  files = names.map((n) => {
    const f = basename(n);
    const hit = [f, `${f}.test.ts`, `${f}.ts`].find((c) => all.includes(c));
    if (!hit) fail(`no test file ${n} in ${TESTS} (there: ${all.join(', ')})`);
    return hit;
  });
} else {
  files = all.filter((f) => !SKIP.has(f));
  for (const f of all.filter((x) => SKIP.has(x))) console.log(`skipped ${f}: ${SKIP.get(f)}`);
}

// The port the tests hardcode (REDIS_PORT / REDIS_TEST_PORT, host 127.0.0.1), from their own constants.
const ports = new Set();
for (const file of walk(testsDir)) {
  for (const [, p] of readFileSync(file, 'utf8').matchAll(/REDIS_(?:TEST_)?PORT\s*=\s*(\d+)/g)) ports.add(Number(p));
}
if (ports.size > 1) fail(`the peer's tests name more than one Redis port: ${[...ports].join(', ')}`);
const port = ports.size ? [...ports][0] : DEFAULT_PORT;
if (port === 6379) fail('the peer\'s tests point at 6379, the usual shared Redis: refusing to run them');
const portTaken = () => fail(`127.0.0.1:${port} is in use: the peer's tests hardcode it, and this script only runs them against its own redis-server. Free the port and retry.`);
if (!(await portFree(port))) portTaken(); // before the slow part; checked again just before redis-server starts

// 3. keyway packed (its prepack would rebuild dist/: --ignore-scripts), with vitest, keyway's ioredis, and whatever
// else the tests import (versions from the peer's manifests).
const self = readJson(join(ROOT, 'package.json'));
const lock = readJson(join(ROOT, 'package-lock.json'));
const ioredis = lock.packages?.['node_modules/ioredis']?.version ?? self.dependencies.ioredis;
const ignoreScripts = self.scripts?.prepack || self.scripts?.prepare ? ['--ignore-scripts'] : [];
const tarball = run('npm', ['pack', '--silent', ...ignoreScripts, '--pack-destination', work], { cwd: ROOT }).trim().split('\n').pop();
const peerDeps = { ...rootManifest.dependencies, ...rootManifest.devDependencies, ...manifest.dependencies, ...manifest.devDependencies };
const vitest = peerDeps.vitest ?? DEFAULT_VITEST;
const extra = [...new Set([...bare].map(packageOf))]
  .filter((p) => !p.startsWith('node:') && !['vitest', 'ioredis', 'keyway-node'].includes(p))
  .map((p) => (peerDeps[p] ? `${p}@${peerDeps[p]}` : p));
writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'kw-fluxstack-suite', private: true, type: 'module' }, null, 2));
run('npm', ['install', '--no-audit', '--no-fund', '--silent', join(work, tarball), `vitest@${vitest}`, `ioredis@${ioredis}`, ...extra], { cwd: work });
const vitestVersion = readJson(join(work, 'node_modules', 'vitest', 'package.json')).version;

// 4. A private redis-server on the tests' port, which must be free on loopback (never someone else's server).
if (!(await portFree(port))) portTaken();
redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work], { stdio: 'ignore' });
redis.on('error', (err) => fail(`redis-server: ${err.message}`));
await waitForPort(port);
// The server answering must be ours (a race for the port would otherwise go unseen).
const pid = /process_id:(\d+)/.exec(run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'INFO', 'server']))?.[1];
if (Number(pid) !== redis.pid) portTaken();

// 5. The suite, one worker, with each test's name and result, and vitest's summary.
console.log(
  `peer suite: ${files.length} files, ${rewritten} import lines (of ${all.length} test files) pointed at ${ENTRY}, vitest ${vitestVersion}, ioredis ${ioredis}` +
    `${extra.length ? `, ${extra.join(' ')}` : ''}, redis on 127.0.0.1:${port}`,
);
const results = join(work, 'vitest-results.json');
child = spawn(
  join(work, 'node_modules', '.bin', 'vitest'),
  [
    'run',
    '--config', 'vitest.config.ts',
    '--reporter=verbose',
    '--reporter=json',
    `--outputFile.json=${results}`,
    // One worker, one file at a time: 2 cores, shared with whoever else is testing.
    '--pool=forks',
    '--poolOptions.forks.singleFork',
    '--no-file-parallelism',
    ...files.map((f) => `src/__tests__/${f}`),
  ],
  { cwd: work, env: { ...process.env, REQUIRE_REDIS: '1' }, stdio: 'inherit', detached: true },
);
const timer = setTimeout(() => {
  console.error(`vitest still running after ${TIMEOUT_MS / 60_000} min: killed`);
  process.kill(-child.pid, 'SIGKILL');
}, TIMEOUT_MS);
child.on('exit', (code) => {
  clearTimeout(timer);
  summarize();
  process.exit(code ?? 1);
});

/** One line per file (passed / failed / skipped), then each failure's name and first line of error. */
function summarize() {
  if (!existsSync(results)) return;
  const report = readJson(results);
  console.log('\nper file:');
  for (const file of report.testResults ?? []) {
    const count = (s) => file.assertionResults.filter((a) => a.status === s).length;
    const skipped = file.assertionResults.length - count('passed') - count('failed');
    console.log(`  ${basename(file.name)}: ${count('passed')} passed, ${count('failed')} failed, ${skipped} skipped${file.status === 'failed' && !file.assertionResults.length ? ` (file failed: ${firstLine(file.message)})` : ''}`);
    for (const a of file.assertionResults.filter((x) => x.status === 'failed')) {
      console.log(`    x ${a.fullName}: ${firstLine(a.failureMessages?.[0])}`);
    }
  }
}

function firstLine(text = '') {
  return String(text).split('\n').find((l) => l.trim()) ?? '';
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

function portFree(p) {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(p, '127.0.0.1', () => srv.close(() => res(true)));
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
