/**
 * @module rooms/room-group: `RoomGroup`, one per process: the rooms it opened, on the connections of a
 * `SingletonGroup` (shared, or its own), with one subscriber connection for every room's channel.
 */
import { ErrorCodes, RoomError } from '../errors.js';
import { ChannelSubscription, isCluster } from '../redis/index.js';
import { SingletonGroup, type MessageSigner } from '../singleton/index.js';
import { Room } from './room.js';
import type { RoomCounter, RoomLink } from './room-link.js';
import { ROOM_DEFAULTS, resolveRoomOptions, whole, type ResolvedRoomOptions, type RoomGroupOptions, type RoomOptions } from './room-options.js';
import { RoomStore, roomKeys, type RoomKeys } from './store/index.js';

export interface RoomGroupStats {
  /** Messages whose signature did not match (only with a `secret`). */
  readonly forged: number;
  /** Messages that could not be parsed. */
  readonly malformed: number;
  /** Messages dropped as already delivered (a repair and the channel both brought them). */
  readonly duplicates: number;
  /** `resync` messages handed to subscribers' rooms (messages lost past the history). */
  readonly resyncs: number;
  /** Subscriber handlers that threw. */
  readonly handlerErrors: number;
  /** Members this instance announced as expired. */
  readonly expired: number;
}

/** How a compatibility layer builds its rooms' keys (the fluxstack adapter keeps the seed's names). */
export type RoomKeysOf = (name: string) => RoomKeys;

/**
 * @example
 * const rooms = new RoomGroup({ redis: 'redis://127.0.0.1:6379', keyPrefix: 'chat' });
 * const lobby = rooms.room('lobby');
 * await lobby.subscribe((m) => { if (m.type === 'event') console.log(m.seq, m.event, m.data); });
 * await lobby.publish('message', { text: 'hi' }); // every subscriber on every instance, in order, once
 */
export class RoomGroup {
  readonly instanceId: string;
  readonly #group: SingletonGroup;
  readonly #ownsGroup: boolean;
  readonly #store: RoomStore;
  readonly #defaults: ResolvedRoomOptions;
  readonly #rooms = new Map<string, Room>();
  readonly #listeners = new Map<string, (raw: string) => void>();
  readonly #counts: Record<RoomCounter, number> = { forged: 0, malformed: 0, duplicates: 0, resyncs: 0, handlerErrors: 0, expired: 0 };
  readonly #maxRooms: number;
  readonly #link: RoomLink;
  readonly #keysOf: RoomKeysOf;
  /** Sharded pub/sub has a subscriber connection of its own (SSUBSCRIBE); plain pub/sub shares the group's. */
  readonly #sharded: ChannelSubscription<string> | null;
  #started: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  readonly #removeResubscribed: () => void;

  constructor(options: RoomGroupOptions, keysOf?: RoomKeysOf) {
    if (options === null || typeof options !== 'object') throw new TypeError('RoomGroup options must be an object');
    this.#defaults = resolveRoomOptions('RoomGroup', options, ROOM_DEFAULTS);
    const maxPending = whole('RoomGroup option maxPending', options.maxPending ?? ROOM_DEFAULTS.maxPending, 1);
    const maxPerRoom = whole('RoomGroup option maxPerRoom', options.maxPerRoom ?? ROOM_DEFAULTS.maxPerRoom, 1);
    this.#maxRooms = whole('RoomGroup option maxRooms', options.maxRooms ?? ROOM_DEFAULTS.maxRooms, 1);
    if (options.group !== undefined && !(options.group instanceof SingletonGroup)) throw new TypeError('RoomGroup option group must be a SingletonGroup');
    this.#ownsGroup = options.group === undefined;
    if (options.group === undefined && options.redis === undefined) throw new TypeError('RoomGroup needs a group or a redis option');
    const { group: _g, historyLength: _h, historyMaxAgeMs: _a, presenceTtlMs: _p, stateTtlMs: _t, maxPending: _m, maxRooms: _r, maxPerRoom: _pr, sharded: _s, ...own } = options;
    this.#group = options.group ?? new SingletonGroup(own as ConstructorParameters<typeof SingletonGroup>[0]);
    this.instanceId = this.#group.instanceId;
    const client = this.#group.client;
    const sharded = options.sharded ?? isCluster(client);
    if (typeof sharded !== 'boolean') throw new TypeError('RoomGroup option sharded must be a boolean');
    this.#store = new RoomStore(client, options.connectTimeoutMs ?? 2000);
    const prefix = this.#group.keyPrefix;
    this.#keysOf = keysOf ?? ((name) => roomKeys(prefix, name));
    this.#sharded = sharded
      ? new ChannelSubscription<string>(client, {
          channel: `${prefix}:rm:instance:{${this.instanceId}}`,
          sharded: true,
          parse: (message, channel) => {
            this.#listeners.get(channel)?.(message);
            return null;
          },
          onEvent: () => undefined,
          onMalformed: () => undefined,
          onState: (subscribed) => {
            if (subscribed) this.#resubscribed();
          },
          onError: (err) => this.#group.log?.debug({ err: err.message }, 'rooms subscriber error'),
        })
      : null;
    this.#removeResubscribed = sharded ? () => undefined : this.#group.onResubscribed(() => this.#resubscribed());
    this.#link = this.#makeLink(this.#group.signer, sharded, maxPending, maxPerRoom);
  }

