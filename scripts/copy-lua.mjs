#!/usr/bin/env node
/**
 * Copies every `src/**\/*.lua` beside the compiled JavaScript (tsc copies only what it compiles):
 * `node scripts/copy-lua.mjs dist` for the package, `node scripts/copy-lua.mjs .test-build/src` for the tests.
 */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, process.argv[2] ?? 'dist');
const src = join(root, 'src');
let copied = 0;
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.lua')) continue;
  const from = join(entry.parentPath ?? entry.path, entry.name);
  const to = join(out, relative(src, from));
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to);
  copied++;
}
if (copied === 0) {
  console.error('copy-lua: no .lua file under src/');
  process.exit(1);
}
