/**
 * docs/configuration.md says what every default is; this test holds it to the code. Each table row whose Default
 * cell is a literal (`8080`, `"round-robin"`, `true`, `[]`) or "none" is compared with what `validateConfig` gives
 * for a config that sets nothing in that block. Rows whose default is prose (a formula, "see below") are skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/index.js';
import { ROOT } from '../helpers/cli.js';

const BASE = { backends: [{ url: 'http://127.0.0.1:3000' }] };
/** Section heading -> where its fields live in the resolved config, table by table, and a config that turns it on. */
const SECTIONS: Record<string, { prefixes: string[]; input?: Record<string, unknown> }> = {
  'Top-level fields': { prefixes: [''] },
  'Health checks': { prefixes: ['health.'] },
  'Sticky sessions': { prefixes: ['sticky.'] },
  Admin: { prefixes: ['admin.'] },
  Timeouts: { prefixes: ['timeouts.'] },
  Limits: { prefixes: ['limits.'] },
  Resilience: { prefixes: ['retries.', 'outlier.'] },
  Alerts: { prefixes: ['alerts.'] },
  Redis: { prefixes: ['redis.'], input: { redis: { url: 'redis://127.0.0.1:6390' }, sticky: { secret: 's' } } },
  'Boot handshake': { prefixes: ['bootHandshake.'], input: { bootHandshake: true } },
};
/** Documented under another name, or resolved elsewhere on purpose. */
const ALIASES: Record<string, string> = { 'health.interval': 'health.intervalMs', 'health.timeout': 'health.timeoutMs' };
/** Rows whose "none" speaks of the input, while the resolved config holds a derived value. */
const SKIP = new Set(['pools', 'fallback', 'redis.url']);

interface Row {
  section: string;
  path: string;
  cell: string;
}

function rows(): Row[] {
  const text = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
  const out: Row[] = [];
  let section = '';
  let table = -1;
  let inTable = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) {
      section = line.slice(3).trim();
      table = -1;
      continue;
    }
    if (line.startsWith('| Field |')) {
      table++;
      inTable = true;
      continue;
    }
    if (!line.startsWith('|')) {
      inTable = false;
      continue;
    }
    if (!inTable || line.startsWith('|---')) continue;
    const spec = SECTIONS[section];
    const prefix = spec?.prefixes[Math.min(table, spec.prefixes.length - 1)];
    if (spec === undefined || prefix === undefined) continue;
    const cells = line.split('|').map((c) => c.trim());
    const field = /^`([A-Za-z.]+)`$/.exec(cells[1] ?? '')?.[1];
    if (field === undefined) continue;
    // A row may already name its block (`alerts.holdMs` in the Alerts table).
    const full = prefix !== '' && field.startsWith(prefix) ? field : prefix + field;
    if (SKIP.has(full)) continue;
    out.push({ section, path: ALIASES[full] ?? full, cell: cells[3] ?? '' });
  }
  return out;
}

/** The literal a Default cell names, `undefined` for "none", or NaN when it is prose. */
function literal(cell: string): unknown {
  const m = /^`([^`]*)`(?: \(.*\))?$/.exec(cell);
  if (cell === 'none') return undefined;
  if (m === null) return Number.NaN;
  const raw = m[1] as string;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return Number.NaN;
  }
}

function at(config: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v === null || v === undefined ? undefined : (v as Record<string, unknown>)[k]), config);
}

test('every literal default in docs/configuration.md is the one the code applies', () => {
  const checked: string[] = [];
  const wrong: string[] = [];
  for (const row of rows()) {
    const expected = literal(row.cell);
    if (typeof expected === 'number' && Number.isNaN(expected)) continue;
    const config = validateConfig({ ...BASE, ...(SECTIONS[row.section]?.input ?? {}) });
    let actual = at(config, row.path);
    // Blocks that are on by default document `true`; the resolved form is the block's object.
    if (expected === true && typeof actual === 'object' && actual !== null) actual = true;
    if (expected === undefined && (actual === false || actual === null)) actual = undefined;
    checked.push(row.path);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) wrong.push(`${row.path}: docs say ${row.cell}, the code gives ${JSON.stringify(actual)}`);
  }
  assert.deepEqual(wrong, []);
  assert.ok(checked.length >= 40, `only ${checked.length} rows checked: ${checked.join(', ')}`);
});
