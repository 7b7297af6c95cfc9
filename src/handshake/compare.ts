/**
 * @module handshake/compare: which settings of a backend differ from the topology's reference, and the
 * sentence an operator reads about it. Pure: no I/O, no state.
 */
import { maskUrlPassword } from '../config/index.js';

/** One setting that differs: `changed` hash, `missing` on the backend, or `extra` on the backend. */
export interface SettingDifference {
  readonly name: string;
  readonly kind: 'changed' | 'missing' | 'extra';
}

/** What a backend is compared with. */
export interface BootReference {
  /** Setting name -> expected hash. */
  readonly settings: Readonly<Record<string, string>>;
  /** Where it comes from, for messages: `bootHandshake.expect`, `backend "b1" of pool "api"`. */
  readonly source: string;
  /**
   * Whether settings the backend has and the reference lacks count as differences. True for a backend's
   * answer taken as reference (the sets must be equal); false for `expect`, which pins only the settings it
   * names. Default true.
   */
  readonly exact?: boolean | undefined;
}

/**
 * The settings of `actual` that differ from `reference`, sorted by name. Hashes compare case-insensitively
 * (an `expect` hash pasted in upper case still matches).
 *
 * @example
 * diffSettings({ settings: { a: 'x', b: 'y' }, source: 'expect' }, { a: 'x', c: 'z' })
 * // => [{ name: 'b', kind: 'missing' }, { name: 'c', kind: 'extra' }]
 */
export function diffSettings(reference: BootReference, actual: Readonly<Record<string, string>>): SettingDifference[] {
  const out: SettingDifference[] = [];
  for (const name of Object.keys(reference.settings)) {
    const expected = reference.settings[name] as string;
    if (!Object.hasOwn(actual, name)) out.push({ name, kind: 'missing' });
    else if ((actual[name] as string).toLowerCase() !== expected.toLowerCase()) out.push({ name, kind: 'changed' });
  }
  if (reference.exact ?? true) {
    for (const name of Object.keys(actual)) {
      if (!Object.hasOwn(reference.settings, name)) out.push({ name, kind: 'extra' });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * One line naming the backend and what differs, e.g.
 * `backend "b2" (http://10.0.0.2:3000) differs from the topology on settings: NODE_ENV, schema (missing)
 * (reference: backend "b1" of pool "default")`.
 */
export function describeMismatch(
  backend: { readonly id: string; readonly url: string },
  differences: readonly SettingDifference[],
  source: string,
): string {
  const names = differences.map((d) => (d.kind === 'changed' ? printable(d.name) : `${printable(d.name)} (${d.kind})`));
  return `backend "${backend.id}" (${maskUrlPassword(backend.url)}) differs from the topology on settings: ${names.join(', ')} (reference: ${source})`;
}

/** Names come from the backend: one with control characters or commas is quoted, so a log line stays one line. */
function printable(name: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f,]/.test(name) || name === '' ? JSON.stringify(name) : name;
}
