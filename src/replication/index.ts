/** @module replication: what gateway replicas share through a store: merged health verdicts and admin facts. */
export { SharedView } from './shared-view.js';
export type { ReplicaTarget, SharedViewOptions, SharedViewStatus, SharedViewEvents } from './types.js';
export {
  encodeFact,
  decodeFact,
  compareStamps,
  isNewerStamp,
  type AdminFact,
  type AdminStateName,
  type BackendFact,
  type FactByKind,
  type Decoded,
  type WriteStamp,
} from './facts.js';
export { mergeVerdicts, VerdictTable, type Opinion, type RemoteVerdict, type VerdictInput } from './verdicts.js';
export { RegisterBook } from './register-book.js';
