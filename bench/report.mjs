/**
 * @module bench/report: turns the raw runs into markdown: the targets of issue 6 with a verdict each, the ratio
 * table (keyway / each peer, keyway / direct), then the medians behind them. A ratio is computed per round (keyway
 * and the peer measured minutes apart in the same interleaved round) and the median of those is shown, so that
 * drift of the machine between rounds cancels out.
 */

const NODE_PEERS = ['http-proxy', 'http-proxy-middleware', 'fastify-http-proxy'];
const KEYWAYS = ['keyway', 'keyway-realistic'];
const HTTP_ORDER = ['direct', 'keyway', 'keyway-realistic', 'nginx', 'haproxy', ...NODE_PEERS];

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
    paired: (a, b, f) => {
      const byRound = new Map(of(b).map((r) => [r.round, r]));
      return median(of(a).filter((r) => byRound.has(r.round)).map((r) => f(r, byRound.get(r.round))));
    },
  };
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
      for (const peer of HTTP_ORDER.filter((p) => !KEYWAYS.includes(p) && v.has(p))) {
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
    for (const peer of HTTP_ORDER.filter((p) => p !== 'keyway' && echo.has(p))) {
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
    for (const peer of HTTP_ORDER.filter((p) => p !== 'keyway' && idle.has(p))) {
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
  return head + table(['operation', 'ops/s', 'µs per op (sequential)', 'Redis commands per op', 'INFO commandstats per op (Lua-internal calls included)'], rows);
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

Versions: Node ${v.node}, keyway ${v.keyway} (\`${meta.build ?? 'dist'}\` built ${meta.distBuilt}, run from a copy taken at the start), nginx ${v.nginx}, HAProxy ${v.haproxy}, wrk ${v.wrk},
http-proxy ${v['http-proxy']}, http-proxy-middleware ${v['http-proxy-middleware']} (express ${v.express}), @fastify/http-proxy ${v['@fastify/http-proxy']} (fastify ${v.fastify}).

## Targets

${targets(results)}
## Ratios (keyway / peer; per-round ratio, median over rounds)

Above 1 is better for req/s and per core; below 1 is better for latency and memory.

${ratioTable(results.runs)}
## Measurements

${httpTables(results)}
${wsTables(results)}

## Coordinator

${coordinatorTable(results.coordinator)}
`;
}
