/** @module alerts/alert-message: the human-readable wording of an alert, shared by email and Slack. */
import type { AlertEvent } from './types.js';

/** `[keyway] backend api-1 DOWN`. */
export function alertSubject(event: AlertEvent, prefix = '[keyway]'): string {
  return `${prefix} backend ${event.backend.id} ${event.kind === 'down' ? 'DOWN' : 'UP'}`;
}

/** A few plain-text lines: what happened, where, when and why. */
export function alertText(event: AlertEvent): string {
  const what = event.kind === 'down' ? 'is DOWN: it failed its health checks' : 'is UP again: it passes its health checks';
  const lines = [`Backend ${event.backend.id} ${what}.`, '', `URL:  ${safeUrl(event.backend.url)}`, `Time: ${event.at.toISOString()}`];
  if (event.reason) lines.push(`Reason: ${event.reason}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The backend URL without user info: a URL may embed a password (`http://user:pass@host`), and alerts land
 * in mailboxes and chat rooms. Unparsable input is returned as is, since it then holds no user info part.
 */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}
