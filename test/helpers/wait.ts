/** Waiting helpers for tests: poll a condition with a deadline (for state that has no event to wait on). */

/** Resolves once `cond()` holds; rejects after `ms`. Polls every 10 ms. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
