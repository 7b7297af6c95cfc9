/** @module config: option types, validation and loading. Everything else reads the frozen result. */
export * from './types.js';
export { validateConfig, type ConfigOverrides } from './validate.js';
export { loadConfig, loadConfigFile } from './load.js';
export { maskConfig, maskUrlPassword } from './mask.js';
export { weightProblem } from './field-schemas.js';
export { stickySecretFromEnv } from './environment.js';
export { resolveRuntimeBackend } from './runtime-backend.js';
