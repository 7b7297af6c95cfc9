/**
 * End-to-end: the stateful-kv example (examples/stateful-kv/README.md) under kill -9. A real redis-server, three
 * pod processes and the coordinator process, talking real HTTP on 127.0.0.1. Tenants are claimed on first touch,
 * a transaction is routed by its lock, and then the pod holding the most tenants is killed with SIGKILL under a
 * steady load: its tenants must move to the survivors with no more than one failed request per call that was in
 * flight at the kill, acknowledged writes must survive (rehydrated from storage), and a transaction left open on
 * the dead pod must fail cleanly with 404 instead of hanging.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Registry } from '../../src/index.js';
import { request, type Reply } from '../helpers/http.js';
import { randomPrefix, startRedisServer, waitFor, type RedisServer } from '../helpers/redis.js';
import { within } from '../helpers/wait.js';

const POD_JS = fileURLToPath(new URL('./stateful-kv/pod.js', import.meta.url));
const COORDINATOR_JS = fileURLToPath(new URL('./stateful-kv/coordinator.js', import.meta.url));
/** The pods' member record lifetime (pod.ts): a dead pod's record is gone at most this long after its death. */
const POD_TTL_MS = 2000;
const POD_IDS = ['pod-a', 'pod-b', 'pod-c'];
const TENANTS = Array.from({ length: 10 }, (_, i) => `t${i}`);
/**
 * The load: a call every `everyMs`, at most `maxInFlight` open. The victim is killed once `answeredBeforeKill` calls
 * have been answered, and the load runs on until every tenant of the victim has had `answeredAfterExit` calls sent
 * after its exit answered, the open transaction is gone and the dead pod's record has expired (`POD_TTL_MS`). Each
 * wait on answers fails after `phaseMs`.
 */
const LOAD = { everyMs: 10, maxInFlight: 20, answeredBeforeKill: 200, answeredAfterExit: 20, phaseMs: 20_000 } as const;

/** A started fixture process and what it printed on stderr (for failure messages). */
interface Proc {
  readonly child: ChildProcess;
  readonly port: number;
  readonly stderr: () => string;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Spawns `node <script> ...args` and resolves once it prints its `{"ready":true,"port":N}` line. */
async function start(script: string, args: string[]): Promise<Proc> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready in 20 s: ${out} ${err}`)), 20_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const end = out.indexOf('\n');
      if (end === -1) return; // the ready line is the first line: wait until it is whole
      clearTimeout(timer);
      try {
        resolve((JSON.parse(out.slice(0, end)) as { port: number }).port);
      } catch {
        reject(new Error(`${script} printed ${out.slice(0, end)} instead of its ready line`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${err}`));
    });
  });
  return { child, port, stderr: () => err };
}

