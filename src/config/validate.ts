/**
 * @module config/validate: user input -> one deep-frozen `GatewayConfig`, or one `ConfigError` that lists every
 * problem at once (so a user fixes a file in one pass, not one error per run).
 */
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { configSchema, describeType, isBackendId, type BackendInput, type ConfigInput, type HealthInput } from './schema.js';
import type {
  BackendConfig,
  GatewayConfig,
  HealthSettings,
  MetricsConfig,
  OutlierConfig,
  RetriesConfig,
  StickyConfig,
  TimeoutsConfig,
} from './types.js';

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
  const merged = applyOverrides(input, overrides);
  const result = configSchema.safeParse(merged, { reportInput: true });
  const issues = result.success ? [] : result.error.issues.flatMap((issue) => toConfigIssues(issue, []));
  issues.push(...duplicateIdIssues(merged));
  if (!result.success || issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(resolveConfig(result.data));
}

function applyOverrides(input: unknown, overrides: ConfigOverrides): unknown {
  if (!isRecord(input)) return input;
  const out: Record<string, unknown> = { ...input };
  // Overrides go through the schema like file values, so a bad `--port` is reported as `port`.
  if (overrides.port !== undefined) out.port = overrides.port;
  if (overrides.host !== undefined) out.host = overrides.host;
  return out;
}

// ---- zod issues -> ConfigIssue ---------------------------------------------------------------------------

type ZodIssue = z.core.$ZodIssue;

function toConfigIssues(issue: ZodIssue, prefix: readonly PropertyKey[]): ConfigIssue[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: joinPath([...path, key]), message: 'unknown field' }));
    case 'invalid_type':
      return [{ path: joinPath(path), message: typeMessage(issue.expected, issue.input, path.length === 0) }];
    case 'invalid_value':
      return [{ path: joinPath(path), message: enumMessage(issue.input, issue.values) }];
    case 'invalid_union':
      return unionIssues(issue.errors, issue.input, path);
    default:
      // Every other check in schema.ts sets its own message.
      return [{ path: joinPath(path), message: issue.message }];
  }
}

function typeMessage(expected: string, input: unknown, isRoot: boolean): string {
  if (input === undefined && !isRoot) return 'required';
  return `expected ${expected === 'record' ? 'object' : expected}, got ${describeType(input)}`;
}

function enumMessage(input: unknown, values: readonly unknown[]): string {
  const list = values.map(String).join(', ');
  if (typeof input !== 'string') return `expected one of ${list}, got ${describeType(input)}`;
  return `unknown value ${JSON.stringify(input)} (expected one of ${list})`;
}

/**
 * A union fails as a whole. When no branch accepts the input's type, say which types fit; otherwise report the
 * branch that got the type right (e.g. `sticky: { sameSite: 'x' }` reports `sticky.sameSite`).
 */
