/**
 * @module test/e2e/stateful-kv/coordinator: the front of the stateful-kv example (see examples/stateful-kv/README.md).
 * A Fastify app with keyway's `coordinatorPlugin`:
 * - `/tenants/:tenant/*` goes to the pod that owns the tenant (`lookupAndProxy`): a new tenant is claimed by a
 *   live pod (`claimOnMiss`), and a tenant whose pod died moves to a live one (`reassignOrphans`);
 * - `/tx/:txId/*` goes to the pod that opened the transaction (`lookupLockAndProxy`); a transaction is never moved,
 *   so once its pod is gone the answer is 404.
 *
 *   node coordinator.js --redis redis://127.0.0.1:6390 --prefix kv --port 8080
 *
 * Prints `{"ready":true,"port":N}` on stdout once it listens. Started without arguments (as `node --test` does with
 * every file under test/) it exits 0 at once.
 */
import { parseArgs } from 'node:util';
import Fastify, { type FastifyRequest } from 'fastify';
import { coordinatorPlugin } from '../../../src/index.js';

/** How long a pod may stay silent before the coordinator answers 504 (ms). */
const REQUEST_TIMEOUT_MS = 5000;

const param =
  (name: string) =>
  (request: FastifyRequest): string =>
    (request.params as Record<string, string>)[name] as string;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string' },
      prefix: { type: 'string', default: 'stateful-kv' },
      port: { type: 'string', default: '0' },
    },
  });
  // node --test runs every file under test/: without arguments this is not a coordinator start, so leave quietly.
  if (values.redis === undefined) return;

  const app = Fastify();
  // Bodies are passed through to the pod as they came (values are opaque bytes), and stay replayable for the
  // one retry the helpers make when a pod refuses the connection.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  await app.register(coordinatorPlugin, { redis: values.redis, keyPrefix: values.prefix, requestTimeout: REQUEST_TIMEOUT_MS });

  app.all(
    '/tenants/:tenant/*',
    app.coordinator.lookupAndProxy({ destinationFrom: param('tenant'), claimOnMiss: true, reassignOrphans: true }),
  );
  app.all('/tx/:txId/*', app.coordinator.lookupLockAndProxy({ lockFrom: param('txId'), notFoundMessage: 'Transaction not found' }));

  await app.listen({ port: Number(values.port), host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);

  const stop = (): void => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`coordinator failed to start: ${String(err)}\n`);
  process.exit(1);
});
