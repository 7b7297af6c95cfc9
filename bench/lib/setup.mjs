/**
 * @module bench/lib/setup: installs what the bench needs and is missing: keyway's build output, nginx, HAProxy, wrk
 * (and redis-server for the coordinator) from Debian's packages, the Node peers from npm (devDependencies). Nothing is
 * started as a system service: every peer runs in the foreground with its own config.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const APT = { nginx: 'nginx', haproxy: 'haproxy', wrk: 'wrk', 'redis-server': 'redis-server', taskset: 'util-linux' };
const NODE_PEERS = ['http-proxy', 'http-proxy-middleware', '@fastify/http-proxy', 'express', 'fastify', 'ws'];

function has(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(cmd, args, opts = {}) {
  console.error(`bench: ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: REPO, ...opts });
}

/** apt-get install of the commands in `commands` that are missing (one `apt-get update` first if the install fails). */
export function ensureCommands(commands) {
  const missing = [...new Set(commands.filter((c) => !has(c)).map((c) => APT[c] ?? c))];
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    run('apt-get', ['install', '-y', '-qq', ...missing], { env });
  } catch {
    run('apt-get', ['update', '-qq'], { env });
    run('apt-get', ['install', '-y', '-qq', ...missing], { env });
  }
}

/** `npm install` when a Node peer is not resolvable (they are exact-pinned devDependencies). */
export function ensureNodePeers() {
  const require = createRequire(new URL('../../package.json', import.meta.url));
  const missing = NODE_PEERS.filter((name) => {
    try {
      require.resolve(`${name}/package.json`);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) run('npm', ['install', '--no-audit', '--no-fund']);
}

/** keyway's build output the bench runs: KEYWAY_BENCH_DIST (a snapshot, or a test build of a branch), else dist/. */
export function distDir() {
  return process.env.KEYWAY_BENCH_DIST ?? join(REPO, 'dist');
}

/**
 * Copies the build output to bench/.dist-snapshot/ and points distDir() at the copy, so that a rebuild by someone
 * else during a long run cannot mix two builds in one report. Returns `{ source, built, remove() }`.
 */
export function snapshotDist() {
  const source = distDir();
  const built = statSync(join(source, 'cli', 'main.js')).mtime.toISOString();
  // Inside the repository, so that the copy still resolves node_modules.
  const copy = join(REPO, 'bench', '.dist-snapshot', String(process.pid));
  cpSync(source, copy, { recursive: true, filter: (f) => !f.endsWith('.map') && !f.endsWith('.d.ts') });
  process.env.KEYWAY_BENCH_DIST = copy;
  const remove = () => rmSync(copy, { recursive: true, force: true });
  // Also when the run is interrupted (procs.killOnExit turns signals into process.exit).
  process.once('exit', remove);
  return { source, built, remove };
}

/** Builds keyway when `dist/` has no CLI. An existing build is used as it is (the report names its time). */
export function ensureBuild() {
  if (!existsSync(new URL('../../dist/cli/main.js', import.meta.url))) run('npm', ['run', 'build']);
}

/** Versions of everything measured, for the report. */
export function versions() {
  const out = (cmd, args) => {
    try {
      // nginx -v and haproxy -v differ in which stream they print to: read both.
      return execFileSync('sh', ['-c', '"$0" "$@" 2>&1', cmd, ...args]).toString();
    } catch (err) {
      return `${err.stdout ?? ''}${err.stderr ?? ''}`;
    }
  };
  const require = createRequire(new URL('../../package.json', import.meta.url));
  const pkg = (name) => require(`${name}/package.json`).version;
  return {
    node: process.version,
    keyway: require('./package.json').version,
    nginx: /nginx\/(\S+)/.exec(out('nginx', ['-v']))?.[1],
    haproxy: /version (\S+)/.exec(out('haproxy', ['-v']))?.[1],
    wrk: /wrk (\S+)/.exec(out('wrk', ['-v']))?.[1],
    'http-proxy': pkg('http-proxy'),
    'http-proxy-middleware': pkg('http-proxy-middleware'),
    '@fastify/http-proxy': pkg('@fastify/http-proxy'),
    express: pkg('express'),
    fastify: pkg('fastify'),
  };
}
