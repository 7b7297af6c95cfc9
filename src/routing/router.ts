/**
 * @module routing/router: request -> pool, from the resolved `routes`, `serviceRoutes`, `websocketPool` and
 * `defaultPool`. Pure and on the hot path: everything is compiled once, a request costs a few string compares,
 * and answers are shared frozen objects.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig, TopologyConfig } from '../config/index.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { HeaderCondition, HostCondition, hasPathAt, hasPathPrefix, hostNameEnd, normalisePrefix } from './route-rules.js';

/** Where a request goes. Shared and frozen: compare by value, never mutate. */
export interface RouteMatch {
  readonly pool: string;
  /** Path prefix to remove before forwarding (`stripPathPrefix`); '' when nothing is stripped. */
  readonly stripPrefix: string;
}

/** What `route()` reads of a request; an `IncomingMessage` fits. */
export interface RoutableRequest {
  /** The origin-form request target, query included (`/api/x?q=1`). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** The routing part of the topology, for building a Router without a whole config. */
export interface RouterOptions {
  readonly routes: readonly RouteConfig[];
  readonly defaultPool: string | null;
  readonly serviceRoutes: { readonly prefix: string } | false;
  readonly websocketPool: string | null;
  readonly websocketPaths: readonly string[];
  readonly poolNames: readonly string[];
}

type TopologySource = Pick<TopologyConfig, 'routes' | 'defaultPool' | 'serviceRoutes' | 'websocketPool' | 'websocketPaths' | 'pools'>;

interface CompiledRule {
  /** Normalised path prefix, or undefined for a rule without path (prefix length 0). */
  readonly path: string | undefined;
  readonly host: HostCondition | undefined;
  readonly header: HeaderCondition | undefined;
  readonly match: RouteMatch;
}

interface ServiceRoutes {
  /** `<prefix>/`, checked once before the pool names. */
  readonly base: string;
  readonly pools: readonly { readonly name: string; readonly match: RouteMatch }[];
}

/**
 * Picks the pool for a request, in this order: (1) WebSocket upgrades and `websocketPaths` go to `websocketPool`
 * when one is set; (2) among routes whose host and header conditions match, the longest path prefix wins (a rule
 * without path counts as length 0), then config order; (3) `serviceRoutes`: `/<prefix>/<service>[/...]` goes to
 * the pool `<service>` when it exists (the path is forwarded unchanged); (4) `defaultPool`; (5) null, which the
 * gateway answers with 404.
 *
 * @example
 * const router = new Router(config);
 * const match = router.route(req, false); // { pool: 'api', stripPrefix: '/api' } or null
 */
export class Router {
  /** Set when the answer does not depend on the request (no routes, services or WebSocket pool). */
  readonly #constant: boolean;
  readonly #fallthrough: RouteMatch | null;
  readonly #websocket: RouteMatch | null;
  readonly #websocketPaths: readonly string[];
  /** Longest path first, then config order. */
  readonly #rules: readonly CompiledRule[];
  readonly #needsHost: boolean;
  readonly #services: ServiceRoutes | null;

  constructor(source: RouterOptions | TopologySource) {
    const options = 'poolNames' in source ? source : { ...source, poolNames: source.pools.map((p) => p.name) };
    checkReferences(options);
    const matches = new MatchCache();
    this.#fallthrough = options.defaultPool === null ? null : matches.get(options.defaultPool, '');
    this.#websocket = options.websocketPool === null ? null : matches.get(options.websocketPool, '');
    this.#websocketPaths = options.websocketPaths.map(normalisePrefix);
    this.#rules = compileRules(options.routes, matches);
    this.#needsHost = options.routes.some((r) => r.host !== undefined);
    this.#services = compileServices(options, matches);
    this.#constant = this.#websocket === null && this.#rules.length === 0 && this.#services === null;
  }

