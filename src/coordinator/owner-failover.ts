/**
 * @module coordinator/owner-failover: the one rule for a request whose destination owner failed before answering,
 * used by the gateway's destination pools and by the Fastify helpers alike.
 */

/** How the attempt on the owner failed, as the rule needs it. */
export interface OwnerFailure {
  /** Nothing the pod could act on was sent and the body can be sent again (`proxy/retry-policy`). */
  readonly retryable: boolean;
  /** Connection refused: nothing listens at the address any more (the pod's process is gone). */
  readonly refused: boolean;
  /** The failure hit a reused keep-alive socket, which the pod may have closed as we wrote. */
  readonly reusedSocket: boolean;
}

/** The failed owner: its member id (when known, for `suspect`) and what identifies its address. */
export interface FailedOwner {
  readonly memberId: string | null;
  readonly address: string;
}

export interface FailoverSteps<T> {
  /** Drops the cached resolution that named the failed owner. Always called first. */
  evict(): unknown;
  /** Resolves afresh; `suspect` is the member to count as dead (the destination moves now, fenced by a new epoch). */
  resolve(suspect: string | null): Promise<T>;
  /** The address `next` names, or null when it names none (not found, orphaned, an answer of its own). */
  addressOf(next: T): string | null;
}

/** What to do after the failure: send again to `next`, or answer with `next` (null: nothing was resolved). */
export type FailoverDecision<T> = { readonly resend: true; readonly next: T } | { readonly resend: false; readonly next: T | null };

const GIVE_UP: FailoverDecision<never> = { resend: false, next: null };

/**
 * The cached resolution goes in any case. A request that may be replayed is resolved afresh (with the failed
 * member as a suspect when the connection was refused) and sent again only when that names another address, or
 * the same one after a reused keep-alive socket failed. The caller allows this once per request, so a pod that
 * Redis still names as the owner gets one failed request per call, not two.
 */
export async function failOver<T>(failure: OwnerFailure, failed: FailedOwner, steps: FailoverSteps<T>): Promise<FailoverDecision<T>> {
  await steps.evict();
  if (!failure.retryable) return GIVE_UP;
  const next = await steps.resolve(failure.refused ? failed.memberId : null);
  const address = steps.addressOf(next);
  if (address === null || (address === failed.address && !failure.reusedSocket)) return { resend: false, next };
  return { resend: true, next };
}
