/**
 * @module config/backend-schema: the zod schemas of what a pool is made of: backends, health checks and sticky
 * sessions. Used at the top level (the pool `default`) and inside each of `pools`.
 */
import { z } from 'zod';
import {
  absolutePath,
  algorithm,
  ALWAYS,
  fn,
  headers,
  int,
  isBackendId,
  method,
  nonEmpty,
  durationMs,
  normalisedString,
  positiveInt,
  token,
  url,
  weight,
} from './field-schemas.js';
import type { HealthCheckFn, SameSite } from './types.js';

const SAME_SITE: readonly SameSite[] = ['Strict', 'Lax', 'None'];

export const healthSchema = z
  .strictObject({
    interval: durationMs().optional(),
    intervalMs: durationMs().optional(),
    path: absolutePath().optional(),
    method: method().optional(),
    algorithm: algorithm().optional(),
    timeout: durationMs().optional(),
    timeoutMs: durationMs().optional(),
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

export const backendSchema = z.strictObject({
  id: z.custom<string | number>(isBackendId, { message: 'must be an integer or a non-empty string' }).optional(),
  url,
  weight: weight().optional(),
  owner: z.string().optional(),
  healthPath: absolutePath().optional(),
  healthMethod: method().optional(),
  healthAlgorithm: algorithm().optional(),
  healthTimeout: durationMs().optional(),
  healthHeaders: headers().optional(),
  healthCheck: fn<HealthCheckFn>().optional(),
  ...tolerated,
});

export const backendList = () => z.array(backendSchema).min(1, { message: 'must contain at least 1 backend' });

/** Case-insensitive in, canonical case out (`lax` -> `Lax`), since cookies print it verbatim. */
const sameSite = normalisedString(
  (raw) => SAME_SITE.find((v) => v.toLowerCase() === raw.toLowerCase()),
  (raw) => `unknown value ${JSON.stringify(raw)} (expected one of ${SAME_SITE.join(', ')})`,
);

const stickyObject = z.strictObject({
  cookie: token('cookie name').optional(),
  secret: nonEmpty().optional(),
  maxAgeMs: positiveInt().optional(),
  secure: z.boolean().optional(),
  sameSite: sameSite.optional(),
});

/** Browsers drop SameSite=None cookies that lack Secure, which would silently disable stickiness. */
export const SAME_SITE_NONE_MESSAGE = '"None" requires secure: true';

export const stickySchema = z.union([
  z.boolean(),
  stickyObject.superRefine((s, ctx) => {
    if (s.sameSite === 'None' && s.secure !== true) {
      ctx.addIssue({ code: 'custom', path: ['sameSite'], message: SAME_SITE_NONE_MESSAGE });
    }
  }, ALWAYS),
]);

/** A pool's sticky block inherits from the top-level one, so SameSite is checked after merging (topology-checks.ts). */
export const poolStickySchema = z.union([z.boolean(), stickyObject]);

export type BackendInput = z.output<typeof backendSchema>;
