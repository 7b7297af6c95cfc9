#!/usr/bin/env node
/* global URL, process -- Node */
/**
 * The one command of the rooms-chat example (see README.md next to this file):
 *
 *   node examples/rooms-chat/start.mjs [--port 8080] [--instances 3] [--redis URL] [--json] [--build]
 *
 * Runs the compiled example (test/e2e/rooms-chat/, built into .test-build/ by the test build). When that build is
 * missing, or with --build, it builds first: `npx tsc -p tsconfig.test.json && node scripts/copy-lua.mjs .test-build/src`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cluster = fileURLToPath(new URL('../../.test-build/test/e2e/rooms-chat/cluster.js', import.meta.url));
const args = process.argv.slice(2);
const build = args.includes('--build');

if (build || !existsSync(cluster)) {
  process.stderr.write('rooms-chat: building (npx tsc -p tsconfig.test.json && node scripts/copy-lua.mjs .test-build/src)...\n');
  const steps = [
    ['npx', ['tsc', '-p', 'tsconfig.test.json']],
    [process.execPath, ['scripts/copy-lua.mjs', '.test-build/src']],
  ];
  for (const [command, argv] of steps) {
    const r = spawnSync(command, argv, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      process.stderr.write(`rooms-chat: the build failed (${command} ${argv.join(' ')})\n`);
      process.exit(1);
    }
  }
}

const { runCli } = await import(pathToFileURL(cluster).href);
await runCli(args.filter((a) => a !== '--build'));
