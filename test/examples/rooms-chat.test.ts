/**
 * The rooms-chat example (examples/rooms-chat/README.md), end to end: its one command (start.mjs: a private
 * redis-server, three instance processes, the keyway gateway), and the page's own client code (chat-client.js) driven
 * over the `ws` package with a cookie jar, as a browser would. Clients spread over the instances through the sticky
 * gateway; then the instance that owns the votes singleton is killed with SIGKILL while the others keep chatting:
 * - clients on the survivors keep receiving, at once, and nothing they send fails;
 * - the killed instance's clients reconnect through the gateway with `fromSeq`/`epoch` and get every message
 *   published meanwhile: every client's messages are numbered without a gap or a repeat, and nobody gets a resync;
 * - the vote count survives (the singleton fails over to a survivor) and goes on from where it was;
 * - the online list drops the one client that went away for good (expired with its instance) and nobody else.
 * Loopback only, free ports, bounded well under 60 s.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { request } from '../helpers/http.js';
import { until, within } from '../helpers/wait.js';
import { alive } from '../helpers/process.js';

const START = fileURLToPath(new URL('../../../examples/rooms-chat/start.mjs', import.meta.url));
const CLIENT_JS = new URL('../../../examples/rooms-chat/public/chat-client.js', import.meta.url).href;
const ROOM = 'lobby';
/** Members of a killed instance stay listed this long (ms): short, so the test sees the one that left expire. */
const PRESENCE_TTL_MS = 3000;
const CLIENTS = 6;
/** During the outage a survivor sends one message every this many ms. */
const SEND_EVERY_MS = 40;

// ---- the page's client, typed for the test (it is plain JS under examples/) ------------------------------------

interface RoomMsg {
  readonly type: 'event' | 'join' | 'leave' | 'state' | 'resync';
  readonly seq: number;
  readonly epoch: string;
  readonly event?: string;
  readonly data?: { text?: string; count?: number };
  readonly member?: string;
  readonly reason?: 'left' | 'expired';
  readonly origin?: string;
}
interface ChatClient {
  readonly member: string;
  readonly lastSeq: number;
  readonly epoch: string;
  readonly members: Map<string, { id: string; name: string; instance: string }>;
  readonly state: Record<string, unknown>;
  readonly votes: number;
  readonly instance: string;
  readonly connected: boolean;
  readonly connectUrls: string[];
  readonly duplicates: number;
  readonly emptyResyncs: number;
  reconnect: boolean;
  on(type: string, fn: (arg: never) => void): () => void;
  start(): void;
  stop(): void;
  chat(text: string): Promise<{ seq: number }>;
  vote(): Promise<{ seq: number; count: number }>;
  setTopic(topic: string): Promise<{ seq: number }>;
  sync(): Promise<void>;
}
type ChatClientClass = new (o: { url: string; room: string; name: string; member: string; connect: (url: string) => unknown; maxBackoffMs: number }) => ChatClient;

/** One client and what it saw. */
interface Tracked {
  readonly name: string;
  readonly client: ChatClient;
  readonly messages: RoomMsg[];
  /** Chat text -> when it arrived (ms). */
  readonly receivedAt: Map<string, number>;
  readonly hellos: { instance: string; resumedFrom: number | null; at: number }[];
  resyncs: number;
}

interface Ready {
  readonly url: string;
  readonly port: number;
  readonly redisPid: number | null;
  readonly instances: { id: string; pid: number; port: number; url: string }[];
}

let ChatClientCtor: ChatClientClass;
let launcher: ChildProcess | undefined;
let launcherErr = '';
let ready: Ready;
const clients: Tracked[] = [];
/** Every acknowledged chat message: text -> seq. */
const acked = new Map<string, number>();
/** Instances stopped by the tests. */
const killed = new Set<string>();

