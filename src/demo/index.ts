/** @module demo: the embedded demo behind `keyway demo` / `npm start`. */
export { startDemo, type RunningDemo } from './start-demo.js';
export { type DemoBackend } from './demo-backend.js';
