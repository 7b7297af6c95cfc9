/**
 * @module config/schema: the zod schema of the config as users write it, a superset of smart-stick-loadbalancer's
 * `config.json`. It checks and normalises single fields; defaults, merging and checks across fields (pool
 * references, fallback loops) live in `validate.ts`, and every check carries its own short message so no zod
 * wording reaches users.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { STRATEGY_NAMES, type CustomStrategyFn, type HealthCheckFn, type SameSite, type StrategyName } from './types.js';

/** RFC 9110 `token`: header names, methods and cookie names must match it. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SAME_SITE: readonly SameSite[] = ['Strict', 'Lax', 'None'];
export const HASH_KEY_MESSAGE = 'must be "ip" or "header:<name>", "cookie:<name>", "query:<name>"';

/** How a value's type reads in a message: `string`, `array`, `null`, `NaN`. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A valid backend id: an integer or a non-empty string. Shared with the duplicate-id check. */
export function isBackendId(value: unknown): value is string | number {
  return (typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'string' && value !== '');
}

/** `header:X-User` -> `header:x-user`; undefined when malformed. Header names are case-insensitive, others not. */
export function normaliseHashKey(raw: string): string | undefined {
  if (raw.toLowerCase() === 'ip') return 'ip';
  const colon = raw.indexOf(':');
  const kind = raw.slice(0, colon).toLowerCase();
  const name = raw.slice(colon + 1);
  if (colon < 0 || !TOKEN.test(name)) return undefined;
  if (kind === 'header') return `header:${name.toLowerCase()}`;
  return kind === 'cookie' || kind === 'query' ? `${kind}:${name}` : undefined;
}

const int = (min: number, message: string, max = Number.MAX_SAFE_INTEGER) =>
  z.number().refine((v) => Number.isInteger(v) && v >= min && v <= max, { message });
/** Cross-field checks also run when sibling fields failed, so all problems surface in one pass. */
const ALWAYS = { when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null };
/** As ALWAYS, for the root, whose non-object input is reported once, by type. */
const ALWAYS_FOR_RECORDS = { when: (payload: { value: unknown }) => isRecord(payload.value) };
const positiveInt = () => int(1, 'must be a positive integer');
const nonEmpty = () => z.string().min(1, { message: 'must be a non-empty string' });
const token = (what: string) => z.string().regex(TOKEN, { message: `must be a valid ${what}` });
const absolutePath = () => z.string().refine((p) => p.startsWith('/'), { message: 'must start with "/"' });
const method = () => token('HTTP method').transform((m) => m.toUpperCase());
const algorithm = () => z.enum(['http', 'http-status']);

function fn<T>() {
  return z.custom<T>((v) => typeof v === 'function', {
    error: (issue) => `expected function, got ${describeType(issue.input)}`,
  });
}

const headers = () =>
  z.record(z.string(), z.string()).superRefine((record, ctx) => {
    for (const name of Object.keys(record)) {
      if (!TOKEN.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'must be a valid header name' });
    }
  });

const url = z.string().superRefine((raw, ctx) => {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a valid URL' });
    return;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `must be an http(s) URL, got ${JSON.stringify(raw)}` });
  }
});

const strategy = z.custom<StrategyName | CustomStrategyFn>(
  (v) => typeof v === 'function' || (STRATEGY_NAMES as readonly unknown[]).includes(v),
  {
    error: (issue) =>
      typeof issue.input === 'string'
        ? `unknown value ${JSON.stringify(issue.input)} (expected one of ${STRATEGY_NAMES.join(', ')}, or a function)`
        : `expected string or function, got ${describeType(issue.input)}`,
  },
);

const hashKey = z.string().transform((raw, ctx) => {
  const normal = normaliseHashKey(raw);
  if (normal === undefined) ctx.addIssue({ code: 'custom', message: HASH_KEY_MESSAGE });
  return normal ?? z.NEVER;
});

