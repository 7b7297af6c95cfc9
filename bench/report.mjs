/**
 * @module bench/report: turns the raw runs into markdown: the targets of issue 6 with a verdict each, the ratio
 * table (keyway / each peer, keyway / direct), then the medians behind them. A ratio is computed per round (keyway
 * and the peer measured minutes apart in the same interleaved round) and the median of those is shown, so that
 * drift of the machine between rounds cancels out.
 */

const NODE_PEERS = ['http-proxy', 'http-proxy-middleware', 'fastify-http-proxy'];
const KEYWAYS = ['keyway', 'keyway-realistic'];
/** The same two configurations from the build given to `run.mjs --compare DIR` (the "before" of a change). */
const BEFORE = KEYWAYS.map((k) => `${k}-before`);
const HTTP_ORDER = ['direct', 'keyway', 'keyway-before', 'keyway-realistic', 'keyway-realistic-before', 'nginx', 'haproxy', ...NODE_PEERS];
/** The peers keyway is compared with: everything but keyway itself, in either build. */
const isPeer = (p) => !KEYWAYS.includes(p) && !BEFORE.includes(p);

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmt = (n, digits = 0) => (n == null || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const x = (n) => (n == null ? '–' : `${fmt(n, 2)}x`);
const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

/** Helpers over the runs of one scenario (and backend kind). */
function view(runs, scenario, backend) {
  const of = (candidate) => runs.filter((r) => r.scenario === scenario && r.backend === backend && r.candidate === candidate && !r.error);
  return {
    has: (candidate) => of(candidate).length > 0,
    failed: (candidate) => runs.filter((r) => r.scenario === scenario && r.backend === backend && r.candidate === candidate && r.error),
    med: (candidate, path) => median(of(candidate).map((r) => get(r, path))),
    max: (candidate, path) => {
      const v = of(candidate).map((r) => get(r, path)).filter(Number.isFinite);
      return v.length ? Math.max(...v) : null;
    },
    /** Median over rounds of f(a's run, b's run) for rounds where both ran. */
    paired: (a, b, f) => median(pairedAll(of, a, b, f)),
    /** Every round's f(a's run, b's run), for the spread. */
    pairedAll: (a, b, f) => pairedAll(of, a, b, f),
  };
}
function pairedAll(of, a, b, f) {
  const byRound = new Map(of(b).map((r) => [r.round, r]));
  return of(a).filter((r) => byRound.has(r.round)).map((r) => f(r, byRound.get(r.round))).filter(Number.isFinite);
}
const ratio = (path) => (a, b) => get(a, path) / get(b, path);
const diff = (path) => (a, b) => get(a, path) - get(b, path);

/** The Node peer with the highest median req/s per proxy core in `v`. */
function fastestNodePeer(v) {
  let best = null;
  for (const name of NODE_PEERS) {
    const value = v.med(name, 'rpsPerCore');
    if (value != null && (best === null || value > best.value)) best = { name, value };
  }
  return best?.name ?? null;
}

function targets(results) {
  const { runs } = results;
  const rows = [];
  const verdict = (ok) => (ok == null ? 'n/a' : ok ? 'met' : '**missed**');
  for (const backend of ['node', 'nginx']) {
    const v = view(runs, 'http', backend);
    const peer = fastestNodePeer(v);
    for (const k of KEYWAYS) {
      if (!v.has(k) || !peer) continue;
      const perCore = v.paired(k, peer, ratio('rpsPerCore'));
      const p99 = v.paired(k, peer, ratio('p99Ms'));
      rows.push([`HTTP ${k}, ${backend} backends: req/s per proxy core >= 1.5x fastest Node peer (${peer})`, x(perCore), verdict(perCore >= 1.5)]);
      rows.push([`HTTP ${k}, ${backend} backends: p99 no worse than ${peer}'s (ratio <= 1)`, `${x(p99)} (${fmt(v.med(k, 'p99Ms'), 2)} vs ${fmt(v.med(peer, 'p99Ms'), 2)} ms)`, verdict(p99 <= 1)]);
      const added = v.paired(k, 'direct', diff('fixed.p50Ms'));
      rows.push([`HTTP ${k}, ${backend} backends: p50 added over direct at ${results.settings.http.rate} req/s <= 1 ms`, `${fmt(added, 3)} ms`, verdict(added == null ? null : added <= 1)]);
    }
  }
  const echo = view(runs, 'ws-echo', 'node');
  if (echo.has('keyway') && echo.has('nginx')) {
    const r = echo.paired('keyway', 'nginx', ratio('rps'));
    rows.push(['WebSocket echo round trips/s >= 0.95x nginx', x(r), verdict(r >= 0.95)]);
  }
  const idle = view(runs, 'ws-idle', 'node');
  if (idle.has('keyway')) {
    const kb = idle.med('keyway', 'kbPerConnection');
    rows.push([`Idle WebSocket memory in the gateway <= 10 KB per connection (${fmt(idle.med('keyway', 'opened'))} open)`, `${fmt(kb, 1)} KB`, verdict(kb <= 10)]);
  }
  const hwm = Math.max(...KEYWAYS.flatMap((k) => ['node', 'nginx'].map((b) => view(runs, 'http', b).max(k, 'hwmMb') ?? -Infinity)));
  if (Number.isFinite(hwm)) {
    const atStart = median(KEYWAYS.flatMap((k) => ['node', 'nginx'].map((b) => view(runs, 'http', b).med(k, 'rssIdleMb'))));
    rows.push(['Gateway peak RSS under the 50-connection load <= 100 MB', `${fmt(hwm, 1)} MB (${fmt(atStart, 1)} MB at start, before any request)`, verdict(hwm <= 100)]);
  }
  const c = results.coordinator;
  if (c && !c.skipped && !c.error) {
    rows.push(['Coordinator: cold resolve = 1 Redis command', fmt(c.resolveCold?.commandsPerOp, 2), verdict(c.resolveCold?.commandsPerOp <= 1.01)]);
    rows.push(['Coordinator: claim = 1 Redis command', fmt(c.claim?.commandsPerOp, 2), verdict(c.claim?.commandsPerOp <= 1.01)]);
    rows.push(['Coordinator: cache hit = 0 Redis commands and < 2 µs (awaited)', `${fmt(c.resolveCached?.commandsPerOp, 3)} commands, ${fmt(c.resolveCached?.usPerOp, 2)} µs awaited (${fmt(c.resolveCached?.usPerCall, 2)} µs per call)`, verdict(c.resolveCached?.commandsPerOp < 0.01 && c.resolveCached?.usPerOp < 2)]);
  } else {
    rows.push(['Coordinator targets', c?.skipped ?? c?.error ?? 'not run', 'n/a']);
  }
  return table(['target (issue 6)', 'measured', 'verdict'], rows);
}

function ratioTable(runs) {
  const rows = [];
  for (const backend of ['node', 'nginx']) {
    const v = view(runs, 'http', backend);
    for (const k of KEYWAYS) {
      if (!v.has(k)) continue;
      for (const peer of HTTP_ORDER.filter((p) => isPeer(p) && v.has(p))) {
        rows.push([
          `HTTP, ${backend} backends`,
          `${k} / ${peer}`,
          x(v.paired(k, peer, ratio('rps'))),
          peer === 'direct' ? '–' : x(v.paired(k, peer, ratio('rpsPerCore'))),
          x(v.paired(k, peer, ratio('p50Ms'))),
          x(v.paired(k, peer, ratio('p99Ms'))),
          peer === 'direct' ? '–' : x(v.paired(k, peer, ratio('hwmMb'))),
        ]);
      }
    }
  }
  const echo = view(runs, 'ws-echo', 'node');
  if (echo.has('keyway')) {
    for (const peer of HTTP_ORDER.filter((p) => isPeer(p) && echo.has(p))) {
      rows.push([
        'WebSocket echo',
        `keyway / ${peer}`,
        x(echo.paired('keyway', peer, ratio('rps'))),
        peer === 'direct' ? '–' : x(echo.paired('keyway', peer, ratio('rpsPerCore'))),
        x(echo.paired('keyway', peer, ratio('p50Ms'))),
        x(echo.paired('keyway', peer, ratio('p99Ms'))),
        '–',
      ]);
    }
  }
  const idle = view(runs, 'ws-idle', 'node');
  if (idle.has('keyway')) {
    for (const peer of HTTP_ORDER.filter((p) => isPeer(p) && idle.has(p))) {
      rows.push(['Idle WebSockets', `keyway / ${peer}`, '–', '–', '–', '–', x(idle.paired('keyway', peer, ratio('kbPerConnection')))]);
    }
  }
  if (rows.length === 0) return 'No keyway run completed.\n';
  return table(['scenario', 'ratio', 'req/s (or round trips/s)', 'per proxy core', 'p50', 'p99', 'memory'], rows);
}

function httpTables(results) {
  const out = [];
  const { http } = results.settings;
  for (const backend of ['node', 'nginx']) {
    const v = view(results.runs, 'http', backend);
    const rows = HTTP_ORDER.filter((c) => v.has(c) || v.failed(c).length).map((c) => {
      if (!v.has(c)) return failedRow(c, v, 14);
      return [
        c,
        fmt(v.med(c, 'rps')),
        fmt(v.med(c, 'rpsPerCore')),
        fmt(v.med(c, 'p50Ms'), 2),
        fmt(v.med(c, 'p99Ms'), 2),
        fmt(v.med(c, 'cores'), 2),
        fmt(v.med(c, 'rssIdleMb'), 1),
        fmt(v.max(c, 'hwmMb'), 1),
        fmt(v.max(c, 'errors')),
        fmt(v.med(c, 'fixed.rps')),
        fmt(v.med(c, 'fixed.p50Ms'), 3),
        fmt(v.med(c, 'fixed.p99Ms'), 3),
        c === 'direct' ? '–' : fmt(v.paired(c, 'direct', diff('fixed.p50Ms')), 3),
        c === 'direct' ? '–' : fmt(v.paired(c, 'direct', diff('fixed.p99Ms')), 3),
      ];
    });
    if (rows.length === 0) continue;
    out.push(`### HTTP, ${backend} backends\n\nwrk -t1 -c${http.connections} -d${http.seconds}s (after ${http.warmupSeconds} s of warm-up), then paced at ${http.rate} req/s for ${http.fixedSeconds} s. Medians over rounds; peak RSS (VmHWM, warm-up included) and errors are the maxima. "Added" is the paced latency minus direct's in the same round.\n`);
    out.push(
      table(
        ['candidate', 'req/s', 'req/s per proxy core', 'p50 ms', 'p99 ms', 'proxy CPU (cores)', 'RSS at start MB', 'peak RSS MB', 'errors', 'paced req/s', 'paced p50 ms', 'paced p99 ms', 'added p50 ms', 'added p99 ms'],
        rows,
      ),
    );
  }
  return out.join('\n');
}

function wsTables(results) {
  const out = [];
  const echo = view(results.runs, 'ws-echo', 'node');
  const echoRows = HTTP_ORDER.filter((c) => echo.has(c) || echo.failed(c).length).map((c) =>
    echo.has(c)
      ? [c, fmt(echo.med(c, 'rps')), fmt(echo.med(c, 'rpsPerCore')), fmt(echo.med(c, 'p50Ms'), 2), fmt(echo.med(c, 'p99Ms'), 2), fmt(echo.med(c, 'cores'), 2), fmt(echo.max(c, 'errors'))]
      : failedRow(c, echo, 7),
  );
  if (echoRows.length) {
    out.push(`### WebSocket echo, Node backends\n\n${results.settings.wsEcho.connections} WebSockets, one 32-byte message in flight on each, ${results.settings.wsEcho.seconds} s.\n`);
    out.push(table(['candidate', 'round trips/s', 'per proxy core', 'p50 ms', 'p99 ms', 'proxy CPU (cores)', 'errors'], echoRows));
  }
  const idle = view(results.runs, 'ws-idle', 'node');
  const idleRows = HTTP_ORDER.filter((c) => idle.has(c) || idle.failed(c).length).map((c) =>
    idle.has(c)
      ? [c, fmt(idle.med(c, 'opened')), fmt(idle.max(c, 'failed')), fmt(idle.med(c, 'kbPerConnection'), 1), fmt(idle.med(c, 'rssBeforeMb'), 1), fmt(idle.med(c, 'rssAfterMb'), 1), fmt(idle.med(c, 'openMs'))]
      : failedRow(c, idle, 7),
  );
  if (idleRows.length) {
    out.push(`\n### Idle WebSockets\n\n${results.settings.wsIdle.count} WebSockets opened through the proxy and left idle; memory per connection is the proxy's RSS growth / sockets open, ${results.settings.wsIdle.settleMs / 1000} s after the last one opened.\n`);
    out.push(table(['candidate', 'open', 'failed', 'KB per connection', 'RSS before MB', 'RSS after MB', 'time to open ms'], idleRows));
  }
  return out.join('\n');
}

/** `median (min–max)` of per-round ratios. */
function spread(values) {
  if (values.length === 0) return '–';
  const m = x(median(values));
  return values.length === 1 ? m : `${m} (${fmt(Math.min(...values), 2)}–${fmt(Math.max(...values), 2)})`;
}

/** After / before: keyway (this build) over keyway-before (the `--compare` build), per round, median and spread. */
function beforeAfterTable(results) {
  const rows = [];
  const scenarios = [
    ...['node', 'nginx'].map((b) => ['http', b, `HTTP, ${b} backends`]),
    ['ws-echo', 'node', 'WebSocket echo'],
    ['ws-idle', 'node', 'Idle WebSockets'],
  ];
  for (const [scenario, backend, label] of scenarios) {
    const v = view(results.runs, scenario, backend);
    for (const k of KEYWAYS) {
      const b = `${k}-before`;
      if (!v.has(k) || !v.has(b)) continue;
      const r = (path) => spread(v.pairedAll(k, b, ratio(path)));
      if (scenario === 'ws-idle') {
        rows.push([label, `${k} / ${b}`, '–', '–', '–', '–', r('kbPerConnection'), fmt(v.pairedAll(k, b, () => 1).length)]);
      } else {
        rows.push([label, `${k} / ${b}`, r('rps'), r('rpsPerCore'), r('p50Ms'), r('p99Ms'), scenario === 'http' ? r('hwmMb') : '–', fmt(v.pairedAll(k, b, () => 1).length)]);
      }
    }
  }
  if (rows.length === 0) return 'No round has both builds.\n';
  return table(['scenario', 'after / before', 'req/s (or round trips/s)', 'per proxy core', 'p50', 'p99', 'peak RSS (idle: KB per connection)', 'rounds'], rows);
}

/** The coordinator of both builds, after / before. */
function coordinatorCompareTable(after, before) {
  if (!before) return '';
  if (before.skipped || before.error || after?.skipped || after?.error) {
    return `\n### Before / after\n\nBefore (\`${before.build}\`): ${before.skipped ?? before.error ?? 'measured'}; after: ${after?.skipped ?? after?.error ?? 'measured'}.\n`;
  }
  const rows = [];
  for (const [k, label] of [['claim', 'claim (new destination)'], ['resolveCold', 'resolve, cache off'], ['resolveCached', 'resolve, cache hit']]) {
    if (!after[k] || !before[k]) continue;
    rows.push([label, 'ops/s', fmt(before[k].opsPerSecond), fmt(after[k].opsPerSecond), x(after[k].opsPerSecond / before[k].opsPerSecond)]);
    rows.push([label, 'µs per op (sequential)', fmt(before[k].usPerOp, 2), fmt(after[k].usPerOp, 2), x(after[k].usPerOp / before[k].usPerOp)]);
    rows.push([label, 'Redis commands per op', fmt(before[k].commandsPerOp, 3), fmt(after[k].commandsPerOp, 3), '–']);
  }
  if (after.resolveCached?.usPerCall != null && before.resolveCached?.usPerCall != null) {
    rows.push(['resolve, cache hit', 'µs per call (not awaited)', fmt(before.resolveCached.usPerCall, 3), fmt(after.resolveCached.usPerCall, 3), x(after.resolveCached.usPerCall / before.resolveCached.usPerCall)]);
  }
  return `\n### Before / after\n\nThe same passes on the \`--compare\` build (\`${before.build}\`), each on a fresh redis-server, one after the other (not interleaved: one pass each, so indicative).\n\n${table(['operation', 'figure', 'before', 'after', 'after / before'], rows)}`;
}

/** The cost of confirming a claim's fencing epoch on a replica (WAIT 1 100), with against without. */
function confirmTable(w) {
  if (!w) return '';
  const head = '\n### Claim confirmed by a replica (`WAIT 1 100`)\n\n';
  if (w.skipped) return `${head}Skipped: ${w.skipped}\n`;
  if (w.error) return `${head}Failed: ${w.error}\n`;
  const via = w.via === 'Registry'
    ? 'two Registries (`cache: false`) with `confirmReplicas: 1` and `0`, `resolveDestination(id, { claimOnMiss: true })`'
    : `two stores, \`createCoordinatorStore(url, { confirmReplicas: 1 | 0 })\`, \`store.resolve({ destinationId, claimOnMiss: true, reassignOrphans: false, candidate: null })\`, because ${w.reason}`;
  const row = (label, v) => [label, fmt(v.claimsPerSecond), `${fmt(Math.min(...v.claimsPerSecondBlocks.filter(Number.isFinite)))}–${fmt(Math.max(...v.claimsPerSecondBlocks.filter(Number.isFinite)))}`, fmt(v.usMean, 1), fmt(v.p50Us, 1), fmt(v.p99Us, 1), fmt(v.commandsPerOp, 2), `${fmt(v.unconfirmed)} of ${fmt(v.claims)}`];
  const r = w.ratio;
  const rows = [
    row('confirmReplicas: 1 (claim + WAIT)', w.with),
    row('confirmReplicas: 0 (claim only)', w.without),
    ['with / without', spread(r.claimsPerSecondBlocks), '', x(r.usMean), x(r.p50Us), x(r.p99Us), '', ''],
    ['added by WAIT', '', '', `${fmt(w.with.usMean - w.without.usMean, 1)} µs`, `${fmt(w.with.p50Us - w.without.p50Us, 1)} µs`, `${fmt(w.with.p99Us - w.without.p99Us, 1)} µs`, '', ''],
  ];
  return `${head}A replica (\`--replicaof\`, pinned with the master on CPU 0, link up after ${fmt(w.linkMs)} ms) and ${via}, on the same master. Claims/s: ${w.blocks} blocks of ${fmt(w.blockSize)} new destinations per variant, 64 in flight, alternating ABBA; the ratio is per adjacent pair of blocks (median, min–max). Sequential: ${fmt(w.pairs)} claims per variant, one at a time, alternating claim by claim.${w.timedOut ? ' **Stopped at its time limit.**' : ''}\n\n${table(['claims', 'claims/s (median of blocks)', 'blocks min–max', 'µs per claim, mean', 'p50 µs', 'p99 µs', 'Redis commands per claim', 'reported unconfirmed'], rows)}`;
}

function coordinatorTable(c) {
  if (!c) return 'Not run.';
  if (c.skipped) return `Skipped: ${c.skipped}`;
  if (c.error) return `Failed: ${c.error}`;
  const rows = ['claim', 'resolveCold', 'resolveCached'].filter((k) => c[k]).map((k) => [
    { claim: 'claim (new destination)', resolveCold: 'resolve, cache off', resolveCached: 'resolve, cache hit' }[k],
    fmt(c[k].opsPerSecond),
    fmt(c[k].usPerOp, 2),
    fmt(c[k].commandsPerOp, 3),
    c[k].commands,
  ]);
  const head = `Build measured: \`${c.build}\`. ${c.members} members, ${fmt(c.operations)} destinations per pass; ops/s with 64 operations in flight, µs per op awaited one at a time, commands per op from MONITOR (top-level only).\n\n`;
  return head + table(['operation', 'ops/s', 'µs per op (sequential)', 'Redis commands per op', 'INFO commandstats per op (Lua-internal calls included)'], rows) + confirmTable(c.confirm);
}

function failedRow(candidate, v, width) {
  const reason = v.failed(candidate)[0].error.split('\n')[0].replaceAll('|', '/').slice(0, 120);
  return [candidate, `failed: ${reason}`, ...Array(width - 2).fill('')];
}

function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

/** The whole report as markdown. */
export function renderReport(results) {
  const { meta, settings } = results;
  const v = meta.versions;
  return `# keyway benchmark — ${meta.started.slice(0, 10)} (${settings.mode})

${meta.cores} cores (${meta.cpus}); proxy pinned alone on CPU 1, wrk, backends and the WebSocket client on CPU 0.
${settings.rounds} round(s), candidates interleaved (A B C … A B C …), each started fresh per run.
Started ${meta.started}, finished ${meta.finished}; load average at start ${meta.loadAverage.map((l) => l.toFixed(2)).join(' ')}.
**The machine is shared with engineers running test suites: absolute figures drift; ratios within this one interleaved run are what counts.**

Versions: Node ${v.node}, keyway ${v.keyway} (\`${meta.build ?? 'dist'}\` built ${meta.distBuilt}, run from a copy taken at the start)${meta.compare ? `, compared with \`${meta.compare.build}\` (built ${meta.compare.distBuilt}, run in place) as keyway-before` : ''}, nginx ${v.nginx}, HAProxy ${v.haproxy}, wrk ${v.wrk},
http-proxy ${v['http-proxy']}, http-proxy-middleware ${v['http-proxy-middleware']} (express ${v.express}), @fastify/http-proxy ${v['@fastify/http-proxy']} (fastify ${v.fastify}).

## Targets

${targets(results)}
## Ratios (keyway / peer; per-round ratio, median over rounds)

Above 1 is better for req/s and per core; below 1 is better for latency and memory.

${ratioTable(results.runs)}
${meta.compare ? `## Before / after (keyway / keyway-before; per-round ratio, median and min–max over rounds)

keyway is \`${meta.build}\`, keyway-before is \`${meta.compare.build}\`; each pair runs back to back in every round, the order swapped on even rounds. Above 1 is better for req/s and per core; below 1 is better for latency and memory.

${beforeAfterTable(results)}
` : ''}## Measurements

${httpTables(results)}
${wsTables(results)}

## Coordinator

${coordinatorTable(results.coordinator)}${coordinatorCompareTable(results.coordinator, results.coordinatorBefore)}
`;
}
