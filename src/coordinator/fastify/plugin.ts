/**
 * @module coordinator/fastify/plugin: `coordinatorPlugin`, which gives a Fastify app a registry and the helpers
 * bound to it as `app.coordinator` (or `app[decorateAs]`). Not encapsulated, like a `fastify-plugin` plugin, so
 * the decoration is visible where the plugin was registered; fastify itself is only a type import here.
 */
import type { FastifyInstance, FastifyPluginAsync, RouteHandlerMethod } from 'fastify';
import { Registry } from '../registry.js';
import type { RegistryOptions } from '../registry-options.js';
import { lookupAndDeregister, type LookupAndDeregisterOptions } from './lookup-and-deregister.js';
import { lookupAndProxy, type LookupAndProxyOptions } from './lookup-and-proxy.js';
import { lookupLockAndProxy, type LookupLockAndProxyOptions } from './lookup-lock-and-proxy.js';
import { pickAndRegister, type PickAndRegisterOptions } from './pick-and-register.js';
import { proxyVia, type ProxyResolver, type ProxyTarget, type ProxyViaOptions } from './proxy-via.js';

/** What the plugin decorates the app with: the registry and the helpers already bound to it. */
export interface Coordinator {
  /** The registry (for `listLiveMembers`, `resolveDestination` and the rest). */
  readonly registry: Registry;
  lookupAndProxy(options: LookupAndProxyOptions): RouteHandlerMethod;
  lookupLockAndProxy(options: LookupLockAndProxyOptions): RouteHandlerMethod;
  pickAndRegister<Body = unknown>(options: PickAndRegisterOptions<Body>): RouteHandlerMethod;
  lookupAndDeregister(options: LookupAndDeregisterOptions): RouteHandlerMethod;
  /** Like the helpers, with `timeoutMs` defaulting to the registry's `requestTimeout`. */
  proxyVia<T extends ProxyTarget = ProxyTarget>(resolve: ProxyResolver<T>, options?: ProxyViaOptions): RouteHandlerMethod;
}

/** The registry options the plugin passes on when it makes the registry itself. */
type OwnedRegistryOptions = Pick<RegistryOptions, 'keyPrefix' | 'strategy' | 'cache' | 'requestTimeout' | 'layout'>;
const OWNED_KEYS = ['redis', 'keyPrefix', 'strategy', 'cache', 'requestTimeout', 'layout'] as const;

export interface CoordinatorPluginOptions extends OwnedRegistryOptions {
  /** A Redis URL or client for the registry the plugin makes (and closes with the app). Required without `registry`. */
  readonly redis?: RegistryOptions['redis'];
  /**
   * A registry made by the caller, used instead of making one; the plugin never closes it (whoever creates a
   * resource closes it). Cannot be combined with the options above.
   */
  readonly registry?: Registry;
  /** Name of the decoration. Default `'coordinator'`. */
  readonly decorateAs?: string;
  /**
   * Register `@fastify/reply-from` (its `reply.from()`), as @platformatic/coordinator does, unless the app already
   * has it. Default: true when the package is installed (an optional peer dependency); `true` when it is not is an
   * error. keyway's own helpers do not need it.
   */
  readonly registerReplyFrom?: boolean;
  /** Options passed to `@fastify/reply-from` when the plugin registers it. */
  readonly replyFrom?: Record<string, unknown>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by `coordinatorPlugin` (unless renamed with `decorateAs`). */
    coordinator: Coordinator;
  }
}

/**
 * The Fastify plugin.
 *
 * @example
 * await app.register(coordinatorPlugin, { redis: 'redis://127.0.0.1:6379', keyPrefix: 'chat', requestTimeout: 10_000 });
 * app.post('/sessions', app.coordinator.pickAndRegister({ registerIdFrom: (b: { id: string }) => b.id }));
 * app.post('/sessions/:id/messages', app.coordinator.lookupAndProxy({
 *   destinationFrom: (req) => (req.params as { id: string }).id,
 *   reassignOrphans: true,
 * }));
 */
export const coordinatorPlugin: FastifyPluginAsync<CoordinatorPluginOptions> = createCoordinatorPlugin((o) => new Registry(o));

/**
 * The plugin, making its registry with `makeRegistry` (the `keyway-node/coordinator` entry's makes one on
 * platformatic's layout by default).
 */
