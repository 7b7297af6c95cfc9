/**
 * @module config/environment: the one place that reads keyway's environment variables, so each is read (and,
 * later, taken from a `*_FILE`) the same way wherever it is used.
 */

/** `KEYWAY_STICKY_SECRET`, or undefined when unset or empty. */
export function stickySecretFromEnv(): string | undefined {
  const value = process.env.KEYWAY_STICKY_SECRET;
  return value === undefined || value === '' ? undefined : value;
}

