/**
 * @module coordinator: the `keyway-node/coordinator` entry, with @platformatic/coordinator's names exactly (strategies
 * included), so a service switches by changing its import. The package root exports the same classes, with the
 * allocation strategies renamed where they would clash with the gateway's balancers.
 */
export * from '../registry/index.js';
export * from '../integrations/fastify/index.js';
