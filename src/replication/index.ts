/** @module replication: what gateway replicas share through a store: merged health verdicts and admin facts. */
export { SharedView } from './shared-view.js';
export type { ReplicaTarget, SharedViewOptions, SharedViewStatus, SharedViewEvents } from './types.js';
export {
  encodeFact,
  decodeFact,
  type AdminFact,
  type AdminStateName,
  type BackendFact,
  type FactByKind,
  type Decoded,
} from './facts.js';
export { compareStamps, isNewerStamp, type WriteStamp } from './store/write-stamp.js';
export { mergeVerdicts, VerdictTable, type Opinion, type RemoteVerdict, type VerdictInput } from './verdicts.js';
export { RegisterBook } from './register-book.js';
