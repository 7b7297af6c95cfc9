/**
 * @module backend/boot-handshake: the backend side of keyway's boot handshake. A backend answers one
 * well-known path with its boot id and the hashes of the settings that must match across the topology;
 * the gateway reads it to notice restarts and instances started with different settings.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { canonicalJson, hashSetting, sha256 } from './canonical-json.js';

/** Where the gateway looks unless both sides are configured otherwise. */
export const DEFAULT_BOOT_PATH = '/.well-known/keyway/boot';

/** Version of the answer's shape, sent as `keyway`. */
export const BOOT_PROTOCOL_VERSION = 1;

/** Options of {@link createBootHandshake}. */
export interface BootHandshakeOptions {
  /**
   * The settings that must be equal on every instance (`NODE_ENV`, a schema version, a feature flag set...).
   * Only their hashes are kept and served; the values never leave the process. A hash of a guessable value
   * (`"production"`) can be guessed back, so hash or leave out secrets rather than list them here.
   * Snapshotted at creation. Default `{}`.
   */
  readonly settings?: Readonly<Record<string, unknown>> | undefined;
  /** This instance's boot id. Default: a random UUID made once per process (see {@link processBootId}). */
  readonly bootId?: string | undefined;
  /** The path to answer; must match the gateway's `bootHandshake.path`. Default `/.well-known/keyway/boot`. */
  readonly path?: string | undefined;
}

/** The JSON the handshake path answers with. */
export interface BootHandshakeBody {
  readonly bootId: string;
  readonly settingsHash: string;
  /** Setting name -> lower-case hex SHA-256 of the canonical JSON of its value. */
  readonly settings: Readonly<Record<string, string>>;
  readonly keyway: typeof BOOT_PROTOCOL_VERSION;
}

/** Node's `next`, as Express and connect call it. */
export type NextFunction = (err?: unknown) => void;

/** The part of a Fastify reply the plugin uses. */
export interface FastifyReplyLike {
  header(name: string, value: string): unknown;
}

/** The route options the plugin passes; a subset of Fastify's `RouteShorthandOptions`. */
export interface FastifyRouteOptionsLike {
  /** Serve HEAD even when the app was made with `exposeHeadRoutes: false`. */
  readonly exposeHeadRoute: boolean;
}

/** The part of a Fastify instance the plugin uses; a real `FastifyInstance` fits. */
export interface FastifyInstanceLike {
  get(
    path: string,
    options: FastifyRouteOptionsLike,
    handler: (request: unknown, reply: FastifyReplyLike) => Promise<BootHandshakeBody>,
  ): unknown;
}

/** A ready handshake: its answer and one adapter per server framework. */
export interface BootHandshake {
  readonly path: string;
  readonly bootId: string;
  /** SHA-256 of the canonical JSON of {@link settings}: equal exactly when every setting hash is. */
  readonly settingsHash: string;
  /** Setting name -> hash of its value. */
  readonly settings: Readonly<Record<string, string>>;
  /**
   * For `node:http`: answers a request for the path (ignoring any query) and returns true; returns false
   * for any other path, so the app handles it. GET and HEAD get the JSON, other methods 405.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Express/connect middleware: `app.use(h.express)`. Calls `next()` for every other path. */
  express(req: IncomingMessage, res: ServerResponse, next: NextFunction): void;
  /**
   * Fastify plugin: `app.register(h.fastify)`. Adds `GET path` and its HEAD route (other methods get
   * Fastify's 404). Like a `fastify-plugin` plugin it is not encapsulated, so a `prefix` given to this
   * `register` call is ignored: the gateway asks for `path` exactly; change `path` on both sides instead.
   */
  fastify(app: FastifyInstanceLike): Promise<void>;
  /** A fresh copy of the answer. */
  body(): BootHandshakeBody;
}

let processId: string | undefined;

/** The default boot id: a random UUID made the first time it is asked for, the same for the whole process. */
export function processBootId(): string {
  processId ??= randomUUID();
  return processId;
}

/**
 * Makes the handshake a backend serves so the keyway gateway can tell when it restarted and whether it
 * runs with the same settings as its peers.
 *
 * @example
 * import { createBootHandshake } from 'keyway-node/backend';
 * const boot = createBootHandshake({ settings: { NODE_ENV: process.env.NODE_ENV, schema: 42 } });
 * http.createServer((req, res) => {
 *   if (boot.handle(req, res)) return;
 *   app(req, res);
 * });
 * // Express: app.use(boot.express)    Fastify: app.register(boot.fastify)
 */
export function createBootHandshake(options: BootHandshakeOptions = {}): BootHandshake {
  const path = checkPath(options.path ?? DEFAULT_BOOT_PATH);
  const bootId = checkBootId(options.bootId ?? processBootId());
  // fromEntries defines properties, so a setting named "__proto__" stays a setting.
  const settings: Readonly<Record<string, string>> = Object.freeze(
    Object.fromEntries(Object.entries(options.settings ?? {}).map(([name, value]) => [name, hashSetting(value)])),
  );
  const settingsHash = sha256(canonicalJson(settings));
  const body = (): BootHandshakeBody => ({ bootId, settingsHash, settings: { ...settings }, keyway: BOOT_PROTOCOL_VERSION });
  const payload = JSON.stringify(body());

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (pathOf(req.url) !== path) return false;
    answer(req.method ?? 'GET', res, payload);
    return true;
  };
  return {
    path,
    bootId,
    settingsHash,
    settings,
    handle,
    express: (req, res, next) => {
      if (!handle(req, res)) next();
    },
    fastify: fastifyPlugin(async (app) => {
      app.get(path, { exposeHeadRoute: true }, async (_request, reply) => {
        reply.header('cache-control', 'no-store');
        return body();
      });
    }),
    body,
  };
}

/**
 * Marks a plugin the way the `fastify-plugin` package does, without depending on it: `skip-override` makes
 * Fastify run it in the registering instance (no encapsulation, so no `prefix` moves the route) and the
 * display name labels it in `printPlugins()` and boot errors.
 */
function fastifyPlugin<F extends (app: FastifyInstanceLike) => Promise<void>>(plugin: F): F {
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'keyway-boot-handshake',
  });
}

function answer(method: string, res: ServerResponse, payload: string): void {
  res.setHeader('cache-control', 'no-store');
  if (method !== 'GET' && method !== 'HEAD') {
    res.statusCode = 405;
    res.setHeader('allow', 'GET, HEAD');
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(payload));
  res.end(method === 'HEAD' ? undefined : payload);
}

/** The path of a request target without its query; handles the absolute form a proxy may send. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  if (!url.startsWith('/')) {
    try {
      return new URL(url).pathname;
    } catch {
      return '';
    }
  }
  const q = url.search(/[?#]/);
  return q === -1 ? url : url.slice(0, q);
}

function checkPath(path: string): string {
  if (!path.startsWith('/') || /[?#\s]/.test(path)) {
    throw new TypeError(`createBootHandshake: path must start with "/" and have no query, got ${JSON.stringify(path)}`);
  }
  return path;
}

function checkBootId(id: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) {
    throw new TypeError('createBootHandshake: bootId must be a non-empty string of at most 200 characters');
  }
  return id;
}