  /** The pool for `req`, or null when nothing matches and there is no default pool. */
  route(req: RoutableRequest, upgrade: boolean): RouteMatch | null {
    if (this.#constant) return this.#fallthrough;
    const url = req.url;
    if (this.#websocket !== null && (upgrade || this.#isWebsocketPath(url))) return this.#websocket;
    if (this.#rules.length > 0) {
      const rule = this.#matchRule(url, req.headers);
      if (rule !== null) return rule;
    }
    if (this.#services !== null) return this.#matchService(url) ?? this.#fallthrough;
    return this.#fallthrough;
  }

  #isWebsocketPath(url: string): boolean {
    const paths = this.#websocketPaths;
    for (let i = 0; i < paths.length; i++) {
      if (hasPathPrefix(url, paths[i] as string)) return true;
    }
    return false;
  }

  /** `/<prefix>/<name>` at a path boundary, for an existing pool `<name>`. */
  #matchService(url: string): RouteMatch | null {
    const { base, pools } = this.#services as ServiceRoutes;
    if (!url.startsWith(base)) return null;
    for (let i = 0; i < pools.length; i++) {
      const pool = pools[i] as ServiceRoutes['pools'][number];
      if (hasPathAt(url, base.length, pool.name)) return pool.match;
    }
    return null;
  }

  #matchRule(url: string, headers: IncomingHttpHeaders): RouteMatch | null {
    const host = this.#needsHost ? headers.host : undefined;
    const hostEnd = host === undefined ? 0 : hostNameEnd(host);
    // Indexed loops: no iterator objects on the hot path.
    const rules = this.#rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as CompiledRule;
      if (rule.path !== undefined && !hasPathPrefix(url, rule.path)) continue;
      if (rule.host !== undefined && (host === undefined || !rule.host.matches(host, hostEnd))) continue;
      if (rule.header !== undefined && !rule.header.matches(headers)) continue;
      return rule.match;
    }
    return null;
  }
}

/** One frozen RouteMatch per (pool, stripPrefix), so equal answers are the same object. */
class MatchCache {
  readonly #matches = new Map<string, RouteMatch>();

  get(pool: string, stripPrefix: string): RouteMatch {
    const key = `${pool}\0${stripPrefix}`;
    let match = this.#matches.get(key);
    if (match === undefined) {
      match = Object.freeze({ pool, stripPrefix });
      this.#matches.set(key, match);
    }
    return match;
  }
}

function compileRules(routes: readonly RouteConfig[], matches: MatchCache): CompiledRule[] {
  const rules = routes.map((r): CompiledRule => {
    const path = r.path === undefined ? undefined : normalisePrefix(r.path);
    // Stripping `/` would turn `/x` into `x`: nothing to strip.
    const strip = r.stripPrefix && path !== undefined && path !== '/' ? path : '';
    return {
      path,
      host: r.host === undefined ? undefined : new HostCondition(r.host),
      header: r.header === undefined ? undefined : new HeaderCondition(r.header.name, r.header.value),
      match: matches.get(r.pool, strip),
    };
  });
  // Array.prototype.sort is stable, so equal lengths keep config order.
  return rules.sort((a, b) => (b.path?.length ?? 0) - (a.path?.length ?? 0));
}

function compileServices(options: RouterOptions, matches: MatchCache): ServiceRoutes | null {
  if (options.serviceRoutes === false || options.poolNames.length === 0) return null;
  const prefix = normalisePrefix(options.serviceRoutes.prefix);
  return {
    base: prefix === '/' ? '/' : `${prefix}/`,
    pools: options.poolNames.map((name) => ({ name, match: matches.get(name, '') })),
  };
}

/** A validated config always passes; this guards hand-built options, which would otherwise route into nothing. */
function checkReferences(options: RouterOptions): void {
  const known = new Set(options.poolNames);
  const issues: ConfigIssue[] = [];
  const check = (path: string, pool: string | null): void => {
    if (pool !== null && !known.has(pool)) issues.push({ path, message: `unknown pool ${JSON.stringify(pool)}` });
  };
  options.routes.forEach((r, i) => check(`routes.${i}.pool`, r.pool));
  check('defaultPool', options.defaultPool);
  check('websocketPool', options.websocketPool);
  if (issues.length > 0) throw new ConfigError(issues);
}
