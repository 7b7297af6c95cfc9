/** @module gateway/events: what a gateway tells its listeners. */
import type { BackendStatus } from './backend-status.js';
import type { ReloadSummary } from './reload-diff.js';

export interface GatewayEvents {
  'backend:down': [backend: BackendStatus];
  'backend:up': [backend: BackendStatus];
  'backend:ejected': [backend: BackendStatus];
  'backend:returned': [backend: BackendStatus];
  /** A draining backend finished draining (idle or `drainTimeoutMs`) and now takes no traffic. */
  'backend:drained': [backend: BackendStatus];
  /** The boot handshake saw a new boot id: the backend restarted. */
  'backend:restarted': [backend: BackendStatus];
  /** The boot handshake reports settings that differ from the topology's; the backend takes no traffic. */
  'backend:mismatch': [backend: BackendStatus, differences: readonly string[]];
  reload: [summary: ReloadSummary];
}
