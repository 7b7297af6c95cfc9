/**
 * @module upstream/upstream: one backend: its address, weight, health verdict and live counters.
 * State changes go through `UpstreamPool` so the candidate list it caches stays true.
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

export class Upstream {
  readonly id: string;
  readonly rawId: string | number;
  readonly url: string;
  readonly owner: string | undefined;
  readonly health: HealthSettings;
  readonly target: UpstreamTarget;
  /** Configured weight; 0 takes no new traffic. Change through `UpstreamPool.setWeight`. */
  weight: number;
  /** Current verdict of the health checks. Change through `UpstreamPool.setHealthy`. */
  healthy = true;
  /** When the last probe finished. */
  lastChecked: Date | null = null;
  /** In-flight requests plus open WebSockets. */
  inflight = 0;
  /** Requests and WebSocket upgrades ever sent here. */
  requests = 0;

  constructor(config: BackendConfig) {
    this.id = config.id;
    this.rawId = config.rawId;
    this.url = config.url;
    this.owner = config.owner;
    this.health = config.health;
    this.weight = config.weight;
    this.target = parseTarget(config.url);
  }
}

function parseTarget(url: string): UpstreamTarget {
  const u = new URL(url);
  const protocol = u.protocol === 'https:' ? 'https:' : 'http:';
  const port = u.port ? Number(u.port) : protocol === 'https:' ? 443 : 80;
  // URL keeps IPv6 literals bracketed; sockets want them bare.
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const basePath = u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '');
  return { protocol, hostname, port, basePath };
}
