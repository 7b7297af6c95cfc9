import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, NoBackendError, UpstreamError, UpstreamTimeoutError, KeywayError } from '../src/errors.js';
import { ROOT } from './helpers/cli.js';

test('docs/errors.md lists exactly the codes in ErrorCodes', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/`(KW_ERR_[A-Z_]+)`/g)].map((m) => m[1]));
  assert.deepEqual([...documented].sort(), Object.values(ErrorCodes).sort());
});

test('errors carry name, code, statusCode and cause', () => {
  const cause = new Error('inner');
  const e = new UpstreamError('bad gateway', cause);
  assert.ok(e instanceof KeywayError);
  assert.equal(e.name, 'UpstreamError');
  assert.equal(e.code, 'KW_ERR_PROXY_UPSTREAM');
  assert.equal(e.statusCode, 502);
  assert.equal(e.cause, cause);
  assert.equal(new NoBackendError().statusCode, 503);
  assert.equal(new UpstreamTimeoutError().statusCode, 504);
});
