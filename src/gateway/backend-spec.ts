/**
 * @module gateway/backend-spec: a backend added at runtime as other replicas receive it. The resolved backend is
 * written as plain JSON (a custom health-check function cannot travel, so a receiving replica probes over HTTP
 * with the same settings) and checked field by field on the way back in: a bad value from the store is skipped,
 * never trusted.
 */
import type { BackendConfig, GatewayConfig, HealthSettings } from '../config/index.js';

export function specOf(b: BackendConfig): Record<string, unknown> {
  const { check: _check, ...health } = b.health;
  return { id: b.rawId, url: b.url, weight: b.weight, owner: b.owner ?? null, pool: b.pool, health };
}

/** The backend `spec` describes, or null when it is not usable here (malformed, or its pool does not exist). */
export function backendFromSpec(spec: Record<string, unknown>, config: GatewayConfig): BackendConfig | null {
  const { id, url, weight, owner, pool, health } = spec;
  if (typeof id !== 'string' && typeof id !== 'number') return null;
  if (typeof url !== 'string' || !isHttpUrl(url)) return null;
  if (typeof weight !== 'number' || !(weight >= 0) || !Number.isFinite(weight)) return null;
  if (typeof pool !== 'string') return null;
  const poolConfig = config.pools.find((p) => p.name === pool);
  if (poolConfig === undefined) return null;
  return {
    id: String(id),
    rawId: id,
    url,
    weight,
    owner: typeof owner === 'string' ? owner : undefined,
    pool,
    health: healthFrom(health, poolConfig.health),
  };
}

function healthFrom(value: unknown, base: HealthSettings): HealthSettings {
  if (typeof value !== 'object' || value === null) return base;
  const h = value as Record<string, unknown>;
  const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : d);
  const str = (v: unknown, d: string): string => (typeof v === 'string' && v !== '' ? v : d);
  const headers = typeof h.headers === 'object' && h.headers !== null ? (h.headers as Record<string, string>) : base.headers;
  return {
    intervalMs: num(h.intervalMs, base.intervalMs),
    path: str(h.path, base.path),
    method: str(h.method, base.method),
    algorithm: h.algorithm === 'http' || h.algorithm === 'http-status' ? h.algorithm : base.algorithm,
    timeoutMs: num(h.timeoutMs, base.timeoutMs),
    headers,
    check: undefined,
    rise: num(h.rise, base.rise),
    fall: num(h.fall, base.fall),
  };
}

function isHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
