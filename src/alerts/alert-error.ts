/**
 * @module alerts/alert-error: errors of the alerting module. The codes live in the one catalogue
 * (`src/errors.ts`); this class adds whether a retry can help.
 */
import { ErrorCodes, KeywayError } from '../errors.js';

/** Stable codes of {@link AlertError}. */
export const AlertErrorCodes = {
  /** An alert settings block (`email`, a webhook) is unusable. */
  CONFIG: ErrorCodes.ALERT_CONFIG,
  /** A channel failed to deliver one alert. */
  DELIVERY: ErrorCodes.ALERT_DELIVERY,
} as const;

export type AlertErrorCode = (typeof AlertErrorCodes)[keyof typeof AlertErrorCodes];

/**
 * An alert problem. The message never holds credentials or secret URLs, so it can be logged as is.
 * `retryable: false` tells the manager that trying again cannot help (a 4xx answer, a 5xx SMTP reply).
 */
export class AlertError extends KeywayError {
  declare readonly code: AlertErrorCode;
  readonly retryable: boolean;
  constructor(code: AlertErrorCode, message: string, options?: { retryable?: boolean }) {
    super(code, message);
    this.name = 'AlertError';
    this.retryable = options?.retryable ?? true;
  }
}

/**
 * Replaces every occurrence of each secret in `text` by `***`. Secrets shorter than 3 characters are
 * skipped: masking them would shred ordinary words and tells an attacker little anyway.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join('***');
  }
  return out;
}