  /** What was dropped or refused since the group started. */
  get stats(): RoomGroupStats {
    return { ...this.#counts };
  }

  /** The rooms open on this instance. */
  get rooms(): readonly Room[] {
    return [...this.#rooms.values()];
  }

  /** Room `name` (the same object for the same name until it is closed). `options` apply when it is first opened. */
  room(name: string, options: RoomOptions = {}): Room {
    if (this.#closing) throw new RoomError(ErrorCodes.ROOM_CLOSED, name, 'room group is closed');
    const open = this.#rooms.get(name);
    if (open !== undefined) return open;
    const keys = this.#keysOf(name);
    const resolved = resolveRoomOptions(`room ${name}`, options, this.#defaults);
    if (this.#rooms.size >= this.#maxRooms) throw new RoomError(ErrorCodes.ROOM_LIMIT, name, `${this.#rooms.size} rooms are open (maxRooms)`);
    const room = new Room(name, keys, resolved, this.#link, (r) => {
      if (this.#rooms.get(r.name) === r) this.#rooms.delete(r.name);
    });
    this.#rooms.set(name, room);
    return room;
  }

  /** Connects and subscribes (once); resolves when rooms can be used (they wait for it by themselves too). */
  ready(): Promise<void> {
    this.#started ??= this.#connect().catch((err: unknown) => {
      this.#started = undefined;
      throw err;
    });
    return this.#started;
  }

  /** Closes every room (local members leave, announced) and what this group opened. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#rooms.values()].map((r) => r.close()));
      this.#removeResubscribed();
      await this.#sharded?.close();
      if (this.#ownsGroup) await this.#group.close();
    })();
    return this.#closing;
  }

  async #connect(): Promise<void> {
    await this.#group.ready();
    if (this.#sharded !== null) {
      this.#sharded.start();
      await this.#sharded.whenSubscribed(10_000);
    }
  }

  #resubscribed(): void {
    for (const r of this.#rooms.values()) r.onResubscribed();
  }

  #makeLink(signer: MessageSigner, sharded: boolean, maxPending: number, maxPerRoom: number): RoomLink {
    return {
      instanceId: this.instanceId,
      store: this.#store,
      signer,
      sharded,
      maxPending,
      maxPerRoom,
      listen: async (channel, onMessage) => {
        await this.ready();
        this.#listeners.set(channel, onMessage);
        if (this.#sharded !== null) await this.#sharded.add(channel);
        else await this.#group.listen(channel, { onMessage: (_c, raw) => onMessage(raw) });
      },
      unlisten: async (channel) => {
        if (!this.#listeners.delete(channel)) return;
        if (this.#sharded !== null) await this.#sharded.remove(channel);
        else await this.#group.unlisten(channel);
      },
      count: (what, n = 1) => {
        this.#counts[what] += n;
      },
      warn: (err, message) => this.#group.warn(err, message),
    };
  }
}