/** Case-insensitive in, canonical case out (`lax` -> `Lax`), since cookies print it verbatim. */
const sameSite = z.string().transform((raw, ctx) => {
  const match = SAME_SITE.find((v) => v.toLowerCase() === raw.toLowerCase());
  if (match === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown value ${JSON.stringify(raw)} (expected one of ${SAME_SITE.join(', ')})`,
    });
  }
  return match ?? z.NEVER;
});

const healthSchema = z
  .strictObject({
    interval: positiveInt().optional(),
    intervalMs: positiveInt().optional(),
    path: absolutePath().optional(),
    method: method().optional(),
    algorithm: algorithm().optional(),
    timeout: positiveInt().optional(),
    timeoutMs: positiveInt().optional(),
    headers: headers().optional(),
    check: fn<HealthCheckFn>().optional(),
    rise: int(1, 'must be an integer >= 1').optional(),
    fall: int(1, 'must be an integer >= 1').optional(),
  })
  .superRefine((h, ctx) => {
    // Two spellings of one setting: refuse rather than silently prefer one.
    if (h.interval !== undefined && h.intervalMs !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['intervalMs'], message: 'give interval or intervalMs, not both' });
    }
    if (h.timeout !== undefined && h.timeoutMs !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['timeoutMs'], message: 'give timeout or timeoutMs, not both' });
    }
  }, ALWAYS);

/** Fields smart-stick adds to its live backend objects (and prints at `/_lb/health`): accepted, then ignored. */
const SMART_STICK_RUNTIME_FIELDS = ['healthy', 'requests', 'activeConnections', 'lastChecked'] as const;
const tolerated = Object.fromEntries(SMART_STICK_RUNTIME_FIELDS.map((k) => [k, z.unknown().optional()])) as Record<
  (typeof SMART_STICK_RUNTIME_FIELDS)[number],
  z.ZodOptional<z.ZodUnknown>
>;

const backendSchema = z.strictObject({
  id: z.custom<string | number>(isBackendId, { message: 'must be an integer or a non-empty string' }).optional(),
  url,
  weight: int(0, 'must be an integer >= 0').optional(),
  owner: z.string().optional(),
  healthPath: absolutePath().optional(),
  healthMethod: method().optional(),
  healthAlgorithm: algorithm().optional(),
  healthTimeout: positiveInt().optional(),
  healthHeaders: headers().optional(),
  healthCheck: fn<HealthCheckFn>().optional(),
  ...tolerated,
});

const stickyObject = z.strictObject({
  cookie: token('cookie name').optional(),
  secret: nonEmpty().optional(),
  maxAgeMs: positiveInt().optional(),
  secure: z.boolean().optional(),
  sameSite: sameSite.optional(),
});

/** Browsers drop SameSite=None cookies that lack Secure, which would silently disable stickiness. */
export const SAME_SITE_NONE_MESSAGE = '"None" requires secure: true';

const stickySchema = z.union([
  z.boolean(),
  stickyObject.superRefine((s, ctx) => {
    if (s.sameSite === 'None' && s.secure !== true) {
      ctx.addIssue({ code: 'custom', path: ['sameSite'], message: SAME_SITE_NONE_MESSAGE });
    }
  }, ALWAYS),
]);

/** A pool's sticky block inherits from the top-level one, so SameSite is checked after merging (validate.ts). */
const poolStickySchema = z.union([z.boolean(), stickyObject]);

const adminSchema = z.strictObject({
  path: z
    .string()
    .refine((p) => p.startsWith('/') && !p.endsWith('/'), { message: 'must start with "/" and not end with "/"' })
    .refine((p) => !/[\s?#]/.test(p), { message: 'must not contain spaces, "?" or "#"' })
    .optional(),
  token: nonEmpty().optional(),
});

const nonNegativeInt = () => int(0, 'must be an integer >= 0');
const percent = () => int(0, 'must be an integer from 0 to 100', 100);

const timeoutsSchema = z.strictObject({
  connectMs: positiveInt().optional(),
  responseMs: positiveInt().optional(),
  upstreamIdleMs: positiveInt().optional(),
  clientHeadersMs: positiveInt().optional(),
  requestMs: nonNegativeInt().optional(),
  clientIdleMs: positiveInt().optional(),
  wsHandshakeMs: positiveInt().optional(),
  wsIdleMs: nonNegativeInt().optional(),
});

const retriesSchema = z.union([
  z.boolean(),
  z.strictObject({
    enabled: z.boolean().optional(),
    budgetPercent: percent().optional(),
    minPerSecond: nonNegativeInt().optional(),
    idempotencyKey: z.boolean().optional(),
  }),
]);

const outlierSchema = z.union([
  z.literal(false),
  z
    .strictObject({
      consecutiveFailures: positiveInt().optional(),
      on5xx: z.boolean().optional(),
      baseEjectionMs: positiveInt().optional(),
      maxEjectionMs: positiveInt().optional(),
      maxEjectionPercent: percent().optional(),
    })
    .superRefine((o, ctx) => {
      if (o.maxEjectionMs !== undefined && o.maxEjectionMs < (o.baseEjectionMs ?? 30_000)) {
        ctx.addIssue({ code: 'custom', path: ['maxEjectionMs'], message: 'must be >= baseEjectionMs' });
      }
    }, ALWAYS),
]);

const limitsSchema = z.strictObject({
  maxBodyBytes: nonNegativeInt().optional(),
  maxHeaderBytes: int(1024, 'must be an integer >= 1024').optional(),
  wsMaxBytes: positiveInt().optional(),
});

const webhookSchema = z.strictObject({
  url,
  format: z.enum(['json', 'slack']).optional(),
  headers: headers().optional(),
});

const alertsSchema = z.strictObject({
  holdMs: nonNegativeInt().optional(),
  webhooks: z.array(webhookSchema).optional(),
  attempts: positiveInt().optional(),
});

const metricsSchema = z.union([
  z.boolean(),
  z.strictObject({ enabled: z.boolean().optional(), processMetrics: z.boolean().optional() }),
]);

const accessLogSchema = z.union([z.boolean(), z.strictObject({ destination: nonEmpty() })]);

const ipAddress = z.string().refine((s) => isIP(s) !== 0, {
  error: (issue) => `must be an IP address, got ${JSON.stringify(issue.input)}`,
});

// ---- topology: pools, routes, fallback, Redis, boot handshake ------------------------------------------

/** The pool the top-level `backends` form. */
export const DEFAULT_POOL = 'default';
/** Pool names go into cookie names, metrics labels and Redis keys, so they stay this plain. */
export const POOL_NAME = /^[a-z0-9][a-z0-9_-]*$/;
/** Hostname labels (with `_`, which container names use) and the wildcard form `*.example.com`. */
const HOST_LABEL = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

/** Why `path` is not a usable path prefix, or undefined when it is. */
export function pathPrefixProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with "/"';
  if (/[?#*\s]/.test(path)) return 'must not contain "?", "#", "*" or spaces';
  if (path.split('/').includes('..')) return 'must not contain ".." segments';
  return undefined;
}

/** `/api/` -> `/api`; `/` stays. Prefixes match at a path boundary, so the trailing slash carries no meaning. */
export function normalisePathPrefix(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** An absolute path prefix; normalised unless `normalise` is false (`websocketPaths` keep their spelling). */
const pathPrefix = (normalise = true) =>
  z.string().transform((raw, ctx) => {
    const problem = pathPrefixProblem(raw);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    return problem !== undefined ? z.NEVER : normalise ? normalisePathPrefix(raw) : raw;
  });

/**
 * `Example.COM:8080` -> `example.com`, `[::1]:80` -> `[::1]`, `*.Example.com` -> `*.example.com`; undefined
 * when it is not a host name, an IP address or a `*.` wildcard.
 */
export function normaliseRouteHost(raw: string): string | undefined {
  const host = raw.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    const rest = host.slice(end + 1);
    if (end < 0 || !/^(:\d{1,5})?$/.test(rest)) return undefined;
    return isIP(host.slice(1, end)) === 6 ? host.slice(0, end + 1) : undefined;
  }
  const name = host.replace(/:\d{1,5}$/, '').replace(/\.$/, '');
  const labels = name.startsWith('*.') ? name.slice(2).split('.') : name.split('.');
  return labels.every((label) => HOST_LABEL.test(label)) ? name : undefined;
}

const routeHost = z.string().transform((raw, ctx) => {
  const host = normaliseRouteHost(raw);
  if (host === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a host name or IP address, optionally with a port or as "*.<domain>"' });
  }
  return host ?? z.NEVER;
});

const headerName = () =>
  z
    .string()
    .regex(TOKEN, { message: 'must be a valid header name' })
    .transform((name) => name.toLowerCase());

/** `"x-canary"` (present) or `"x-canary: 1"` (equal to `1`; spaces around the value are dropped, as HTTP does). */
const headerCondition = z.union([
  z.string().transform((raw, ctx) => {
    const colon = raw.indexOf(':');
    const name = (colon < 0 ? raw : raw.slice(0, colon)).trim();
    if (!TOKEN.test(name)) ctx.addIssue({ code: 'custom', message: 'must be "<name>" or "<name>:<value>" with a valid header name' });
    return { name: name.toLowerCase(), value: colon < 0 ? undefined : raw.slice(colon + 1).trim() };
  }),
  z.strictObject({ name: headerName(), value: z.string().optional() }),
]);

const routeSchema = z
  .strictObject({
    path: pathPrefix().optional(),
    host: routeHost.optional(),
    header: headerCondition.optional(),
    pool: nonEmpty(),
    stripPrefix: z.boolean().optional(),
  })
  .superRefine((r, ctx) => {
    if (r.path === undefined && r.host === undefined && r.header === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs at least one of path, host, header' });
    }
    if (r.stripPrefix === true && r.path === undefined) {
      ctx.addIssue({ code: 'custom', path: ['stripPrefix'], message: 'needs path' });
    }
  }, ALWAYS);

const backendList = () => z.array(backendSchema).min(1, { message: 'must contain at least 1 backend' });

/** A pool's own `fallback`: a pool name, or `false` for none even when a top-level `fallback` is set. */
const poolFallback = z.custom<string | false>((v) => v === false || (typeof v === 'string' && v !== ''), {
  message: 'must be a pool name or false',
});

const poolSchema = z.strictObject({
  backends: backendList(),
  strategy: strategy.optional(),
  hashKey: hashKey.optional(),
  sticky: poolStickySchema.optional(),
  health: healthSchema.optional(),
  fallback: poolFallback.optional(),
});

const poolsSchema = z.record(z.string(), poolSchema).superRefine((pools, ctx) => {
  for (const name of Object.keys(pools)) {
    if (!POOL_NAME.test(name)) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'pool names must be lower case letters, digits, "_" and "-", starting with a letter or digit' });
    }
  }
}, ALWAYS);

const fallbackSchema = z.union([
  nonEmpty(),
  z.strictObject({ pool: nonEmpty().optional(), header: headerName().optional(), toClient: z.boolean().optional() }),
]);

const port = () => int(1, 'must be an integer from 1 to 65535', 65535);

/** `"host:port"` (`"[::1]:26379"` for IPv6) or `{ host, port }`. */
const redisNode = z.union([
  z.string().transform((raw, ctx) => {
    const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(raw);
    const portNumber = Number(match?.[2]);
    if (match?.[1] === undefined || portNumber < 1 || portNumber > 65535) {
      ctx.addIssue({ code: 'custom', message: 'must be "<host>:<port>"' });
      return z.NEVER;
    }
    return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port: portNumber };
  }),
  z.strictObject({ host: nonEmpty(), port: port() }),
]);

/** The message never repeats the URL: it may carry a password. */
const redisUrl = z.string().superRefine((raw, ctx) => {
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    // reported below
  }
  if (parsed === undefined || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') {
    ctx.addIssue({ code: 'custom', message: 'must be a redis:// or rediss:// URL' });
  }
});

const redisObject = z
  .strictObject({
    url: redisUrl.optional(),
    sentinels: z.array(redisNode).min(1, { message: 'must contain at least 1 node' }).optional(),
    name: nonEmpty().optional(),
    cluster: z.array(redisNode).min(1, { message: 'must contain at least 1 node' }).optional(),
    username: nonEmpty().optional(),
    password: nonEmpty().optional(),
    tls: z.boolean().optional(),
    keyPrefix: nonEmpty()
      .refine((p) => !/[{}]/.test(p), { message: 'must not contain "{" or "}" (keyway puts it inside a hash tag)' })
      .optional(),
    required: z.boolean().optional(),
    connectTimeoutMs: positiveInt().optional(),
    syncIntervalMs: positiveInt().optional(),
    verdictTtlMs: positiveInt().optional(),
    stateTtlMs: positiveInt().optional(),
    healthQuorum: int(1, 'must be an integer >= 1').optional(),
    replicaId: nonEmpty().optional(),
  })
  .superRefine((r, ctx) => {
    const given = (['url', 'sentinels', 'cluster'] as const).filter((k) => r[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: `give exactly one of url, sentinels, cluster (got ${given.length === 0 ? 'none' : given.join(', ')})` });
    }
    if (r.sentinels !== undefined && r.name === undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'required with sentinels' });
    if (r.sentinels === undefined && r.name !== undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'only used with sentinels' });
    if (typeof r.url === 'string' && /^rediss:/i.test(r.url) && r.tls === false) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'a rediss:// URL always uses TLS' });
    }
    if (typeof r.url === 'string' && hasUrlCredentials(r.url) && (r.username !== undefined || r.password !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give credentials in the URL or as username/password, not both' });
    }
  }, ALWAYS);

function hasUrlCredentials(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}

const redisSchema = z.union([redisUrl, redisObject]);

const bootHandshakeSchema = z.union([
  z.boolean(),
  z.strictObject({
    path: absolutePath()
      .refine((p) => !/[\s#]/.test(p), { message: 'must not contain spaces or "#"' })
      .optional(),
    intervalMs: positiveInt().optional(),
    timeoutMs: positiveInt().optional(),
    expect: z.record(z.string(), nonEmpty()).optional(),
  }),
]);

/** The whole input. Strict: unknown keys are typos until proven otherwise. */
export const configSchema = z
  .strictObject({
    /** Editors' JSON-schema pointer; harmless, so tolerated. */
    $schema: z.string().optional(),
    host: nonEmpty().optional(),
    port: int(0, 'must be an integer from 0 to 65535', 65535).optional(),
    strategy: strategy.optional(),
    hashKey: hashKey.optional(),
    backends: backendList().optional(),
    health: healthSchema.optional(),
    sticky: stickySchema.optional(),
    email: z.record(z.string(), z.unknown()).optional(),
    admin: adminSchema.optional(),
    timeouts: timeoutsSchema.optional(),
    trustedProxies: z.array(ipAddress).optional(),
    preserveHost: z.boolean().optional(),
    shutdownGraceMs: int(0, 'must be an integer >= 0').optional(),
    retries: retriesSchema.optional(),
    outlier: outlierSchema.optional(),
    whenAllDown: z.enum(['reject', 'fail-open']).optional(),
    slowStartMs: nonNegativeInt().optional(),
    drainTimeoutMs: nonNegativeInt().optional(),
    limits: limitsSchema.optional(),
    metrics: metricsSchema.optional(),
    accessLog: accessLogSchema.optional(),
    alerts: alertsSchema.optional(),
    pools: poolsSchema.optional(),
    routes: z.array(routeSchema).optional(),
    defaultPool: nonEmpty().nullable().optional(),
    serviceRoutes: z.union([z.boolean(), z.strictObject({ prefix: pathPrefix() })]).optional(),
    websocketPool: nonEmpty().optional(),
    websocketPaths: z.array(pathPrefix(false)).optional(),
    fallback: fallbackSchema.optional(),
    redis: redisSchema.optional(),
    bootHandshake: bootHandshakeSchema.optional(),
    strictBootHandshake: z.boolean().optional(),
  })
  .superRefine((c, ctx) => {
    // Today's rule (backends required) holds unless pools bring their own backends (a bad `pools` is reported alone).
    const noPools = c.pools === undefined || (isRecord(c.pools) && Object.keys(c.pools).length === 0);
    if (c.backends === undefined && noPools) ctx.addIssue({ code: 'custom', path: ['backends'], message: 'required' });
    if (c.backends !== undefined && isRecord(c.pools) && Object.hasOwn(c.pools, DEFAULT_POOL)) {
      ctx.addIssue({
        code: 'custom',
        path: ['pools', DEFAULT_POOL],
        message: 'the top-level backends already form the pool "default": rename this pool or move them into it',
      });
    }
  }, ALWAYS_FOR_RECORDS);

/** The parsed, normalised input: shapes checked, defaults not yet applied. */
export type ConfigInput = z.output<typeof configSchema>;
export type BackendInput = z.output<typeof backendSchema>;
export type HealthInput = NonNullable<ConfigInput['health']>;
export type StickyInput = NonNullable<ConfigInput['sticky']>;
export type PoolInput = z.output<typeof poolSchema>;
export type RouteInput = z.output<typeof routeSchema>;
export type RedisInput = NonNullable<ConfigInput['redis']>;
