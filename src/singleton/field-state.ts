/**
 * @module singleton/field-state: a singleton's state, a JSON object whose top-level keys are the unit of change.
 * The owner keeps the JSON of every key as last committed: after an action, the keys whose JSON changed (and the
 * keys removed) are the delta, committed as hash fields and sent to the mirrors; a failed action is undone by
 * rebuilding the object from that JSON (a new object, so an abandoned async action writes into a detached one).
 */

export interface FieldChange {
  /** field, json, field, json, ... as the commit script takes them. */
  readonly set: string[];
  readonly del: string[];
  /** `{"field":json,...}` of the set fields, for the delta message. */
  readonly setJson: string;
}

export type StateObject = Record<string, unknown>;

export class FieldState {
  /** The live object: actions mutate it on the owner; mirrors replace keys from deltas. */
  value: StateObject;
  /** field -> JSON as committed (owner) or as last known (mirror; filled on demand by `adopt`). */
  #json = new Map<string, string>();
  /** Where the state starts while nothing was ever committed. */
  readonly #initial: () => StateObject;
  /** Nothing committed yet: undoing goes back to the initial state, not to `{}`. */
  #fresh = true;

  constructor(initial: () => StateObject) {
    this.#initial = initial;
    this.value = initial();
  }

  /** Replaces everything with a committed snapshot (`fields` from Redis at `seq`); the initial state when empty. */
  load(fields: ReadonlyMap<string, string>, seq: number): void {
    this.#json = new Map(fields);
    this.#fresh = fields.size === 0 && seq === 0;
    this.value = this.#fresh ? this.#initial() : this.#build();
  }

  /** Makes the JSON map describe the current object (a mirror becoming owner keeps what it saw). */
  adopt(): void {
    this.#json = new Map();
    for (const k of Object.keys(this.value)) {
      const j = JSON.stringify(this.value[k]);
      if (j !== undefined) this.#json.set(k, j);
    }
  }

  /** What changed since the last commit, or null for nothing. Throws when a value is not JSON-serialisable. */
  diff(): FieldChange | null {
    const set: string[] = [];
    const del: string[] = [];
    let setJson = '{';
    const value = this.value;
    for (const k in value) {
      if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
      const j = JSON.stringify(value[k]);
      if (j === undefined) {
        if (this.#json.has(k)) del.push(k);
        continue;
      }
      if (this.#json.get(k) === j) continue;
      set.push(k, j);
      setJson += `${setJson.length > 1 ? ',' : ''}${JSON.stringify(k)}:${j}`;
    }
    for (const k of this.#json.keys()) {
      if (!Object.prototype.hasOwnProperty.call(value, k)) del.push(k);
    }
    if (set.length === 0 && del.length === 0) return null;
    return { set, del, setJson: `${setJson}}` };
  }

  /** Every field, as a restore commit writes them (the owner is ahead of what Redis kept). */
  everything(): FieldChange {
    this.adopt();
    this.#fresh = false;
    const set: string[] = [];
    const parts: string[] = [];
    for (const [k, j] of this.#json) {
      set.push(k, j);
      parts.push(`${JSON.stringify(k)}:${j}`);
    }
    return { set, del: [], setJson: `{${parts.join(',')}}` };
  }

  /** The change is committed: the JSON map catches up with it. */
  accept(change: FieldChange): void {
    this.#fresh = false;
    for (let i = 0; i < change.set.length; i += 2) this.#json.set(change.set[i]!, change.set[i + 1]!);
    for (const k of change.del) this.#json.delete(k);
  }

  /** Undoes everything since the last commit: a new object from the committed JSON. */
  reset(): void {
    this.value = this.#fresh ? this.#initial() : this.#build();
  }

  /** A mirror applies a delta (a restore replaces the object). Returns the new object. */
  apply(set: Readonly<StateObject>, del: readonly string[], restore: boolean): StateObject {
    const next: StateObject = restore ? {} : { ...this.value };
    for (const k of Object.keys(set)) next[k] = set[k];
    for (const k of del) delete next[k];
    this.value = next;
    return next;
  }

  #build(): StateObject {
    const out: StateObject = {};
    for (const [k, j] of this.#json) out[k] = JSON.parse(j) as unknown;
    return out;
  }
}
