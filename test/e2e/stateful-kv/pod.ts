/**
 * @module test/e2e/stateful-kv/pod: one pod of the stateful-kv example (see examples/stateful-kv/README.md).
 * It keeps an in-memory key-value map per tenant and runs transactions that the coordinator routes to it by lock.
 *
 * Committed state is written through to shared storage (one JSON file per tenant, write-then-rename) before the
 * client is answered, and a pod rehydrates a tenant from there on first touch: that is what makes moving a tenant
 * to another pod safe. Uncommitted transactions live only in this process and die with it; a later request for
 * such a transaction finds no lock owner and gets 404 from the coordinator.
 *
 *   node pod.js --redis redis://127.0.0.1:6390 --prefix kv --id pod-a --port 0 --data /tmp/kv-data
 *
 * Prints `{"ready":true,"port":N,"memberId":"pod-a"}` on stdout once it listens and is registered. Started
 * without arguments (as `node --test` does with every file under test/) it exits 0 at once.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Member } from '../../../src/index.js';

/** Member record lifetime (s) and heartbeat period (ms): a killed pod is known dead at most ~2 s later. */
const TTL_S = 2;
const HEARTBEAT_MS = 500;
const MAX_VALUE_BYTES = 64 * 1024;
/** Tenant ids and keys become file names and URL segments: keep them plain. */
const ID = /^[\w.-]{1,64}$/;

/** Tenants held in memory: a cache of the committed files, filled on first touch. */
class TenantStore {
  readonly #dir: string;
  readonly #tenants = new Map<string, Promise<Map<string, string>>>();
  /** Per-tenant queue of file writes, so an older snapshot never lands after a newer one. */
  readonly #saving = new Map<string, Promise<void>>();
  #seq = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  get size(): number {
    return this.#tenants.size;
  }

  /** The tenant's map; read from storage on first touch (concurrent first touches share one read). */
  get(tenant: string): Promise<Map<string, string>> {
    let loading = this.#tenants.get(tenant);
    if (loading === undefined) {
      loading = this.#load(tenant);
      this.#tenants.set(tenant, loading);
      loading.catch(() => this.#tenants.delete(tenant));
    }
    return loading;
  }

  /** Applies `writes` at once (no await in between, so no reader sees half of them), then persists the tenant. */
  async commit(tenant: string, writes: ReadonlyMap<string, string>): Promise<void> {
    const data = await this.get(tenant);
    for (const [key, value] of writes) data.set(key, value);
    await this.#persist(tenant, data);
  }

  async #load(tenant: string): Promise<Map<string, string>> {
    try {
      const text = await readFile(this.#file(tenant), 'utf8');
      return new Map(Object.entries(JSON.parse(text) as Record<string, string>));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw err;
    }
  }

  /** Queues a write of the tenant's state as it is when the write runs; resolves once that state is on disk. */
  #persist(tenant: string, data: Map<string, string>): Promise<void> {
    const previous = this.#saving.get(tenant) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const tmp = join(this.#dir, `.${tenant}.${process.pid}.${this.#seq++}.tmp`);
        await writeFile(tmp, JSON.stringify(Object.fromEntries(data)));
        await rename(tmp, this.#file(tenant)); // atomic: a reader sees the old file or the new one
      });
    this.#saving.set(tenant, next);
    return next;
  }

  #file(tenant: string): string {
    return join(this.#dir, `${tenant}.json`);
  }
}

interface Transaction {
  readonly tenant: string;
  readonly writes: Map<string, string>;
}

/** An error answered as `{ error }` JSON with its status. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The pod's routes; `member` registers the locks of the transactions it opens. */
class KvPod {
  readonly #store: TenantStore;
  readonly #transactions = new Map<string, Transaction>();
  readonly #member: Member;

  constructor(store: TenantStore, member: Member) {
    this.#store = store;
    this.#member = member;
  }

  /** Answers one request; `body` is the request body as text. */
  async route(method: string, path: string, body: string): Promise<[number, unknown]> {
    const parts = path.split('/').slice(1).map(segment);
    const [root, id, what, key] = parts;
    if (root === 'tenants' && what === 'kv' && parts.length === 4) {
      if (method === 'GET') return this.#read(id as string, key as string);
      if (method === 'PUT') return this.#write(id as string, key as string, body);
    }
    if (root === 'tenants' && what === 'tx' && parts.length === 3 && method === 'POST') return this.#begin(id as string);
    if (root === 'tx' && what === 'kv' && parts.length === 4 && method === 'PUT') return this.#stage(id as string, key as string, body);
    if (root === 'tx' && parts.length === 3 && method === 'POST' && (what === 'commit' || what === 'abort')) {
      return what === 'commit' ? this.#commit(id as string) : this.#abort(id as string);
    }
    throw new HttpError(404, 'No such route');
  }

