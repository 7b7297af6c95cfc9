/** @module alerts/types: the alert event and the channel interface every delivery target implements. */

/** A backend changed state. `at` is when the change was observed, not when the alert is sent. */
export interface AlertEvent {
  readonly kind: 'down' | 'up';
  readonly backend: {
    readonly id: string | number;
    readonly url: string;
    /** Email address of whoever runs this backend; the email channel writes to it. */
    readonly owner?: string | undefined;
  };
  readonly at: Date;
  /** Why the backend was judged down (a probe error, a status code); free text, never a secret. */
  readonly reason?: string | undefined;
}

/**
 * Somewhere an alert can be delivered (email, a webhook). `send()` rejects on failure, with an error whose
 * message is safe to log; the caller owns retries. `close()` is idempotent and aborts sends in flight.
 */
export interface AlertChannel {
  /** Short and stable, for logs and events (`email`, `webhook:hooks.slack.com`). Never holds a secret. */
  readonly name: string;
  send(event: AlertEvent): Promise<void>;
  close(): Promise<void>;
}
