/** @module integrations: framework adapters; framework code stays here, imported by type only. */
export * from './fastify/index.js';