process.once('exit', () => {
  // Whatever happened, nothing of the example outlives the test: the launcher leads a process group of its own.
  if (launcher?.pid !== undefined && launcher.exitCode === null) {
    try {
      process.kill(-launcher.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

async function startExample(prefix: string): Promise<Ready> {
  const child = spawn(process.execPath, [START, '--port', '0', '--json', '--presence-ttl', String(PRESENCE_TTL_MS), '--prefix', prefix], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  launcher = child;
  child.stderr?.on('data', (c: Buffer) => (launcherErr = (launcherErr + c.toString()).slice(-8000)));
  let out = '';
  return new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start.mjs not ready in 30 s: ${out} ${launcherErr}`)), 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const end = out.indexOf('\n');
      if (end === -1) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, end)) as Ready);
      } catch {
        reject(new Error(`start.mjs printed ${out.slice(0, end)} instead of its ready line`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`start.mjs exited with ${code}: ${launcherErr}`));
    });
  });
}

/** A client of the page's code, through the gateway, keeping the sticky cookie as a browser does. */
function addClient(name: string): Tracked {
  let cookie = '';
  const connect = (url: string): WebSocket => {
    const ws = new WebSocket(url, { headers: cookie === '' ? {} : { cookie }, handshakeTimeout: 3000 });
    ws.on('upgrade', (res) => {
      const set = res.headers['set-cookie'];
      if (set !== undefined) cookie = set.map((c) => c.split(';')[0]).join('; ');
    });
    return ws;
  };
  const client = new ChatClientCtor({ url: `ws://127.0.0.1:${ready.port}/ws`, room: ROOM, name, member: `m-${name}`, connect, maxBackoffMs: 400 });
  const t: Tracked = { name, client, messages: [], receivedAt: new Map(), hellos: [], resyncs: 0 };
  client.on('message', (m: RoomMsg) => {
    t.messages.push(m);
    if (m.type === 'event' && m.event === 'chat' && typeof m.data?.text === 'string') t.receivedAt.set(m.data.text, Date.now());
  });
  client.on('hello', (h: { instance: string; resumedFrom: number | null }) => t.hellos.push({ ...h, at: Date.now() }));
  client.on('resync', () => t.resyncs++);
  client.start();
  clients.push(t);
  return t;
}

async function connected(t: Tracked): Promise<void> {
  await until(() => t.client.connected, 5000, `${t.name} connected`);
}

async function send(t: Tracked, text: string): Promise<void> {
  const { seq } = await t.client.chat(text);
  acked.set(text, seq);
}

/** The first break in the numbers `t` received ("" when none): each message once, one after the other. */
function gapIn(t: Tracked): string {
  const seqs = t.messages.map((m) => m.seq);
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== (seqs[i - 1] as number) + 1) return `${t.name}: seq ${seqs[i - 1]} then ${seqs[i]}`;
  }
  return '';
}

function missing(t: Tracked): string[] {
  return [...acked.keys()].filter((text) => !t.receivedAt.has(text));
}

async function health(port: number): Promise<{ id: string; votes: { role: string; owner: string } }> {
  const r = await request(port, { path: '/health' });
  return JSON.parse(r.body) as { id: string; votes: { role: string; owner: string } };
}

describe('rooms-chat example: three instances behind the gateway, one killed with SIGKILL', { timeout: 60_000 }, () => {
  before(async () => {
    ChatClientCtor = ((await import(CLIENT_JS)) as { ChatClient: ChatClientClass }).ChatClient;
    ready = await startExample(`rooms-chat-test-${randomBytes(3).toString('hex')}`);
  });

  after(async () => {
    for (const t of clients) t.client.stop();
    if (launcher !== undefined && launcher.exitCode === null && launcher.signalCode === null) {
      launcher.kill('SIGKILL');
      try {
        process.kill(-(launcher.pid as number), 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  it('serves the page and its scripts through the gateway', async () => {
    assert.equal(ready.instances.length, 3);
    const page = await request(ready.port, { path: '/' });
    assert.equal(page.status, 200);
    assert.match(page.body, /rooms-chat/);
    assert.match(String(page.headers['set-cookie']), /rooms_chat=/, 'the gateway pins the browser to an instance');
    const script = await request(ready.port, { path: '/chat-client.js' });
    assert.equal(script.status, 200);
    assert.match(String(script.headers['content-type']), /javascript/);
    assert.match(script.body, /export class ChatClient/);
  });

  it('spreads clients over the instances; they see one another, the topic and every vote and message', async (t) => {
    for (let i = 1; i <= CLIENTS; i++) await connected(addClient(`u${i}`));
    const on = new Set(clients.map((c) => c.client.instance));
    t.diagnostic(`clients per instance: ${JSON.stringify(clients.map((c) => `${c.name}@${c.client.instance}`))}`);
    assert.ok(on.size > 1, `every client landed on ${[...on].join()}`);

    await until(() => clients.every((c) => c.client.members.size === CLIENTS), 5000, () => `everyone online: ${clients.map((c) => c.client.members.size)}`);
    await (clients[0] as Tracked).client.setTopic('keyway rooms, live');
    await until(() => clients.every((c) => c.client.state.topic === 'keyway rooms, live'), 3000, 'the topic everywhere');

    const counts = await Promise.all(clients.map((c) => c.client.vote().then((r) => r.count)));
    assert.deepEqual(
      counts.sort((a, b) => a - b),
      Array.from({ length: CLIENTS }, (_, i) => i + 1),
      'one owner counts: every vote gets its own number',
    );
    await until(() => clients.every((c) => c.client.votes === CLIENTS), 3000, 'the count everywhere');

    await Promise.all(clients.flatMap((c) => [send(c, `${c.name}-a`), send(c, `${c.name}-b`)]));
    await until(() => clients.every((c) => missing(c).length === 0), 3000, 'every message everywhere');
    for (const c of clients) assert.equal(gapIn(c), '');
  });

  it('kill -9 of the votes owner: survivors keep chatting, its clients resume with fromSeq and miss nothing', async (t) => {
    const byId = new Map(ready.instances.map((i) => [i.id, i]));
    const owner = (await Promise.all(ready.instances.map((i) => health(i.port)))).find((h) => h.votes.role === 'owner');
    assert.ok(owner, 'an instance owns the votes singleton');
    // The victim must have clients: one that goes away for good, and at least one that comes back.
    for (let i = CLIENTS + 1; clients.filter((c) => c.client.instance === owner.id).length < 2 && i <= 2 * CLIENTS; i++) {
      await connected(addClient(`u${i}`));
    }
    const victim = byId.get(owner.id) as Ready['instances'][number];
    const onVictim = clients.filter((c) => c.client.instance === victim.id);
    assert.ok(onVictim.length >= 2, `${victim.id} has ${onVictim.length} clients`);
    await until(() => clients.every((c) => c.client.members.size === clients.length), 5000, 'everyone online');
    const [gone, ...resumers] = onVictim as [Tracked, ...Tracked[]];
    const survivors = clients.filter((c) => c.client.instance !== victim.id);
    const stillHere = [...survivors, ...resumers];
    gone.client.reconnect = false; // a tab closed together with the instance: it must drop off the online list
    const votesBefore = CLIENTS; // one each, above
    const lastBefore = new Map(resumers.map((c) => [c.name, c.client.lastSeq]));
    const wrongLeaves: string[] = [];
    for (const c of stillHere) {
      c.client.on('message', (m: RoomMsg) => {
        if (m.type === 'leave' && m.member !== gone.client.member) wrongLeaves.push(`${c.name} saw ${m.member} leave (${m.reason})`);
      });
    }

    const killedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    killed.add(victim.id);

    // The survivors chat on, one message every SEND_EVERY_MS, until every resumer is back and a bit more.
    const sentAt = new Map<string, number>();
    const sends: Promise<void>[] = [];
    const failures: string[] = [];
    let i = 0;
    let backAt = 0;
    const resumed = (c: Tracked): boolean => c.hellos.some((h) => h.at > killedAt && h.instance !== victim.id);
    while (Date.now() - killedAt < 15_000) {
      const from = survivors[i % survivors.length] as Tracked;
      const text = `during-${i++}-${from.name}`;
      sentAt.set(text, Date.now());
      sends.push(send(from, text).catch((err: unknown) => void failures.push(`${text}: ${String(err)}`)));
      await new Promise((r) => setTimeout(r, SEND_EVERY_MS));
      if (backAt === 0 && resumers.every(resumed)) backAt = Date.now();
      if (backAt !== 0 && Date.now() - backAt > 500) break;
    }
    assert.ok(backAt !== 0, `not every client of ${victim.id} came back in 15 s: ${launcherErr.slice(-1000)}`);
    await within(Promise.all(sends), 12_000, 'an answer to every message sent during the outage');
    assert.deepEqual(failures, [], 'nothing sent through a survivor failed');

    // Survivors: every message, promptly (they never noticed).
    await until(() => survivors.every((c) => missing(c).length === 0), 3000, () => `survivors missing ${survivors.map((c) => missing(c).length)}`);
    let worstLag = 0;
    for (const c of survivors) {
      for (const [text, at] of sentAt) worstLag = Math.max(worstLag, (c.receivedAt.get(text) as number) - at);
    }
    assert.ok(worstLag < 1500, `a survivor waited ${worstLag} ms for a message`);

    // Resumers: back through the gateway on a survivor, from where they were, with everything published meanwhile.
    await until(() => resumers.every((c) => missing(c).length === 0), 3000, () => `resumers missing ${resumers.map((c) => missing(c).slice(0, 3))}`);
    for (const c of resumers) {
      const hello = c.hellos.find((h) => h.at > killedAt) as Tracked['hellos'][number];
      assert.notEqual(hello.instance, victim.id);
      assert.ok(hello.resumedFrom !== null && hello.resumedFrom >= (lastBefore.get(c.name) as number) + 1, `${c.name} resumed from ${hello.resumedFrom}`);
      const url = new URL(c.client.connectUrls.at(-1) as string);
      assert.equal(url.searchParams.get('fromSeq'), String(hello.resumedFrom));
      assert.equal(url.searchParams.get('epoch'), c.client.epoch);
    }
    for (const c of clients) {
      assert.equal(gapIn(c), '', 'no message skipped or repeated');
      assert.equal(c.resyncs, 0, `${c.name} got a resync`);
      assert.equal(c.client.duplicates, 0, `${c.name} got a message twice`);
      assert.equal(c.client.emptyResyncs, 0, `${c.name} got a resync that skipped nothing`);
    }

    // Votes: the singleton moved to a survivor with the committed count, and counts on.
    const v1 = await (survivors[0] as Tracked).client.vote();
    assert.equal(v1.count, votesBefore + 1, 'no vote lost in the failover');
    const v2 = await (resumers[0] as Tracked).client.vote();
    assert.equal(v2.count, votesBefore + 2);
    const owners = (await Promise.all(ready.instances.filter((x) => x !== victim).map((x) => health(x.port)))).filter((h) => h.votes.role === 'owner');
    assert.equal(owners.length, 1, 'one survivor owns the votes now');
    await until(() => stillHere.every((c) => c.client.votes === votesBefore + 2), 3000, 'the new count everywhere');

    // Online list: the client that went away expires with its instance; everyone still connected stays listed.
    const here = new Set(stillHere.map((c) => c.client.member)).size;
    await until(
      () => stillHere.every((c) => c.client.members.size === here && !c.client.members.has(gone.client.member)),
      PRESENCE_TTL_MS + 5000,
      () => `online lists: ${stillHere.map((c) => [...c.client.members.keys()].join(' ')).join(' | ')}`,
    );
    for (const c of stillHere) {
      for (const m of c.client.members.values()) assert.notEqual(m.instance, victim.id, `${m.name} listed on the dead instance`);
      const expired = c.messages.find((m) => m.type === 'leave' && m.member === gone.client.member);
      assert.equal(expired?.reason, 'expired');
    }
    const fresh = stillHere[0] as Tracked;
    await fresh.client.sync(); // members() read again from Redis
    assert.equal(fresh.client.members.size, here);
    assert.deepEqual(wrongLeaves, [], 'nobody still connected was dropped');
    t.diagnostic(
      `victim ${victim.id} (${onVictim.length} clients); back in ${backAt - killedAt} ms; ${sentAt.size} messages during the outage; ` +
        `worst survivor lag ${worstLag} ms; votes ${votesBefore} -> ${v2.count}`,
    );
  });

  it('SIGTERM of the new votes owner: it hands the singleton over, its clients move with no gap', async (t) => {
    const live = clients.filter((c) => c.client.connected);
    const healths = await Promise.all(ready.instances.filter((i) => !killed.has(i.id)).map((i) => health(i.port)));
    const owner = healths.find((h) => h.votes.role === 'owner');
    assert.ok(owner, 'a survivor owns the votes');
    const leaving = ready.instances.find((i) => i.id === owner.id) as Ready['instances'][number];
    const moving = live.filter((c) => c.client.instance === leaving.id);
    const staying = live.filter((c) => c.client.instance !== leaving.id);
    assert.ok(moving.length > 0 && staying.length > 0, `${leaving.id} serves ${moving.length} of ${live.length}`);
    const votes = live[0]?.client.votes as number;
    const stoppedAt = Date.now();
    process.kill(leaving.pid, 'SIGTERM');
    killed.add(leaving.id);
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      const from = staying[i % staying.length] as Tracked;
      sends.push(send(from, `moving-${i}-${from.name}`));
      await new Promise((r) => setTimeout(r, SEND_EVERY_MS));
    }
    await within(Promise.all(sends), 10_000, 'answers to the messages sent while it stopped');
    await until(() => moving.every((c) => c.hellos.some((h) => h.at > stoppedAt && h.instance !== leaving.id)), 10_000, 'its clients back');
    await until(() => live.every((c) => missing(c).length === 0), 3000, () => `missing ${live.map((c) => missing(c).length)}`);
    for (const c of live) {
      assert.equal(gapIn(c), '', 'no message skipped or repeated');
      assert.equal(c.resyncs, 0, `${c.name} got a resync`);
    }
    const v = await (moving[0] as Tracked).client.vote();
    assert.equal(v.count, votes + 1, 'the released singleton went on with its count');
    await until(() => live.every((c) => c.client.members.size === live.length), 5000, 'everyone still online');
    const back = Math.max(...moving.map((c) => (c.hellos.at(-1)?.at ?? 0) - stoppedAt));
    const empty = live.reduce((n, c) => n + c.client.emptyResyncs, 0);
    t.diagnostic(`${leaving.id} stopped with ${moving.length} clients; they were back in ${back} ms; resyncs that skipped nothing: ${empty}`);
  });

  it('stops everything on SIGTERM (Ctrl-C)', async () => {
    for (const c of clients) c.client.stop();
    const child = launcher as ChildProcess;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running after 10 s'), 10_000).unref())]);
    assert.equal(code, 0, launcherErr.slice(-2000));
    assert.doesNotMatch(launcherErr, /failed/, 'the instances reported no failure');
    const pids = [...ready.instances.map((i) => i.pid), ready.redisPid as number];
    await until(() => pids.every((pid) => !alive(pid)), 3000, 'every instance and redis-server gone');
  });
});

