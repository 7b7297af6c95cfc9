/**
 * @module coordinator/fastify/coordinator-registry: the part of the registry the Fastify helpers call. The real
 * `Registry` fits it; naming only these methods keeps the helpers testable against any resolver and keeps the
 * framework code from depending on how resolution is cached or stored.
 */

/** A live member a request can be sent to. */
export interface MemberTarget {
  readonly memberId: string;
  /** Base URL of the member (`http://10.0.0.7:3000`). */
  readonly address: string;
}

/** What resolving a destination said (a live owner; `address` is null only from `Registry.resolveBinding`). */
export interface DestinationResolution {
  readonly address: string | null;
  /** The owner (for a dead destination, a dead owner). */
  readonly memberId: string;
  /** The dead owners were replaced by a live member in this call. */
  readonly reassigned: boolean;
}

/** Options of one destination resolution. */
export interface ResolveDestinationOptions {
  /** Bind an unknown destination to a live member instead of answering null. Default false. */
  readonly claimOnMiss?: boolean;
  /** Replace owners that are all dead with a live member. Default false. */
  readonly reassignOrphans?: boolean;
  /** A member just found not listening: dead for this resolution (see `Registry.resolveDestination`). */
  readonly suspect?: string | null;
}

/** The registry methods the helpers use. */
export interface CoordinatorRegistry {
  /** Upstream request inactivity limit (ms): waiting for response headers, and between body chunks. */
  readonly requestTimeout?: number | undefined;
  listLiveMembers(): Promise<readonly unknown[]>;
  pickMember(context?: { destinationId?: string }): Promise<MemberTarget | null>;
  resolveDestination(destinationId: string, options?: ResolveDestinationOptions): Promise<DestinationResolution | null>;
  /** `resolveDestination`, but a binding to dead owners answers `address: null` (keyway's `Registry` has it). */
  resolveBinding?(destinationId: string, options?: ResolveDestinationOptions): Promise<DestinationResolution | null>;
  resolveLock(lockId: string): Promise<MemberTarget | null>;
  addPodToDestination(destinationId: string, memberId: string): Promise<unknown>;
  deregisterDestination(destinationId: string): Promise<unknown>;
  /** Whether the destination has an owner set (alive or not). */
  hasBinding(destinationId: string): Promise<boolean>;
  /**
   * A request to `memberId` for the destination failed before any answer: drops the cached resolution if it still
   * names that member, so the next resolution reads Redis.
   */
  reportFailure(destinationId: string, memberId: string): unknown;
}