export function createCoordinatorPlugin(makeRegistry: (options: RegistryOptions) => Registry): FastifyPluginAsync<CoordinatorPluginOptions> {
  return Object.assign(
    async function coordinator(app: FastifyInstance, options: CoordinatorPluginOptions): Promise<void> {
      const name = decorationName(options);
      // Checked before a registry (and its Redis connections) exists, so a clash leaks nothing.
      if (app.hasDecorator(name)) throw new Error(`coordinatorPlugin: the app already has a decorator named "${name}"`);
      await registerReplyFrom(app, options);
      const borrowed = borrowedRegistry(options);
      const registry = borrowed ?? makeRegistry(ownedOptions(options));
      app.decorate(name, bind(registry));
      if (borrowed === undefined) app.addHook('onClose', () => registry.close());
    },
    {
      // What the `fastify-plugin` package sets: run in the registering instance, named in printPlugins().
      [Symbol.for('skip-override')]: true,
      [Symbol.for('fastify.display-name')]: 'keyway-coordinator',
    },
  );
}

function bind(registry: Registry): Coordinator {
  return Object.freeze({
    registry,
    lookupAndProxy: (options: LookupAndProxyOptions) => lookupAndProxy(registry, options),
    lookupLockAndProxy: (options: LookupLockAndProxyOptions) => lookupLockAndProxy(registry, options),
    pickAndRegister: <Body>(options: PickAndRegisterOptions<Body>) => pickAndRegister(registry, options),
    lookupAndDeregister: (options: LookupAndDeregisterOptions) => lookupAndDeregister(registry, options),
    proxyVia: <T extends ProxyTarget>(resolve: ProxyResolver<T>, options: ProxyViaOptions = {}) =>
      proxyVia(resolve, { ...options, timeoutMs: options.timeoutMs ?? registry.requestTimeout }),
  });
}

function decorationName(options: CoordinatorPluginOptions): string {
  const name = options.decorateAs ?? 'coordinator';
  if (typeof name !== 'string' || name === '') throw new TypeError('coordinatorPlugin: decorateAs must be a non-empty string');
  return name;
}

/** The caller's registry, if any; refuses it mixed with registry options, one of which would be silently ignored. */
function borrowedRegistry(options: CoordinatorPluginOptions): Registry | undefined {
  if (options.registry === undefined) return undefined;
  if (!(options.registry instanceof Registry)) throw new TypeError('coordinatorPlugin: registry must be a Registry');
  const mixed = OWNED_KEYS.filter((key) => options[key] !== undefined);
  if (mixed.length > 0) {
    throw new TypeError(`coordinatorPlugin: pass either \`registry\` or registry options, not both (got ${mixed.join(', ')})`);
  }
  return options.registry;
}

/** The options of the registry the plugin makes. */
function ownedOptions(options: CoordinatorPluginOptions): RegistryOptions {
  if (options.redis === undefined) throw new TypeError('coordinatorPlugin requires either `redis` or `registry`');
  const picked: Record<string, unknown> = {};
  for (const key of OWNED_KEYS) if (options[key] !== undefined) picked[key] = options[key];
  return picked as unknown as RegistryOptions;
}

/**
 * Registers `@fastify/reply-from` as platformatic's plugin does. Loaded only here and only when present (an optional
 * peer dependency, like fastify itself), so keyway runs without it.
 */
async function registerReplyFrom(app: FastifyInstance, options: CoordinatorPluginOptions): Promise<void> {
  const asked = options.registerReplyFrom;
  if (asked === false || app.hasReplyDecorator('from')) return;
  let replyFrom: FastifyPluginAsync<Record<string, unknown>>;
  try {
    const loaded = (await import(REPLY_FROM)) as { default: FastifyPluginAsync<Record<string, unknown>> };
    replyFrom = loaded.default;
  } catch (err) {
    if (asked === true) throw new Error('coordinatorPlugin: registerReplyFrom needs the @fastify/reply-from package installed', { cause: err });
    return;
  }
  await app.register(replyFrom, options.replyFrom ?? {});
}

/** In a variable so that type checking and bundlers do not require the optional package. */
const REPLY_FROM = '@fastify/reply-from';
