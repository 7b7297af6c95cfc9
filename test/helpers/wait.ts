/** Waiting helpers for tests: poll a condition with a deadline (for state that has no event to wait on), or bound a wait on an event. */

/** Resolves once `cond()` holds; rejects after `ms`, naming `what` when given (a function is called at the timeout). Polls every 10 ms. */
export async function until(cond: () => boolean, ms = 5000, what?: string | (() => string)): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) {
      if (what === undefined) throw new Error('condition not met in time');
      throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves as `promise` does, or rejects after `ms` naming `what` (e.g. an event awaited with `once`). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
