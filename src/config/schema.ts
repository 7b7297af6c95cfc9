/**
 * @module config/schema: the zod schema of the config as users write it, a superset of smart-stick-loadbalancer's
 * `config.json`. It checks and normalises single fields; defaults, merging and checks across fields (pool
 * references, fallback loops) live behind `validate.ts`, and every check carries its own short message so no zod
 * wording reaches users. Backend, health and sticky schemas are in `backend-schema.ts`, the topology ones (pools,
 * routes, fallback, Redis, boot handshake) in `topology-schema.ts`, the shared building blocks in `field-schemas.ts`.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { backendList, healthSchema, stickySchema } from './backend-schema.js';
import { ALWAYS, durationMs, hashKey, headers, int, nonEmpty, nonNegativeInt, positiveInt, strategy, url } from './field-schemas.js';
import { isRecord } from './plain-data.js';
import { bootHandshakeSchema, DEFAULT_POOL, fallbackSchema, pathPrefix, poolsSchema, redisSchema, routeSchema } from './topology-schema.js';

export { SAME_SITE_NONE_MESSAGE, type BackendInput } from './backend-schema.js';
export { describeType, HASH_KEY_MESSAGE, isBackendId, normaliseHashKey } from './field-schemas.js';
export {
  DEFAULT_POOL,
  normalisePathPrefix,
  normaliseRouteHost,
  pathPrefixProblem,
  POOL_NAME,
  type PoolInput,
  type RouteInput,
} from './topology-schema.js';

/** As ALWAYS (field-schemas.ts), for the root, whose non-object input is reported once, by type. */
const ALWAYS_FOR_RECORDS = { when: (payload: { value: unknown }) => isRecord(payload.value) };
const percent = () => int(0, 'must be an integer from 0 to 100', 100);

const adminSchema = z.strictObject({
  path: z
    .string()
    .refine((p) => p.startsWith('/') && !p.endsWith('/'), { message: 'must start with "/" and not end with "/"' })
    .refine((p) => !/[\s?#]/.test(p), { message: 'must not contain spaces, "?" or "#"' })
    .optional(),
  token: nonEmpty().optional(),
});

const timeoutsSchema = z.strictObject({
  connectMs: durationMs().optional(),
  responseMs: durationMs().optional(),
  upstreamIdleMs: durationMs().optional(),
  clientHeadersMs: durationMs().optional(),
  requestMs: durationMs(0).optional(),
  clientIdleMs: durationMs().optional(),
  wsHandshakeMs: durationMs().optional(),
  wsIdleMs: durationMs(0).optional(),
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
      baseEjectionMs: durationMs().optional(),
      maxEjectionMs: durationMs().optional(),
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
  maxHeaderBytes: int(1024, 'must be an integer from 1024 to 1048576', 1_048_576).optional(),
  maxHeaderCount: int(1, 'must be an integer from 1 to 10000', 10_000).optional(),
  maxConnections: positiveInt().optional(),
  wsMaxBytes: positiveInt().optional(),
});

const webhookSchema = z.strictObject({
  url,
  format: z.enum(['json', 'slack']).optional(),
  headers: headers().optional(),
});

const alertsSchema = z.strictObject({
  holdMs: durationMs(0).optional(),
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
    shutdownGraceMs: durationMs(0).optional(),
    retries: retriesSchema.optional(),
    outlier: outlierSchema.optional(),
    whenAllDown: z.enum(['reject', 'fail-open']).optional(),
    slowStartMs: durationMs(0).optional(),
    drainTimeoutMs: durationMs(0).optional(),
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
export type HealthInput = NonNullable<ConfigInput['health']>;
export type StickyInput = NonNullable<ConfigInput['sticky']>;
export type RedisInput = NonNullable<ConfigInput['redis']>;
