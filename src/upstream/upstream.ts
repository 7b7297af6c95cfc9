/**
 * @module upstream/upstream: one backend: its address, weights, health verdict, ejection, admin state and
 * live counters. State changes go through `UpstreamPool` so the candidate list it caches stays true.
 */
import type { BackendConfig, HealthSettings } from '../config/index.js';

/** Where to connect, parsed once. */
export interface UpstreamTarget {
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port: number;
  /** Path prefix from the backend URL without a trailing slash ('' for none). */
  readonly basePath: string;
}

/**
 * What the operator allows: `enabled` takes new clients; `draining` takes no new clients but keeps the
 * ones pinned to it (sticky sessions) so they finish; `disabled` takes no traffic at all and its pinned
 * clients are moved (HAProxy's `drain` and `maint`).
 */
/** Separates the id from the boot id in `stickyKey`; never part of a configured id. */
export const STICKY_SEPARATOR = '\u001f';

export type AdminState = 'enabled' | 'draining' | 'disabled';

export class Upstream {
  readonly id: string;
  readonly rawId: string | number;
  readonly url: string;
  readonly owner: string | undefined;
  readonly health: HealthSettings;
  readonly target: UpstreamTarget;
  /** Weight as configured (integer >= 0); 0 takes no new traffic. Change through `UpstreamPool.setWeight`. */
  configuredWeight: number;
  /**
   * Effective weight, what strategies see: `configuredWeight`, times the slow-start factor while the backend
   * ramps up after (re)joining, so it may be fractional. Kept by the pool.
   */
  weight: number;
  /** Current verdict of the active health checks. Change through `UpstreamPool.setHealthy`. */
  healthy = true;
  /** Until when (epoch ms) passive health keeps it out; 0 when not ejected. Kept by the pool. */
  ejectedUntil = 0;
  /** What the operator allows. Change through `UpstreamPool.setAdminState`. */
  adminState: AdminState = 'enabled';
  /** When the last probe finished. */
  lastChecked: Date | null = null;
  /** In-flight requests plus open WebSockets. */
  inflight = 0;
  /** Open WebSocket tunnels (also counted in `inflight`), so status can tell them apart. Kept by the gateway. */
  websockets = 0;
  /** Requests and WebSocket upgrades ever sent here. */
  requests = 0;
  /** The pool it belongs to. */
  readonly poolName: string;
  /** Boot id from the backend's boot handshake; null when unknown (handshake off, or no answer yet). */
  bootId: string | null = null;
  /**
   * What a sticky cookie pinning a client here signs: the id, plus the boot id once known, so cookies issued
   * before the backend restarted stop pinning (the sessions they pointed at died with the old process).
   */
  stickyKey: string;
  /**
   * Its boot handshake reports settings that differ from the topology's: it takes no traffic, even in panic
   * mode. Change through `UpstreamPool.setMismatch`.
   */
  mismatch = false;

  constructor(config: BackendConfig) {
    this.id = config.id;
    this.rawId = config.rawId;
    this.url = config.url;
    this.owner = config.owner;
    this.poolName = config.pool;
    this.stickyKey = config.id;
    this.health = config.health;
    this.configuredWeight = config.weight;
    this.weight = config.weight;
    this.target = parseTarget(config.url);
  }

  /** Records the boot id the handshake reported (see `stickyKey`). */
  setBootId(bootId: string): void {
    this.bootId = bootId;
    this.stickyKey = `${this.id}${STICKY_SEPARATOR}${bootId}`;
  }
}

function parseTarget(url: string): UpstreamTarget {
  return targetOfUrl(new URL(url));
}

/**
 * Where `address` points: `http(s)://host:port[/base]`, or `host:port` meaning http (a coordinator member's
 * address); null when it is unusable.
 */
export function addressTarget(address: string): UpstreamTarget | null {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`);
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? targetOfUrl(url) : null;
}

function targetOfUrl(u: URL): UpstreamTarget {
  const protocol = u.protocol === 'https:' ? 'https:' : 'http:';
  const port = u.port ? Number(u.port) : protocol === 'https:' ? 443 : 80;
  // URL keeps IPv6 literals bracketed; sockets want them bare.
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const basePath = u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '');
  return { protocol, hostname, port, basePath };
}
