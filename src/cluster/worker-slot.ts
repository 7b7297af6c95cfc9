/**
 * @module cluster/worker-slot: one place in the cluster (slot i of `workers`) as the primary sees it: the process
 * that fills it now, what it last reported, and its respawn policy.
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { WorkerStats } from './messages.js';
import { RespawnPolicy, type RespawnOptions } from './respawn-policy.js';

export type WorkerState = 'starting' | 'ready' | 'hung' | 'draining' | 'exited' | 'given-up';

/** One worker process. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly startedAt: number;
  state: WorkerState;
  stats: WorkerStats | null;
  lastStatsAt: number;
  /** Connections handed over since its last stats. */
  sentSinceStats: number;
  /** Set when the primary asked it to go (drain, kill): its exit is not a crash. */
  expected: boolean;
  hungSince: number;
  /** Connections sent to it that it has not yet said it took, by id (the primary's descriptor is still open). */
  readonly unacked: Map<number, Socket>;
  /** Per-request mode: its backend in the primary's gateway. */
  backend: { readonly id: string; readonly url: string } | null;
  /** Per-request mode: it said ready (it joins the gateway once it also listens). */
  readyAsked: boolean;
}

export class WorkerSlot {
  readonly index: number;
  readonly policy: RespawnPolicy;
  current: WorkerProcess | null = null;
  restarts = 0;
  givenUp = false;
  respawnTimer: NodeJS.Timeout | undefined;

  constructor(index: number, respawn: RespawnOptions) {
    this.index = index;
    this.policy = new RespawnPolicy(respawn);
  }
}

export function workerProcess(child: ChildProcess, now: number): WorkerProcess {
  return { child, startedAt: now, state: 'starting', stats: null, lastStatsAt: now, sentSinceStats: 0, expected: false, hungSince: 0, unacked: new Map(), backend: null, readyAsked: false };
}
