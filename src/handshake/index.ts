/**
 * @module handshake: the gateway side of the boot handshake: reading each backend's boot id and settings
 * hashes (`keyway-node/backend` serves them), comparing them with the topology's reference, reporting restarts.
 */
export { BootWatcher, type BootWatcherOptions, type BootWatcherEvents, type BootState } from './boot-watcher.js';
export { diffSettings, type SettingDifference, type BootReference } from './compare.js';
export { type BootAnswer } from './boot-answer.js';
export { type BootRead, type BootReadOptions } from './read-boot-answer.js';