function unionIssues(branches: readonly ZodIssue[][], input: unknown, path: readonly PropertyKey[]): ConfigIssue[] {
  const isTypeMiss = (b: readonly ZodIssue[]) => b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0;
  const matched = branches.filter((b) => !isTypeMiss(b));
  if (matched.length > 0) return matched.flatMap((b) => b.flatMap((issue) => toConfigIssues(issue, path)));
  const expected = branches.map((b) => (b[0]?.code === 'invalid_type' ? b[0].expected : 'value'));
  return [{ path: joinPath(path), message: `expected ${expected.join(' or ')}, got ${describeType(input)}` }];
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** Checked on the raw input so duplicates are reported even when other fields of the backends are bad. */
function duplicateIdIssues(input: unknown): ConfigIssue[] {
  const backends = isRecord(input) ? input.backends : undefined;
  if (!Array.isArray(backends)) return [];
  const firstIndex = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  backends.forEach((backend: unknown, index) => {
    const given = isRecord(backend) ? backend.id : undefined;
    const rawId = given ?? index + 1;
    if (!isBackendId(rawId)) return;
    const id = String(rawId);
    const first = firstIndex.get(id);
    if (first === undefined) {
      firstIndex.set(id, index);
      return;
    }
    // An id left out defaults to the position, which can collide with an explicit id: say so.
    const how = given === undefined ? ', the default from its position' : '';
    issues.push({ path: `backends.${index}.id`, message: `duplicate id ${JSON.stringify(id)}${how} (also backends.${first}.id)` });
  });
  return issues;
}

// ---- defaults and merging ------------------------------------------------------------------------------

function resolveConfig(input: ConfigInput): GatewayConfig {
  const health = resolveHealth(input.health ?? {});
  return {
    host: input.host ?? '0.0.0.0',
    port: input.port ?? 8080,
    strategy: input.strategy ?? 'round-robin',
    hashKey: input.hashKey,
    backends: input.backends.map((backend, index) => resolveBackend(backend, index, health)),
    health,
    sticky: resolveSticky(input.sticky),
    admin: { path: input.admin?.path ?? '/_lb', token: input.admin?.token },
    email: input.email === undefined ? undefined : (copyData(input.email) as Record<string, unknown>),
    timeouts: resolveTimeouts(input.timeouts ?? {}),
    trustedProxies: [...(input.trustedProxies ?? [])],
    preserveHost: input.preserveHost ?? true,
    shutdownGraceMs: input.shutdownGraceMs ?? 10_000,
    retries: resolveRetries(input.retries),
    outlier: resolveOutlier(input.outlier),
    whenAllDown: input.whenAllDown ?? 'reject',
    slowStartMs: input.slowStartMs ?? 0,
    drainTimeoutMs: input.drainTimeoutMs ?? 300_000,
    limits: {
      maxBodyBytes: input.limits?.maxBodyBytes,
      maxHeaderBytes: input.limits?.maxHeaderBytes ?? 16_384,
      wsMaxBytes: input.limits?.wsMaxBytes,
    },
    metrics: resolveMetrics(input.metrics),
    accessLog: resolveAccessLog(input.accessLog),
    alerts: {
      holdMs: input.alerts?.holdMs ?? 30_000,
      attempts: input.alerts?.attempts ?? 5,
      webhooks: (input.alerts?.webhooks ?? []).map((w) => ({ url: w.url, format: w.format ?? 'json', headers: { ...w.headers } })),
    },
  };
}

function resolveTimeouts(t: NonNullable<ConfigInput['timeouts']>): TimeoutsConfig {
  return {
    connectMs: t.connectMs ?? 5000,
    responseMs: t.responseMs ?? 30_000,
    upstreamIdleMs: t.upstreamIdleMs ?? 60_000,
    clientHeadersMs: t.clientHeadersMs ?? 10_000,
    requestMs: t.requestMs ?? 300_000,
    clientIdleMs: t.clientIdleMs ?? 5000,
    wsHandshakeMs: t.wsHandshakeMs ?? 10_000,
    wsIdleMs: t.wsIdleMs ?? 0,
  };
}

function resolveRetries(r: ConfigInput['retries']): RetriesConfig {
  const o = typeof r === 'object' ? r : {};
  return {
    enabled: typeof r === 'boolean' ? r : (o.enabled ?? true),
    budgetPercent: o.budgetPercent ?? 20,
    minPerSecond: o.minPerSecond ?? 3,
    idempotencyKey: o.idempotencyKey ?? false,
  };
}

function resolveOutlier(o: ConfigInput['outlier']): OutlierConfig | false {
  if (o === false) return false;
  return {
    consecutiveFailures: o?.consecutiveFailures ?? 5,
    on5xx: o?.on5xx ?? false,
    baseEjectionMs: o?.baseEjectionMs ?? 30_000,
    // As in Envoy, the cap is never below the first ejection.
    maxEjectionMs: o?.maxEjectionMs ?? Math.max(300_000, o?.baseEjectionMs ?? 30_000),
    maxEjectionPercent: o?.maxEjectionPercent ?? 50,
  };
}

function resolveMetrics(m: ConfigInput['metrics']): MetricsConfig {
  if (typeof m === 'boolean') return { enabled: m, processMetrics: false };
  return { enabled: m?.enabled ?? true, processMetrics: m?.processMetrics ?? false };
}

function resolveAccessLog(a: ConfigInput['accessLog']): false | { destination: string } {
  if (a === undefined || a === false) return false;
  return a === true ? { destination: 'stdout' } : { destination: a.destination };
}

function resolveHealth(h: HealthInput): HealthSettings {
  return {
    // `interval`/`timeout` are smart-stick's names; `*Ms` are keyway's. The schema forbids giving both.
    intervalMs: h.intervalMs ?? h.interval ?? 10_000,
    path: h.path ?? '/',
    method: h.method ?? 'GET',
    algorithm: h.algorithm ?? 'http-status',
    timeoutMs: h.timeoutMs ?? h.timeout ?? 2000,
    headers: { ...h.headers },
    check: h.check,
    rise: h.rise ?? 2,
    fall: h.fall ?? 3,
  };
}

/** Backend `health*` fields win. `healthHeaders` replaces the global headers (as in smart-stick), never merges. */
function resolveBackend(b: BackendInput, index: number, global: HealthSettings): BackendConfig {
  const rawId = b.id ?? index + 1;
  return {
    id: String(rawId),
    rawId,
    url: b.url,
    weight: b.weight ?? 1,
    owner: b.owner,
    health: {
      ...global,
      path: b.healthPath ?? global.path,
      method: b.healthMethod ?? global.method,
      algorithm: b.healthAlgorithm ?? global.algorithm,
      timeoutMs: b.healthTimeout ?? global.timeoutMs,
      headers: { ...(b.healthHeaders ?? global.headers) },
      check: b.healthCheck ?? global.check,
    },
  };
}

function resolveSticky(sticky: ConfigInput['sticky']): StickyConfig | false {
  if (sticky === false) return false;
  const s = sticky === true || sticky === undefined ? {} : sticky;
  return {
    cookie: s.cookie ?? 'keyway_sticky',
    // Left undefined on purpose: the gateway falls back to KEYWAY_STICKY_SECRET, then a random key.
    secret: s.secret,
    maxAgeMs: s.maxAgeMs,
    secure: s.secure ?? false,
    sameSite: s.sameSite ?? 'Lax',
  };
}

// ---- copying and freezing ------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPlain(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (!isRecord(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Copies plain objects and arrays so freezing never touches the caller's objects; anything else is shared. */
function copyData(value: unknown, copies = new WeakMap<object, unknown>()): unknown {
  if (!isPlain(value)) return value;
  const done = copies.get(value);
  if (done !== undefined) return done; // a cycle in a JS config maps onto the copy, not forever
  const out: object = Array.isArray(value) ? [] : {};
  copies.set(value, out);
  for (const [key, child] of Object.entries(value)) {
    // defineProperty, not assignment: a JSON key "__proto__" must stay data, not become a prototype.
    Object.defineProperty(out, key, { value: copyData(child, copies), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Freezes plain objects and arrays, depth-first. Functions and class instances stay as the user made them. */
function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (!isPlain(value) || seen.has(value)) return value;
  seen.add(value);
  for (const child of Object.values(value)) deepFreeze(child, seen);
  return Object.freeze(value);
}
