/** @module test/config/load: JSON, YAML and JS config files, and the errors that name file, line and column. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, loadConfigFile, type BackendInfo, type Candidate } from '../../src/config/index.js';
import { ConfigError, ConfigLoadError, ErrorCodes } from '../../src/errors.js';

let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyway-config-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `text` to a fresh file in the temp dir and returns its path. */
async function fixture(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** Asserts that `promise` rejects with a ConfigLoadError whose message is exactly `message`. */
async function rejectsWith(promise: Promise<unknown>, message: string | RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ConfigLoadError, `expected ConfigLoadError, got ${String(err)}`);
    assert.equal(err.code, ErrorCodes.CONFIG_LOAD);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('loadConfigFile: JSON', () => {
  it('parses a JSON file (with a BOM)', async () => {
    const file = await fixture('ok.json', '\uFEFF{ "port": 3001, "backends": [{ "id": 0, "url": "http://localhost:5000" }] }');
    assert.deepEqual(await loadConfigFile(file), { port: 3001, backends: [{ id: 0, url: 'http://localhost:5000' }] });
  });

  it('reports the line and column of a syntax error that V8 gives a position for', async () => {
    const file = await fixture('bad1.json', '{\n  "port": 3001\n  "backends": []\n}\n');
    await rejectsWith(loadConfigFile(file), `${file}: invalid JSON at line 3 column 3: Expected ',' or '}' after property value`);
  });

  it('reports the line of a trailing comma in an array (no position in the V8 message on Node 20)', async () => {
    const file = await fixture('bad2.json', '{\n  "backends": [\n    { "url": "http://a" },\n  ]\n}\n');
    await rejectsWith(loadConfigFile(file), `${file}: invalid JSON at line 4 column 3: Unexpected token ']'`);
  });

  it('reports the end of a truncated file', async () => {
    const file = await fixture('bad3.json', '{\n  "port": 1,\n');
    await rejectsWith(loadConfigFile(file), `${file}: invalid JSON at line 3 column 1: Expected double-quoted property name`);
  });

  it('reports a missing file with its errno', async () => {
    const file = join(dir, 'missing.json');
    await rejectsWith(loadConfigFile(file), new RegExp(`^cannot read config ${escape(file)}: ENOENT`));
  });

  it('refuses an unknown extension', async () => {
    const file = await fixture('config.toml', 'port = 1');
    await rejectsWith(loadConfigFile(file), `${file}: unsupported config extension ".toml" (expected .json, .yaml, .yml, .js, .mjs or .cjs)`);
  });
});

describe('loadConfigFile: YAML', () => {
  it('parses .yaml and .yml', async () => {
    const text = 'port: 3001\nbackends:\n  - id: a\n    url: http://localhost:5000\n';
    const expected = { port: 3001, backends: [{ id: 'a', url: 'http://localhost:5000' }] };
    assert.deepEqual(await loadConfigFile(await fixture('ok.yaml', text)), expected);
    assert.deepEqual(await loadConfigFile(await fixture('ok.yml', text)), expected);
  });

  it('reports the line of a YAML error', async () => {
    const file = await fixture('bad.yaml', 'port: 3001\nbackends:\n  - url: http://a\nport: 3002\n');
    await rejectsWith(loadConfigFile(file), `${file}: invalid YAML at line 4 column 1: Map keys must be unique`);
  });
});

describe('loadConfigFile: JS modules', () => {
  it('loads a .mjs default export with a function strategy and a health check', async () => {
    const file = await fixture(
      'fn.mjs',
      `export default {
  port: 3002,
  strategy: (candidates) => candidates[candidates.length - 1],
  health: { check: async (backend) => backend.url.endsWith('5000') },
  backends: [{ id: 'a', url: 'http://localhost:5000' }, { id: 'b', url: 'http://localhost:5001', healthCheck: () => false }],
};\n`,
    );
    const config = await loadConfig(file);
    assert.equal(config.port, 3002);
    assert.equal(typeof config.strategy, 'function');
    const candidates: Candidate[] = [
      { id: 'a', weight: 1, inflight: 0 },
      { id: 'b', weight: 1, inflight: 0 },
    ];
    assert.equal(typeof config.strategy === 'function' ? config.strategy(candidates, {})?.id : undefined, 'b');
    const [a, b] = config.backends;
    assert.ok(a?.health.check && b?.health.check);
    const info = (url: string): BackendInfo => ({ id: 'x', url });
    assert.equal(await a.health.check(info('http://localhost:5000')), true);
    assert.equal(await b.health.check(info('http://localhost:5000')), false);
  });

  it('calls and awaits a default-exported function', async () => {
    const file = await fixture('factory.mjs', `export default async () => ({ backends: [{ url: 'http://localhost:' + (4000 + 1) }] });\n`);
    assert.deepEqual(await loadConfigFile(file), { backends: [{ url: 'http://localhost:4001' }] });
  });

  it('uses the named exports when there is no default', async () => {
    const file = await fixture('named.mjs', `export const port = 3003;\nexport const backends = [{ url: 'http://a' }];\n`);
    assert.deepEqual(await loadConfigFile(file), { port: 3003, backends: [{ url: 'http://a' }] });
  });

  it('loads CommonJS', async () => {
    const file = await fixture('config.cjs', `module.exports = { backends: [{ url: 'http://a' }] };\n`);
    assert.deepEqual(await loadConfigFile(file), { backends: [{ url: 'http://a' }] });
  });

  it('wraps a module that throws, and a factory that rejects', async () => {
    const throws = await fixture('throws.mjs', `throw new Error('boom');\n`);
    await rejectsWith(loadConfigFile(throws), `${throws}: cannot load config module: boom`);
    const rejects = await fixture('rejects.mjs', `export default async () => { throw new Error('no secrets'); };\n`);
    await rejectsWith(loadConfigFile(rejects), `${rejects}: config function failed: no secrets`);
  });

  it('reports a missing module file like a missing JSON file', async () => {
    const file = join(dir, 'missing.mjs');
    await rejectsWith(loadConfigFile(file), new RegExp(`^cannot read config ${escape(file)}: ENOENT`));
  });
});

describe('loadConfig', () => {
  it('validates what it loaded and applies overrides', async () => {
    const file = await fixture('full.json', '{ "port": 3001, "backends": [{ "url": "http://localhost:5000" }] }');
    const config = await loadConfig(file, { port: 9000 });
    assert.equal(config.port, 9000);
    assert.ok(Object.isFrozen(config));
  });

  it('throws ConfigError for invalid content', async () => {
    const file = await fixture('invalid.yaml', 'backends: []\n');
    await assert.rejects(loadConfig(file), (err: unknown) => err instanceof ConfigError && err.issues[0]?.message === 'must contain at least 1 backend');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
