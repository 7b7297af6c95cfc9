/** @module health: active health checks: the probe, rise/fall hysteresis and the scheduler that runs them. */
export { RiseFall, type RiseFallOptions } from './rise-fall.js';
export { probe, type ProbeResult, type ProbeOptions } from './probe.js';
export { HealthChecker, type HealthCheckerOptions, type HealthCheckerEvents } from './checker.js';
