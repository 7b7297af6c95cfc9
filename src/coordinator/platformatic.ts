/**
 * @module coordinator/platformatic: the `keyway-node/coordinator` entry's `Member`, `Registry` and
 * `coordinatorPlugin`: keyway's, on @platformatic/coordinator's key layout unless told otherwise (and keyway's own
 * for a Redis Cluster client, which that layout cannot use), so a service switches by changing its import and keeps
 * sharing its Redis or Valkey with pods not switched yet. The package root exports the same classes on keyway's
 * layout.
 */
import { isCluster, type RedisClient } from '../redis/index.js';
import { createCoordinatorPlugin } from './fastify/plugin.js';
import { Member as KeywayMember, type MemberOptions } from './member.js';
import type { RegistryOptions } from './registry-options.js';
import { Registry as KeywayRegistry } from './registry.js';
import type { CoordinatorLayout } from './store/index.js';

/** `options` with `layout: 'platformatic'` when it names none and its connection can use it. */
function platformaticByDefault<T extends { readonly layout?: CoordinatorLayout; readonly redis?: unknown }>(options: T): T {
  if (options === null || typeof options !== 'object' || options.layout !== undefined) return options;
  const redis = options.redis;
  if (typeof redis === 'object' && redis !== null && isCluster(redis as RedisClient)) return options;
  return { ...options, layout: 'platformatic' };
}

/** keyway's `Registry` on platformatic's layout by default (see the module). */
export class Registry extends KeywayRegistry {
  constructor(options: RegistryOptions) {
    super(platformaticByDefault(options));
  }
}

/** keyway's `Member` on platformatic's layout by default (see the module). */
export class Member extends KeywayMember {
  constructor(options: MemberOptions) {
    super(platformaticByDefault(options));
  }
}

/** keyway's `coordinatorPlugin`, making its registry on platformatic's layout by default. */
export const coordinatorPlugin = createCoordinatorPlugin((options) => new Registry(options));
