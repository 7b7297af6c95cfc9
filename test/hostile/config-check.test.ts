/**
 * `keyway check` on configs built to break it: values that would split a header or a request line at run time, a
 * limit past what node can hold, nesting deep enough to overflow a recursive reader, a JS config whose promise
 * rejects or whose getter throws. Each is one line naming the field (or the file) and exit 2, never a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keyway-check-'));
const BACKEND = { url: 'http://127.0.0.1:1' };

/** `{"backends":[...],"email":{"a":{"a":...}}}` written as text (JSON.stringify itself overflows on it). */
function nestedEmail(depth: number): string {
  return `{"backends":[${JSON.stringify(BACKEND)}],"email":${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}}`;
}

const cases: { name: string; file: string; content: string; line: RegExp }[] = [
  { name: 'a health header value with CR/LF', file: 'h1.json', content: JSON.stringify({ backends: [BACKEND], health: { headers: { 'x-token': 'a\r\nInjected: 1' } } }), line: /^ {2}health\.headers\.x-token: must not contain CR, LF/m },
  { name: 'a backend health header value with LF', file: 'h1b.json', content: JSON.stringify({ backends: [{ ...BACKEND, healthHeaders: { 'x-a': 'a\nb' } }] }), line: /^ {2}backends\.0\.healthHeaders\.x-a: must not contain CR, LF/m },
  { name: 'a webhook header value with CR', file: 'h1c.json', content: JSON.stringify({ backends: [BACKEND], alerts: { webhooks: [{ url: 'http://127.0.0.1:9/hook', headers: { authorization: 'x\ry' } }] } }), line: /^ {2}alerts\.webhooks\.0\.headers\.authorization: must not contain/m },
  { name: 'health.path with CR/LF', file: 'h2.json', content: JSON.stringify({ backends: [BACKEND], health: { path: '/health\r\nX: y' } }), line: /^ {2}health\.path: must not contain spaces, control characters/m },
  { name: 'a pool health path with a space', file: 'h2b.json', content: JSON.stringify({ pools: { api: { backends: [BACKEND], health: { path: '/a b' } } } }), line: /^ {2}pools\.api\.health\.path: must not contain/m },
  { name: 'a backend URL with CR/LF', file: 'h3.json', content: JSON.stringify({ backends: [{ url: 'http://127.0.0.1:1/a\r\nb' }] }), line: /^ {2}backends\.0\.url: must not contain spaces or control characters/m },
  { name: 'a backend URL with a tab in the host', file: 'h3b.json', content: JSON.stringify({ backends: [{ url: 'http://127.0.\t0.1:1/' }] }), line: /^ {2}backends\.0\.url: must not contain/m },
  { name: 'limits.maxHeaderBytes: 1e12', file: 'h4.json', content: JSON.stringify({ backends: [BACKEND], limits: { maxHeaderBytes: 1e12 } }), line: /^ {2}limits\.maxHeaderBytes: must be an integer from 1024 to 1048576$/m },
  { name: 'a timeout past what a node timer holds', file: 'h4b.json', content: JSON.stringify({ backends: [BACKEND], timeouts: { connectMs: 1e12 } }), line: /^ {2}timeouts\.connectMs: must be at most 2147483647/m },
  { name: 'a weight of 1e308', file: 'h4c.json', content: JSON.stringify({ backends: [{ ...BACKEND, weight: 1e308 }] }), line: /^ {2}backends\.0\.weight: must be at most 1000000$/m },
  { name: 'an email block nested 5,000 levels deep', file: 'h5.json', content: nestedEmail(5000), line: /^ {2}email(\.a)+: nested more than 32 levels deep$/m },
  { name: 'a config nested 200,000 levels deep', file: 'h5b.json', content: nestedEmail(200_000), line: /^(keyway: .*h5b\.json: invalid JSON| {2}email(\.a)+: nested more than 32 levels deep$)/m },
  { name: 'a JS config exporting a rejected promise', file: 'h6.mjs', content: 'export default Promise.reject(new Error("vault unreachable"));\n', line: /^keyway: .*h6\.mjs: config promise rejected: vault unreachable$/m },
  { name: 'a JS config whose function rejects', file: 'h6b.mjs', content: 'export default async () => { throw new Error("no secrets"); };\n', line: /^keyway: .*h6b\.mjs: config function failed: no secrets$/m },
  { name: 'a JS config with a throwing getter', file: 'h7.mjs', content: 'export default { get backends() { throw new Error("getter said no"); } };\n', line: /^ {2}backends: cannot be read: getter said no$/m },
  { name: 'a JS config with a throwing getter deep inside', file: 'h7b.mjs', content: 'export default { backends: [{ url: "http://127.0.0.1:1", get weight() { throw new Error("boom"); } }] };\n', line: /^ {2}backends\.0\.weight: cannot be read: boom$/m },
];

for (const c of cases) {
  test(`keyway check: ${c.name} is one line and exit 2`, { timeout: 20_000 }, async () => {
    const file = join(dir, c.file);
    writeFileSync(file, c.content);
    const { code, stderr, stdout } = await runCli(['check', '--config', file]);
    assert.equal(code, 2, `stdout: ${stdout}\nstderr: ${stderr}`);
    assert.match(stderr, c.line);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    assert.ok(stderr.split('\n').filter(Boolean).length <= 3, stderr);
  });
}
