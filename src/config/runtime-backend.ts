/** @module config/runtime-backend: one backend added at runtime, checked by the config file's rules. */
import { BadRequestError } from '../errors.js';
import type { BackendConfig, GatewayConfig } from './types.js';
import { validateConfig } from './validate.js';

/**
 * Validates one backend with the same rules as the config file, taking the health defaults of its pool (`pool`
 * in the body; default: the default pool, else the first).
 */
export function resolveRuntimeBackend(config: GatewayConfig, body: Record<string, unknown>): BackendConfig {
  const { pool: poolField, ...entry } = body;
  if (poolField !== undefined && typeof poolField !== 'string') throw new BadRequestError('pool: must be a string');
  const pool = poolField ?? config.defaultPool ?? config.pools[0]?.name ?? 'default';
  const h = config.pools.find((p) => p.name === pool)?.health ?? config.health;
  const validated = validateConfig({
    backends: [{ ...entry }],
    health: { intervalMs: h.intervalMs, path: h.path, method: h.method, algorithm: h.algorithm, timeoutMs: h.timeoutMs, headers: h.headers, check: h.check, rise: h.rise, fall: h.fall },
  });
  return { ...(validated.backends[0] as BackendConfig), pool };
}

