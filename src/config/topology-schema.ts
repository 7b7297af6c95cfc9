/**
 * @module config/topology-schema: the zod schemas of the topology options: `pools`, `routes`, `fallback`, `redis`
 * and `bootHandshake`, with the normalisers for path prefixes and route hosts. References between them (a route's
 * pool, fallback loops) are checked after resolution, in `topology-checks.ts`.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { DESTINATION_STRATEGIES } from './types.js';
import { backendSchema, healthSchema, poolStickySchema } from './backend-schema.js';
import {
  absolutePath,
  ALWAYS,
  hashKey,
  int,
  keysMatching,
  nonEmpty,
  durationMs,
  normalisedString,
  parseUrl,
  positiveInt,
  strategy,
  TOKEN,
} from './field-schemas.js';

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
export const pathPrefix = (normalise = true) =>
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

const routeHost = normalisedString(
  normaliseRouteHost,
  'must be a host name or IP address, optionally with a port or as "*.<domain>"',
);

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

export const routeSchema = z
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

/** A pool's own `fallback`: a pool name, or `false` for none even when a top-level `fallback` is set. */
const poolFallback = z.custom<string | false>((v) => v === false || (typeof v === 'string' && v !== ''), {
  message: 'must be a pool name or false',
});

/** `path:<n>` (n >= 1) or `header:<name>`. */
const destinationFrom = z.string().superRefine((v, ctx) => {
  if (/^path:[1-9][0-9]*$/.test(v) || (v.startsWith('header:') && TOKEN.test(v.slice(7)))) return;
  ctx.addIssue({ code: 'custom', message: 'must be "path:<n>" (n >= 1) or "header:<name>"' });
});

const destinationSchema = z.strictObject({
  from: destinationFrom,
  claimOnMiss: z.boolean().optional(),
  reassignOrphans: z.boolean().optional(),
  keyPrefix: nonEmpty().optional(),
  layout: z.enum(['keyway', 'platformatic']).optional(),
  strategy: z.enum(DESTINATION_STRATEGIES).optional(),
  cache: z.union([z.literal(false), z.strictObject({ ttlMs: durationMs(0).optional(), max: positiveInt().optional() })]).optional(),
});

const poolSchema = z
  .strictObject({
    backends: z.array(backendSchema).optional(),
    strategy: strategy.optional(),
    hashKey: hashKey.optional(),
    sticky: poolStickySchema.optional(),
    health: healthSchema.optional(),
    fallback: poolFallback.optional(),
    destination: destinationSchema.optional(),
  })
  .superRefine((p, ctx) => {
    // A destination pool's backends are the coordinator's live members; any other pool needs its own.
    if (p.destination === undefined && (p.backends === undefined || p.backends.length === 0)) {
      ctx.addIssue({ code: 'custom', path: ['backends'], message: p.backends === undefined ? 'required' : 'must contain at least 1 backend' });
    }
    if (p.destination !== undefined && p.backends !== undefined && p.backends.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['backends'], message: "not allowed with destination: the pool's backends are the coordinator's live members" });
    }
  });

export const poolsSchema = z
  .record(z.string(), poolSchema)
  .superRefine(
    keysMatching(POOL_NAME, 'pool names must be lower case letters, digits, "_" and "-", starting with a letter or digit'),
    ALWAYS,
  );

export const fallbackSchema = z.union([
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

const redisNodes = () => z.array(redisNode).min(1, { message: 'must contain at least 1 node' });

/** The message never repeats the URL: it may carry a password. */
const redisUrl = z.string().superRefine((raw, ctx) => {
  const parsed = parseUrl(raw);
  if (parsed === undefined || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') {
    ctx.addIssue({ code: 'custom', message: 'must be a redis:// or rediss:// URL' });
  }
});

function hasUrlCredentials(raw: string): boolean {
  const parsed = parseUrl(raw);
  return parsed !== undefined && (parsed.username !== '' || parsed.password !== '');
}

const redisObject = z
  .strictObject({
    url: redisUrl.optional(),
    sentinels: redisNodes().optional(),
    name: nonEmpty().optional(),
    cluster: redisNodes().optional(),
    username: nonEmpty().optional(),
    password: nonEmpty().optional(),
    tls: z.boolean().optional(),
    keyPrefix: nonEmpty()
      .refine((p) => !/[{}]/.test(p), { message: 'must not contain "{" or "}" (keyway puts it inside a hash tag)' })
      .optional(),
    required: z.boolean().optional(),
    connectTimeoutMs: durationMs().optional(),
    syncIntervalMs: durationMs().optional(),
    verdictTtlMs: durationMs().optional(),
    stateTtlMs: durationMs().optional(),
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

export const redisSchema = z.union([redisUrl, redisObject]);

export const bootHandshakeSchema = z.union([
  z.boolean(),
  z.strictObject({
    path: absolutePath()
      .refine((p) => !/[\s#]/.test(p), { message: 'must not contain spaces or "#"' })
      .optional(),
    intervalMs: durationMs().optional(),
    timeoutMs: durationMs().optional(),
    expect: z.record(z.string(), nonEmpty()).optional(),
  }),
]);

export type PoolInput = z.output<typeof poolSchema>;
export type RouteInput = z.output<typeof routeSchema>;
