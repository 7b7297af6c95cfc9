import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const observe = new URL('../../src/observe/index.js', import.meta.url).href;

/** Runs `body` in a child process with createLogger imported; returns its stdout lines. */
async function linesOf(body: string): Promise<string[]> {
  const script = `import { createLogger } from ${JSON.stringify(observe)};\n${body}`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, KEYWAY_LOG_LEVEL: 'info' },
  });
  return stdout.trimEnd().split('\n');
}

test('createLogger narrows to one component, and child({ component }) replaces it', async () => {
  const lines = await linesOf(`
    const root = createLogger();
    root.info('root');
    root.child({ component: 'gateway' }).info('gw');
    root.child({ component: 'gateway' }).child({ component: 'health', backend: 'a' }).info('nested');
    createLogger('cli').info('cli');
  `);
  const components = (line: string) => [...line.matchAll(/"component":"([^"]*)"/g)].map((m) => m[1]);
  assert.equal(lines.length, 4);
  const byMsg = new Map(lines.map((l) => [(JSON.parse(l) as { msg: string }).msg, l]));
  assert.deepEqual(components(byMsg.get('root') ?? ''), ['keyway']);
  assert.deepEqual(components(byMsg.get('gw') ?? ''), ['gateway']);
  assert.deepEqual(components(byMsg.get('nested') ?? ''), ['health']);
  assert.deepEqual(components(byMsg.get('cli') ?? ''), ['cli']);
  const nested = JSON.parse(byMsg.get('nested') ?? '{}') as Record<string, unknown>;
  assert.equal(nested.app, 'keyway');
  assert.equal(nested.backend, 'a');
});

test('the level is kept by children', async () => {
  const lines = await linesOf(`
    const log = createLogger('x', 'warn');
    log.child({ component: 'y' }).info('dropped');
    log.child({ component: 'y' }).warn('kept');
  `);
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { msg: string }).msg), ['kept']);
});
