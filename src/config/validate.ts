/**
 * @module config/validate: user input -> one deep-frozen `GatewayConfig`, or one `ConfigError` that lists every
 * problem at once (so a user fixes a file in one pass, not one error per run). Shapes are checked first
 * (`schema.ts`); defaults are applied (`resolve-config.ts`), then checks across fields (pool references, duplicate
 * routes, fallback loops, Redis and stickiness: `topology-checks.ts`) run on the resolved result.
 */
import { ConfigError } from '../errors.js';
import { deepFreeze, isRecord, readInput } from './plain-data.js';
import { resolveConfig } from './resolve-config.js';
import { configSchema } from './schema.js';
import { duplicateIdIssues, topologyIssues } from './topology-checks.js';
import type { GatewayConfig } from './types.js';
import { toConfigIssues } from './zod-issues.js';

/** Values that win over the file, typically from CLI flags (`--port`, `--host`). */
export interface ConfigOverrides {
  readonly port?: number | undefined;
  readonly host?: string | undefined;
}

/**
 * Checks `input` (a parsed config file or a JS object), applies defaults and returns a deep-frozen config.
 * Functions (`strategy`, health checks) are kept as given and not frozen.
 *
 * @throws {ConfigError} with one `{ path, message }` per problem.
 * @example
 * const config = validateConfig({ backends: [{ url: 'http://127.0.0.1:3000' }] }, { port: 9000 });
 * config.backends[0].id; // '1'
 */
export function validateConfig(input: unknown, overrides: ConfigOverrides = {}): GatewayConfig {
  // A JS config may hold getters that throw, or data nested deep enough to overflow a recursive reader: both are
  // reported by path like any other problem.
  const read = readInput(input);
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  const merged = applyOverrides(read.value, overrides);
  const result = configSchema.safeParse(merged, { reportInput: true });
  const issues = result.success ? [] : result.error.issues.flatMap((issue) => toConfigIssues(issue, []));
  issues.push(...duplicateIdIssues(merged));
  if (!result.success || issues.length > 0) throw new ConfigError(issues);
  const config = resolveConfig(result.data);
  const crossIssues = topologyIssues(result.data, config);
  if (crossIssues.length > 0) throw new ConfigError(crossIssues);
  return deepFreeze(config);
}

function applyOverrides(input: unknown, overrides: ConfigOverrides): unknown {
  if (!isRecord(input)) return input;
  const out: Record<string, unknown> = { ...input };
  // Overrides go through the schema like file values, so a bad `--port` is reported as `port`.
  if (overrides.port !== undefined) out.port = overrides.port;
  if (overrides.host !== undefined) out.host = overrides.host;
  return out;
}
