/**
 * @module config/schema: the zod schema of the config as users write it, a superset of smart-stick-loadbalancer's
 * `config.json`. It checks and normalises single fields; defaults and merging live in `validate.ts`, and every
 * check carries its own short message so no zod wording reaches users.
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

const stickySchema = z.union([
  z.boolean(),
  z
    .strictObject({
      cookie: token('cookie name').optional(),
      secret: nonEmpty().optional(),
      maxAgeMs: positiveInt().optional(),
      secure: z.boolean().optional(),
      sameSite: sameSite.optional(),
    })
    .superRefine((s, ctx) => {
      // Browsers drop SameSite=None cookies that lack Secure, which would silently disable stickiness.
      if (s.sameSite === 'None' && s.secure !== true) {
        ctx.addIssue({ code: 'custom', path: ['sameSite'], message: '"None" requires secure: true' });
      }
    }, ALWAYS),
]);

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

/** The whole input. Strict: unknown keys are typos until proven otherwise. */
export const configSchema = z.strictObject({
  /** Editors' JSON-schema pointer; harmless, so tolerated. */
  $schema: z.string().optional(),
  host: nonEmpty().optional(),
  port: int(0, 'must be an integer from 0 to 65535', 65535).optional(),
  strategy: strategy.optional(),
  hashKey: hashKey.optional(),
  backends: z.array(backendSchema).min(1, { message: 'must contain at least 1 backend' }),
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
});

/** The parsed, normalised input: shapes checked, defaults not yet applied. */
export type ConfigInput = z.output<typeof configSchema>;
export type BackendInput = ConfigInput['backends'][number];
export type HealthInput = NonNullable<ConfigInput['health']>;
