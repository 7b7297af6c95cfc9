/**
 * @module observe/diagnostics: the `node:diagnostics_channel` channels keyway publishes on, named
 * `keyway:<area>:<event>`, so users can observe requests, picks, health and ownership without patching. A channel
 * with no subscriber costs one property read: every publish is guarded by `hasSubscribers`.
 *
 * @example
 * import diagnostics_channel from 'node:diagnostics_channel';
 * diagnostics_channel.subscribe('keyway:proxy:request-end', (m) => console.log(m));
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';

/** `keyway:proxy:request-start`: a request (or WebSocket upgrade) was routed and a backend picked. */
export interface RequestStartMessage {
  readonly req: IncomingMessage;
  readonly pool: string;
  readonly backend: string;
  readonly websocket: boolean;
}

/** `keyway:proxy:request-end`: the client side of an exchange closed. `status` 499 when it left unanswered. */
export interface RequestEndMessage {
  readonly req: IncomingMessage;
  readonly pool: string;
  readonly backend: string;
  readonly status: number;
  readonly durationMs: number;
  readonly attempts: number;
}

/** `keyway:balancer:pick`: a backend was chosen; `fallback` when the route's pool had none and its fallback served. */
export interface PickMessage {
  readonly pool: string;
  readonly backend: string | null;
  readonly fallback: boolean;
  readonly retry: boolean;
}

/** `keyway:health:transition`: a backend went down, came up, was ejected by passive health or returned. */
export interface HealthTransitionMessage {
  readonly pool: string;
  readonly backend: string;
  readonly transition: 'down' | 'up' | 'ejected' | 'returned';
}

/** `keyway:coordinator:ownership`: a destination was bound to a member (first touch) or moved to another. */
export interface OwnershipMessage {
  readonly destinationId: string;
  readonly memberId: string;
  readonly epoch: number;
  readonly change: 'claimed' | 'reassigned';
  readonly previous: readonly string[];
}

export const channels = {
  requestStart: diagnostics_channel.channel('keyway:proxy:request-start'),
  requestEnd: diagnostics_channel.channel('keyway:proxy:request-end'),
  pick: diagnostics_channel.channel('keyway:balancer:pick'),
  health: diagnostics_channel.channel('keyway:health:transition'),
  ownership: diagnostics_channel.channel('keyway:coordinator:ownership'),
} as const;

/** Every channel name, for docs and tests. */
export const CHANNEL_NAMES = Object.values(channels).map((c) => String(c.name));