/** A JSON answer's body as an object (`{}` when it is not JSON). */
function json(body: string): Record<string, unknown> {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** One call of the load, judged by when it was sent (ms since the load started). */
interface Call {
  readonly tenant: string;
  readonly method: 'GET' | 'PUT';
  readonly key: string;
  readonly value: string;
  readonly sentAt: number;
  doneAt: number;
  status: number;
  pod: string | undefined;
  error: string | undefined;
}

interface LoadRun {
  readonly calls: Call[];
  /** When SIGKILL was sent, and when the pod's exit was seen (ms since the load started). */
  readonly killAt: number;
  readonly diedAt: number;
  /** Ticks that found `maxInFlight` calls open and sent nothing. */
  readonly skipped: number;
  /** How long the load ran (ms). */
  readonly durationMs: number;
}

describe('stateful-kv example: a stateful pod per tenant behind the coordinator', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let dataDir: string;
  let prefix: string;
  let registry: Registry;
  let coordinator: Proc;
  const pods = new Map<string, Proc>();
  /** Owner of each tenant as the pods named themselves (`x-pod`) before the kill. */
  const owners = new Map<string, string>();
  /** Every acknowledged write: `tenant/key` -> value. */
  const acked = new Map<string, string>();
  let victim = '';
  let openTx = '';

  const call = (method: string, path: string, body?: string): Promise<Reply> =>
    request(coordinator.port, { method, path, body, timeoutMs: 15_000, headers: body === undefined ? {} : { 'content-type': 'text/plain' } });

  before(async () => {
    redis = await startRedisServer();
    dataDir = await mkdtemp(join(tmpdir(), 'keyway-stateful-kv-'));
    prefix = randomPrefix('kv');
    const common = ['--redis', redis.url, '--prefix', prefix];
    await Promise.all(
      POD_IDS.map(async (id) => pods.set(id, await start(POD_JS, [...common, '--id', id, '--port', '0', '--data', dataDir]))),
    );
    coordinator = await start(COORDINATOR_JS, [...common, '--port', '0']);
    registry = new Registry({ redis: redis.url, keyPrefix: prefix, cache: false });
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await registry?.close();
    await redis?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('claims tenants on first touch and runs a transaction through lock routing', async () => {
    for (const tenant of TENANTS) {
      const res = await call('PUT', `/tenants/${tenant}/kv/seed`, `seed-${tenant}`);
      assert.equal(res.status, 200, res.body);
      owners.set(tenant, res.headers['x-pod'] as string);
      acked.set(`${tenant}/seed`, `seed-${tenant}`);
    }
    const held = [...pods.keys()].map((id) => [id, TENANTS.filter((t) => owners.get(t) === id).length] as const);
    assert.ok(held.every(([, n]) => n > 0), `every pod holds tenants: ${JSON.stringify(held)}`);
    for (const tenant of TENANTS) assert.equal((await registry.resolveDestination(tenant))?.memberId, owners.get(tenant));

    const begin = await call('POST', '/tenants/t0/tx');
    assert.equal(begin.status, 201, begin.body);
    const { txId } = json(begin.body) as { txId: string };
    for (const [k, v] of [['x', 'tx-1'], ['y', 'tx-2']]) {
      const staged = await call('PUT', `/tx/${txId}/kv/${k}`, v);
      assert.equal(staged.status, 200, staged.body);
      assert.equal(staged.headers['x-pod'], owners.get('t0'), 'the lock routes to the pod that opened the transaction');
    }
    assert.equal((await call('GET', '/tenants/t0/kv/x')).status, 404, 'staged writes are invisible before commit');
    const commit = await call('POST', `/tx/${txId}/commit`);
    assert.deepEqual([commit.status, json(commit.body).committed], [200, 2], commit.body);
    for (const [k, v] of [['x', 'tx-1'], ['y', 'tx-2']]) {
      assert.equal(json((await call('GET', `/tenants/t0/kv/${k}`)).body).value, v);
      acked.set(`t0/${k}`, v as string);
    }
    const again = await call('POST', `/tx/${txId}/commit`);
    assert.deepEqual([again.status, json(again.body).error], [404, 'Transaction not found'], 'a committed lock is gone');
  });

  it('kill -9 the busiest pod under load: its tenants move, at most one failure per call in flight', async (t) => {
    const held = (id: string): number => TENANTS.filter((tenant) => owners.get(tenant) === id).length;
    victim = [...pods.keys()].sort((a, b) => held(b) - held(a))[0] as string;
    const moving = TENANTS.filter((tenant) => owners.get(tenant) === victim);
    // A transaction left open on the victim: its pod's death must end it cleanly, never hang.
    const begin = await call('POST', `/tenants/${moving[0]}/tx`);
    openTx = (json(begin.body) as { txId: string }).txId;
    assert.equal((await call('PUT', `/tx/${openTx}/kv/lost`, 'never committed')).status, 200);
    const txAnswers: { at: number; status: number; ms: number; body: string }[] = [];
    const pollTx = async (sinceKill: () => number): Promise<void> => {
      const gone = async (): Promise<boolean> => {
        const sent = performance.now();
        // A call that fails outright is kept as status 0, which the assertions below reject.
        const res = await call('POST', `/tx/${openTx}/commit`).catch((err: Error) => ({ status: 0, body: err.message }));
        txAnswers.push({ at: sinceKill(), status: res.status, ms: performance.now() - sent, body: res.body });
        return res.status === 404;
      };
      // A timeout is reported by the assertions below (the last answer is not 404).
      await waitFor('the open transaction to be gone (404)', gone, POD_TTL_MS + 3000 - sinceKill()).catch(() => undefined);
    };

    const run = await steadyLoad(call, pods.get(victim) as Proc, moving, pollTx);
    const { calls, killAt, diedAt } = run;
    const failed = calls.filter((c) => c.status !== 200);
    // In flight at the kill: sent before the pod's exit was seen, still open when SIGKILL was sent.
    const inFlight = calls.filter((c) => c.sentAt <= diedAt && c.doneAt >= killAt);
    const inFlightToVictim = inFlight.filter((c) => moving.includes(c.tenant));
    const later = calls.filter((c) => c.sentAt > diedAt);
    t.diagnostic(`victim ${victim} held ${moving.length}/${TENANTS.length} tenants (${moving.join(' ')})`);
    t.diagnostic(`calls ${calls.length} in ${ms(run.durationMs)} ms (skipped ticks ${run.skipped}); SIGKILL at ${ms(killAt)} ms, exit seen ${ms(diedAt - killAt)} ms later`);
    t.diagnostic(`in flight at the kill: ${inFlight.length} (to ${victim}'s tenants: ${inFlightToVictim.length})`);
    t.diagnostic(`failed: ${failed.length}; sent after the exit: ${later.length}, of which failed ${later.filter((c) => c.status !== 200).length}`);
    for (const c of failed) {
      t.diagnostic(`  failed ${c.method} ${c.tenant}/${c.key}: ${c.status || c.error} sent ${ms(c.sentAt - killAt)} ms after the kill, took ${ms(c.doneAt - c.sentAt)} ms`);
    }
    for (const tenant of moving) {
      const first = calls.find((c) => c.tenant === tenant && c.sentAt > diedAt && c.status === 200);
      t.diagnostic(`  ${tenant}: first call sent after the exit (${first ? ms(first.sentAt - killAt) : '-'} ms after the kill) answered by ${first?.pod}`);
    }
    t.diagnostic(`open transaction after the kill: ${txAnswers.map((a) => `${a.status} at ${ms(a.at)} ms (${ms(a.ms)} ms)`).join(', ')}`);

    // Each failure is a call that was in flight to the victim: at most one failure per such call, none afterwards.
    assert.ok(failed.length <= inFlightToVictim.length, `${failed.length} failures, ${inFlightToVictim.length} calls in flight to ${victim}`);
    for (const c of failed) {
      assert.ok(moving.includes(c.tenant), `a call to ${c.tenant}, not owned by ${victim}, failed`);
      assert.ok(inFlight.includes(c), `a call sent ${ms(c.sentAt - killAt)} ms after the kill failed (${c.status || c.error})`);
      assert.ok(c.status === 502 || c.status === 504, `a failure is a 502/504 from the coordinator, got ${c.status || c.error}`);
    }
    for (const c of calls.filter((x) => x.status === 200)) {
      assert.equal(c.error, undefined, `${c.method} ${c.tenant}/${c.key}: ${c.error}`);
      if (c.sentAt > diedAt) assert.notEqual(c.pod, victim);
      if (c.method === 'PUT') acked.set(`${c.tenant}/${c.key}`, c.value);
    }
    // The lock is never moved: its owner is refused (502) until its record expires, then it is unknown (404).
    assert.equal(txAnswers.at(-1)?.status, 404, JSON.stringify(txAnswers));
    for (const a of txAnswers) {
      assert.ok(a.status === 404 || a.status === 502, JSON.stringify(a));
      assert.ok(a.ms < 2000, `a transaction call took ${ms(a.ms)} ms`);
      assert.ok(typeof json(a.body).error === 'string', a.body);
    }
  });

  it("the victim's tenants are owned by survivors, and every acknowledged write survived", async () => {
    const live = (await registry.listLiveMembers()).map((m) => m.memberId).sort();
    assert.deepEqual(live, [...pods.keys()].filter((id) => id !== victim).sort());
    for (const tenant of TENANTS) {
      const owner = await registry.resolveDestination(tenant);
      assert.ok(owner?.address && owner.memberId !== victim, `${tenant} resolves to ${JSON.stringify(owner)}`);
    }
    const entries = [...acked];
    for (let i = 0; i < entries.length; i += 20) {
      await Promise.all(
        entries.slice(i, i + 20).map(async ([path, value]) => {
          const res = await call('GET', `/tenants/${path.replace('/', '/kv/')}`);
          assert.deepEqual([res.status, json(res.body).value], [200, value], `${path} after the kill`);
          assert.notEqual(res.headers['x-pod'], victim);
        }),
      );
    }
  });

  it('a transaction left open on the killed pod is gone: 404 JSON, its writes never applied', async () => {
    const res = await call('POST', `/tx/${openTx}/commit`);
    assert.equal(res.status, 404);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(json(res.body).error, 'Transaction not found');
    const lost = await call('GET', `/tenants/${TENANTS.find((x) => owners.get(x) === victim)}/kv/lost`);
    assert.equal(lost.status, 404, 'its staged write never reached storage');
  });

  it('SIGTERM: a pod deregisters and exits 0; its tenants move to the last pod at once', async () => {
    const [leaving, last] = [...pods.keys()].filter((id) => id !== victim) as [string, string];
    const proc = pods.get(leaving) as Proc;
    const exited = once(proc.child, 'exit');
    proc.child.kill('SIGTERM');
    const [code] = (await Promise.race([exited, timeout(5000, `${leaving} to exit`)])) as [number | null];
    assert.equal(code, 0, proc.stderr());
    assert.deepEqual((await registry.listLiveMembers()).map((m) => m.memberId), [last], 'deregistered, not expired');
    for (const tenant of TENANTS) {
      const res = await call('GET', `/tenants/${tenant}/kv/seed`);
      assert.deepEqual([res.status, res.headers['x-pod']], [200, last], `${tenant}: ${res.body}`);
    }
  });
});

/**
 * A steady load through the coordinator: a call every `LOAD.everyMs` (reads of the seeds and writes of new keys,
 * spread over the tenants), at most `LOAD.maxInFlight` open; `victim` gets SIGKILL once `LOAD.answeredBeforeKill`
 * calls have been answered, and once its exit is seen `afterKill` runs beside the load. The load ends when
 * `afterKill` is done, each of the `moving` tenants has had `LOAD.answeredAfterExit` calls sent after the exit
 * answered (any status: the test judges them) and `POD_TTL_MS` has passed since the exit.
 */
async function steadyLoad(
  call: (method: string, path: string, body?: string) => Promise<Reply>,
  victim: Proc,
  moving: readonly string[],
  afterKill: (sinceKill: () => number) => Promise<void>,
): Promise<LoadRun> {
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const calls: Call[] = [];
  const open = new Set<Promise<void>>();
  let skipped = 0;
  let killAt = 0;
  let diedAt = 0;
  let answered = 0;
  const answeredAfterExit = new Map<string, number>();
  /** Checks run each time a call is answered. */
  const onAnswered = new Set<() => void>();
  /** Resolves once `cond()` holds, judged as each call is answered; rejects after `LOAD.phaseMs` naming `what`. */
  const whenAnswered = (cond: () => boolean, what: string): Promise<void> => {
    let check!: () => void;
    const held = new Promise<void>((resolve) => {
      check = () => {
        if (cond()) resolve();
      };
    });
    onAnswered.add(check);
    check();
    return within(held, LOAD.phaseMs, what).finally(() => onAnswered.delete(check));
  };
  const killed = (async () => {
    await whenAnswered(() => answered >= LOAD.answeredBeforeKill, `${LOAD.answeredBeforeKill} answered calls before the kill`);
    const exited = once(victim.child, 'exit');
    killAt = now();
    victim.child.kill('SIGKILL');
    await exited;
    diedAt = now();
    await afterKill(() => now() - killAt);
  })();
  const enough = (): boolean => moving.every((tenant) => (answeredAfterExit.get(tenant) ?? 0) >= LOAD.answeredAfterExit);
  const ended = killed.then(() =>
    Promise.all([
      whenAnswered(enough, `${LOAD.answeredAfterExit} answered calls sent after the exit to each of ${moving.join(' ')}`),
      // Time by nature: the dead pod's record expires POD_TTL_MS after its death, and the load spans that window.
      sleep(POD_TTL_MS - (now() - diedAt)),
    ]),
  );
  let stop = false;
  ended.then(
    () => (stop = true),
    () => (stop = true), // rethrown below
  );
  for (let i = 0; !stop; i++) {
    // The load's own pacing: a call every `everyMs` is what makes it a steady rate, so this wait is time by nature.
    await sleep(i * LOAD.everyMs - now());
    if (stop) break;
    if (open.size >= LOAD.maxInFlight) {
      skipped++;
      continue;
    }
    const tenant = TENANTS[Math.floor(i / 2) % TENANTS.length] as string;
    const c: Call =
      i % 2 === 0
        ? { tenant, method: 'GET', key: 'seed', value: `seed-${tenant}`, sentAt: now(), doneAt: 0, status: 0, pod: undefined, error: undefined }
        : { tenant, method: 'PUT', key: `k${i}`, value: `v${i}`, sentAt: now(), doneAt: 0, status: 0, pod: undefined, error: undefined };
    const p = call(c.method, `/tenants/${tenant}/kv/${c.key}`, c.method === 'PUT' ? c.value : undefined).then(
      (res) => {
        c.status = res.status;
        c.pod = res.headers['x-pod'] as string | undefined;
        if (res.status === 200 && json(res.body).value !== c.value) c.error = `got ${res.body}`;
        if (res.status !== 200) c.error = res.body;
      },
      (err: Error) => {
        c.error = err.message;
      },
    );
    const tracked = p.finally(() => {
      c.doneAt = now();
      open.delete(tracked);
      answered++;
      if (diedAt > 0 && c.sentAt > diedAt) answeredAfterExit.set(c.tenant, (answeredAfterExit.get(c.tenant) ?? 0) + 1);
      for (const check of onAnswered) check();
    });
    open.add(tracked);
    calls.push(c);
  }
  const durationMs = now();
  await Promise.all([...open, killed, ended]);
  return { calls, killAt, diedAt, skipped, durationMs };
}

/** Milliseconds with one decimal, for diagnostics. */
function ms(value: number): string {
  return value.toFixed(1);
}

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, delayMs)));
}

function timeout(delayMs: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${delayMs} ms waiting for ${what}`)), delayMs).unref());
}
