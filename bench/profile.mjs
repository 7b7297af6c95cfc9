#!/usr/bin/env node
/**
 * @module bench/profile: where keyway's CPU goes under load. Starts the Node backends and keyway (minimal config by
 * default) with `node --cpu-prof`, drives it with wrk like the HTTP benchmark (pinned the same way), stops it
 * gracefully so the profile is written, and prints the top functions by self time.
 *
 *   node bench/profile.mjs [--seconds 20] [--config minimal|realistic] [--top 25]
 *   node bench/profile.mjs FILE.cpuprofile [--top 25]          (only summarise an existing profile)
 *
 * Writes bench/results/<date>-profile.md; with --keep, the .cpuprofile too (else it stays in a temp directory that is
 * removed).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { startNodeBackends } from './backends/node-backend.mjs';
import { freePort, killOnExit, LOAD_CPU, pinSelf, stop, stopAll, waitForPort } from './lib/procs.mjs';
import { ensureBuild, ensureCommands, ensureNodePeers, REPO, snapshotDist } from './lib/setup.mjs';
import { runWrk } from './lib/wrk.mjs';
import keyway, { realistic } from './peers/keyway.mjs';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '20' },
    config: { type: 'string', default: 'minimal' },
    top: { type: 'string', default: '25' },
    keep: { type: 'boolean', default: false },
  },
});

/**
 * Self time per function from a .cpuprofile: each sample's time delta is charged to the node it landed in; nodes of
 * the same function (same name, script and position) are added up.
 */
export function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const { total, selfById } = selfTimesById(profile);
  const byFunction = new Map();
  for (const [id, us] of selfById) {
    const { callFrame } = byId.get(id);
    const key = `${callFrame.functionName}|${callFrame.url}|${callFrame.lineNumber}|${callFrame.columnNumber}`;
    const entry = byFunction.get(key) ?? { ...callFrame, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }
  return { total, functions: [...byFunction.values()].sort((a, b) => b.us - a.us) };
}

/**
 * Total (self + callees) time per keyway function: which of keyway's own functions the Node internals above are
 * spent under. A function that recurses is counted once, at its outermost frame.
 */
export function keywayTotals(profile) {
  const { total, selfById } = selfTimesById(profile);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const keyOf = (node) => `${node.callFrame.functionName}|${node.callFrame.url}|${node.callFrame.lineNumber}`;
  const totals = new Map();
  const visit = (id, open) => {
    const node = byId.get(id);
    const key = keyOf(node);
    const mine = origin(node.callFrame.url) === 'keyway' && !open.has(key);
    if (mine) open.add(key);
    let sum = selfById.get(id) ?? 0;
    for (const child of node.children ?? []) sum += visit(child, open);
    if (mine) {
      open.delete(key);
      const entry = totals.get(key) ?? { ...node.callFrame, us: 0 };
      entry.us += sum;
      totals.set(key, entry);
    }
    return sum;
  };
  visit(profile.nodes[0].id, new Set());
  return { total, functions: [...totals.values()].sort((a, b) => b.us - a.us) };
}

function selfTimesById(profile) {
  const selfById = new Map();
  let total = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i > 0 ? i - 1 : 0];
    selfById.set(id, (selfById.get(id) ?? 0) + (timeDeltas[i] ?? 0));
    total += timeDeltas[i] ?? 0;
  }
  return { total, selfById };
}

/** Where a script lives: keyway's own code, a dependency, Node's internals, or V8 (no URL). */
function origin(url) {
  if (!url) return 'v8/native';
  if (url.startsWith('node:')) return 'node';
  if (url.includes('/node_modules/')) return `dep:${url.split('/node_modules/').pop().split('/')[0]}`;
  if (url.includes('/dist/') || url.includes('/.dist-snapshot/')) return 'keyway';
  return 'other';
}

function location(fn) {
  if (!fn.url) return '';
  const path = fn.url.startsWith('file://') ? relative(REPO, new URL(fn.url).pathname) : fn.url;
  // The copy run.mjs and this script take of dist/ (bench/.dist-snapshot/<pid>/) is shown as dist/.
  return `${path.replace(/^bench\/\.dist-snapshot\/\d+\//, 'dist/')}:${fn.lineNumber + 1}`;
}