  async #read(tenant: string, key: string): Promise<[number, unknown]> {
    const value = (await this.#store.get(tenant)).get(key);
    if (value === undefined) throw new HttpError(404, 'Key not found');
    return [200, { tenant, key, value }];
  }

  async #write(tenant: string, key: string, value: string): Promise<[number, unknown]> {
    await this.#store.commit(tenant, new Map([[key, value]]));
    return [200, { tenant, key, value }];
  }

  /** Opens a transaction and routes its id to this pod (a lock in the registry). */
  async #begin(tenant: string): Promise<[number, unknown]> {
    await this.#store.get(tenant); // the tenant is ours from now on: rehydrate it before promising anything
    const txId = randomUUID();
    this.#transactions.set(txId, { tenant, writes: new Map() });
    await this.#member.registerLock(txId, tenant, { tenant });
    return [201, { txId, tenant }];
  }

  #stage(txId: string, key: string, value: string): [number, unknown] {
    this.#tx(txId).writes.set(key, value);
    return [200, { txId, key, staged: true }];
  }

  async #commit(txId: string): Promise<[number, unknown]> {
    const tx = this.#tx(txId);
    this.#transactions.delete(txId); // a second commit racing this one gets 404
    await this.#store.commit(tx.tenant, tx.writes);
    await this.#member.unregisterLock(txId);
    return [200, { txId, committed: tx.writes.size }];
  }

  async #abort(txId: string): Promise<[number, unknown]> {
    this.#tx(txId);
    this.#transactions.delete(txId);
    await this.#member.unregisterLock(txId);
    return [200, { txId, aborted: true }];
  }

  #tx(txId: string): Transaction {
    const tx = this.#transactions.get(txId);
    if (tx === undefined) throw new HttpError(404, 'Transaction not found');
    return tx;
  }
}

function segment(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'Bad path');
  }
  if (!ID.test(decoded)) throw new HttpError(400, 'Ids and keys are 1-64 of [A-Za-z0-9_.-]');
  return decoded;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_VALUE_BYTES) throw new HttpError(413, 'Value too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Every answer is JSON and names the pod (`x-pod`), so a client can see where its tenant lives. */
function handler(pod: KvPod, memberId: string): http.RequestListener {
  return (req, res) => {
    const send = (status: number, payload: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-pod': memberId });
      res.end(JSON.stringify(payload));
    };
    const path = new URL(req.url ?? '/', 'http://pod').pathname;
    readBody(req)
      .then((body) => pod.route(req.method ?? 'GET', path, body))
      .then(([status, payload]) => send(status, payload))
      .catch((err: unknown) => {
        if (err instanceof HttpError) send(err.status, { error: err.message });
        else send(500, { error: 'Internal error' });
        if (!(err instanceof HttpError)) process.stderr.write(`pod ${memberId}: ${String(err)}\n`);
      });
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string' },
      prefix: { type: 'string', default: 'stateful-kv' },
      id: { type: 'string' },
      port: { type: 'string', default: '0' },
      data: { type: 'string' },
    },
  });
  // node --test runs every file under test/: without arguments this is not a pod start, so leave quietly.
  if (values.redis === undefined || values.id === undefined || values.data === undefined) return;
  const memberId = values.id;
  await mkdir(values.data, { recursive: true });
  const store = new TenantStore(values.data);
  // Listen first: the member record carries the address, and nobody routes here before `register()`.
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(Number(values.port), '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const member = new Member({
    redis: values.redis,
    keyPrefix: values.prefix,
    memberId,
    address: `http://127.0.0.1:${port}`,
    ttl: TTL_S,
    heartbeatIntervalMs: HEARTBEAT_MS,
    getLoad: () => store.size,
  });
  server.on('request', handler(new KvPod(store, member), memberId));
  await member.register();
  process.stdout.write(`${JSON.stringify({ ready: true, port, memberId })}\n`);

  const stop = async (): Promise<void> => {
    // Deregister first: the coordinator stops routing here and our tenants move on their next request. Requests
    // already here finish (bounded), then the process exits.
    await member.deregister().catch(() => undefined);
    await member.close();
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 5000).unref();
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`pod failed to start: ${String(err)}\n`);
  process.exit(1);
});
