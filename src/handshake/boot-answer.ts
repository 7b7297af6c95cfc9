/**
 * @module handshake/boot-answer: the shape of a backend's boot handshake answer, checked field by field.
 * The backend is not trusted to send well-formed JSON; anything else is "no handshake", never a crash.
 */

/** A backend's answer, as `keyway-node/backend` serves it. */
export interface BootAnswer {
  /** Changes every time the backend process starts. */
  readonly bootId: string;
  readonly settingsHash: string;
  /** Setting name -> hash of its value. */
  readonly settings: Readonly<Record<string, string>>;
}

/** Longest boot id, setting name or hash accepted; longer answers are treated as invalid. */
const MAX_FIELD = 256;
/** Most settings accepted in one answer. */
const MAX_SETTINGS = 1000;

/**
 * Checks a parsed JSON value against the answer's shape (protocol version `keyway` >= 1; later versions
 * may add fields, which are ignored). Returns the answer, or a short reason it is not one.
 *
 * @example parseBootAnswer(JSON.parse(text)) // => { answer } or { error: 'missing bootId' }
 */
export function parseBootAnswer(value: unknown): { answer: BootAnswer } | { error: string } {
  if (!isRecord(value)) return { error: 'not a JSON object' };
  const { keyway, bootId, settingsHash, settings } = value;
  if (typeof keyway !== 'number' || !Number.isInteger(keyway) || keyway < 1) return { error: 'missing keyway version' };
  if (!isField(bootId)) return { error: 'missing bootId' };
  if (!isField(settingsHash)) return { error: 'missing settingsHash' };
  if (!isRecord(settings)) return { error: 'missing settings' };
  const entries = Object.entries(settings);
  if (entries.length > MAX_SETTINGS) return { error: 'too many settings' };
  for (const [name, hash] of entries) {
    if (name.length > MAX_FIELD || !isField(hash)) return { error: `invalid hash for setting ${JSON.stringify(name.slice(0, 40))}` };
  }
  // fromEntries defines properties, so a setting named "__proto__" stays a setting.
  const copy = Object.freeze(Object.fromEntries(entries) as Record<string, string>);
  return { answer: { bootId, settingsHash, settings: copy } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isField(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD;
}