/** The markdown summary of `profile`. */
export function summarise(profile, top, heading) {
  const { total, functions } = selfTimes(profile);
  const pct = (us) => `${((100 * us) / total).toFixed(1)} %`;
  const rows = functions.slice(0, top).map((fn, i) => [
    i + 1,
    `\`${fn.functionName || '(anonymous)'}\``,
    origin(fn.url),
    location(fn) ? `\`${location(fn)}\`` : '',
    (fn.us / 1000).toFixed(0),
    pct(fn.us),
  ]);
  const byOrigin = new Map();
  for (const fn of functions) {
    const key = ['(idle)', '(program)', '(garbage collector)'].includes(fn.functionName) ? fn.functionName : origin(fn.url);
    byOrigin.set(key, (byOrigin.get(key) ?? 0) + fn.us);
  }
  const keywayRows = keywayTotals(profile).functions.slice(0, 15).map((fn, i) => [
    i + 1,
    `\`${fn.functionName || '(anonymous)'}\``,
    `\`${location(fn)}\``,
    (fn.us / 1000).toFixed(0),
    pct(fn.us),
  ]);
  const originRows = [...byOrigin].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, (us / 1000).toFixed(0), pct(us)]);
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const table = (head, body) => [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
  return `${heading}

Sampled ${(total / 1e6).toFixed(1)} s of the gateway process (${profile.samples.length} samples).

### Top ${top} functions by self time

${table(['#', 'function', 'origin', 'where', 'self ms', 'share'], rows)}

### Self time by origin

${table(['origin', 'self ms', 'share'], originRows)}

### keyway's own functions by total time (self + everything they call)

${table(['#', 'function', 'where', 'total ms', 'share'], keywayRows)}
`;
}

async function profileUnderLoad() {
  killOnExit();
  pinSelf(LOAD_CPU);
  ensureCommands(['wrk', 'taskset']);
  ensureNodePeers();
  ensureBuild();
  const peer = args.config === 'realistic' ? realistic : keyway;
  const snapshot = snapshotDist();
  const dir = mkdtempSync(join(os.tmpdir(), 'keyway-profile-'));
  const profDir = join(dir, 'prof');
  const seconds = Number(args.seconds);
  try {
    const backends = [await freePort(), await freePort()];
    await startNodeBackends(backends);
    const port = await freePort();
    const child = peer.start({ port, backends, dir, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
    await waitForPort(port, { child, timeoutMs: 30_000 });
    const result = await runWrk({ ports: [port], connections: 50, seconds });
    // SIGTERM: keyway shuts down gracefully and exits, which is when node writes the profile.
    await stop(child, 20_000);
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile written:\n${child.output}`);
    const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
    const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
    const outDir = join(REPO, 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    if (args.keep) copyFileSync(join(profDir, file), join(outDir, `${stamp}-profile.cpuprofile`));
    const heading = `# keyway CPU profile — ${stamp.slice(0, 10)}

keyway (${args.config} config, \`node --cpu-prof\`, \`${relative(REPO, snapshot.source) || snapshot.source}\` built ${snapshot.built}) on CPU 1, two Node backends and wrk -t1 -c50 -d${seconds}s on CPU 0:
${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${result.errors} errors
(under the profiler, which slows the process down). The machine is shared with engineers running test suites; load
average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}. The profile covers the whole process life (startup
and shutdown included, which are short next to the load).`;
    const markdown = summarise(profile, Number(args.top), heading);
    writeFileSync(join(outDir, `${stamp}-profile.md`), markdown);
    console.log(markdown);
    console.error(`profile: wrote bench/results/${stamp}-profile.md`);
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    snapshot.remove();
  }
}

if (positionals[0]) {
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
  console.log(summarise(profile, Number(args.top), `# CPU profile: ${positionals[0]}`));
} else {
  await profileUnderLoad();
}
