/**
 * @module test/helpers/load: steady HTTP load for chaos tests: requests at a fixed rate over a keep-alive agent,
 * at most `maxInflight` at once (a tick that would pass it skips the request and counts it as skipped). Every
 * request carries `x-req-id` and its outcome is kept, so a test can judge each one by when it was sent, and
 * `answered()` lets a test wait until some of the load has flowed instead of for a fixed time.
 */
import http from 'node:http';

export interface LoadOptions {
  readonly port: number;
  /** Requests per second. */
  readonly ratePerSecond: number;
  /** Most requests in flight at once. */
  readonly maxInflight: number;
  readonly path?: string;
  /** Per-request time limit (ms). Default 10000. */
  readonly timeoutMs?: number;
}

export interface Outcome {
  readonly id: string;
  /** `Date.now()` when the request was issued. */
  readonly sentAt: number;
  /** When the request was fully written to the socket; undefined if it never was. */
  flushedAt: number | undefined;
  finishedAt: number;
  /** 0 when no response arrived. */
  status: number;
  /** Response body (the backend's name for the fixture backends). */
  body: string;
  /** Error message when the exchange failed. */
  error: string | undefined;
}

export interface LoadSummary {
  sent: number;
  ok: number;
  failed: number;
  skipped: number;
}

const TICK_MS = 20;

/** A pending `answered()` call: how many of the requests it counts have completed so far. */
interface AnsweredWaiter {
  readonly n: number;
  readonly what: string;
  readonly match: (o: Outcome) => boolean;
  count: number;
  settle(error?: Error): void;
}

export class LoadGenerator {
  readonly outcomes: Outcome[] = [];
  readonly #options: LoadOptions;
  readonly #agent: http.Agent;
  readonly #pending = new Set<Promise<void>>();
  readonly #waiters = new Set<AnsweredWaiter>();
  #timer: NodeJS.Timeout | undefined;
  #carry = 0;
  #next = 0;
  skipped = 0;

  constructor(options: LoadOptions) {
    this.#options = options;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: options.maxInflight });
  }

  get inflight(): number {
    return this.#pending.size;
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Stops issuing requests and waits for those in flight (each is bounded by `timeoutMs`). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    this.#agent.destroy();
    for (const w of this.#waiters) w.settle(new Error(`load stopped while waiting for ${w.n} ${w.what}: ${w.count} so far`));
  }

  /**
   * Resolves once `n` requests that `match` picks (default: all) have completed, counting those already done; each is
   * judged when it completes, so `match` sees its status and body. Completed means a response or an error, so a failing
   * load ends the wait too and the test's own assertions report the failures. Rejects after `timeoutMs` naming `what`
   * (e.g. "answers from b"), or at `stop()`. Event-driven: each completion is counted where its outcome is recorded.
   */
  answered(n: number, timeoutMs: number, match: (o: Outcome) => boolean = () => true, what = 'answered requests'): Promise<void> {
    const count = this.outcomes.filter((o) => o.finishedAt !== 0 && match(o)).length;
    if (count >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: AnsweredWaiter = {
        n,
        what,
        match,
        count,
        settle: (error) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          if (error === undefined) resolve();
          else reject(error);
        },
      };
      const timer = setTimeout(() => {
        const load = `sent ${this.outcomes.length}, skipped ${this.skipped}`;
        waiter.settle(new Error(`timed out after ${timeoutMs} ms waiting for ${n} ${what}: ${waiter.count} so far (${load})`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  summary(filter: (o: Outcome) => boolean = () => true): LoadSummary {
    const picked = this.outcomes.filter(filter);
    const ok = picked.filter((o) => o.status === 200).length;
    return { sent: picked.length, ok, failed: picked.length - ok, skipped: this.skipped };
  }

  #tick(): void {
    this.#carry += (this.#options.ratePerSecond * TICK_MS) / 1000;
    while (this.#carry >= 1) {
      this.#carry -= 1;
      if (this.#pending.size >= this.#options.maxInflight) this.skipped++;
      else this.#send();
    }
  }

  #completed(outcome: Outcome): void {
    for (const w of this.#waiters) if (w.match(outcome) && ++w.count >= w.n) w.settle();
  }

  #send(): void {
    const outcome: Outcome = {
      id: `r${this.#next++}`,
      sentAt: Date.now(),
      flushedAt: undefined,
      finishedAt: 0,
      status: 0,
      body: '',
      error: undefined,
    };
    this.outcomes.push(outcome);
    const done = new Promise<void>((resolve) => {
      const finish = (error?: Error): void => {
        if (outcome.finishedAt !== 0) return;
        outcome.finishedAt = Date.now();
        if (error !== undefined) {
          outcome.status = 0;
          outcome.error = `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`.trim();
        }
        this.#completed(outcome);
        resolve();
      };
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.#options.port,
          path: this.#options.path ?? '/',
          agent: this.#agent,
          headers: { 'x-req-id': outcome.id },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            outcome.status = res.statusCode ?? 0;
            outcome.body = Buffer.concat(chunks).toString();
            finish();
          });
          res.on('error', finish);
          res.on('aborted', () => finish(new Error('response aborted')));
        },
      );
      req.once('finish', () => (outcome.flushedAt = Date.now()));
      req.setTimeout(this.#options.timeoutMs ?? 10_000, () => req.destroy(new Error('load request timed out')));
      req.on('error', finish);
      req.end();
    });
    this.#pending.add(done);
    void done.then(() => this.#pending.delete(done));
  }
}

/** Sum of every sample of `name` in Prometheus text (all label sets). */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
