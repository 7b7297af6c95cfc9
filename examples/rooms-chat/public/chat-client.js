// @ts-check
/* global URLSearchParams, WebSocket, clearTimeout, console, setTimeout -- a browser or Node 20 */
/**
 * The rooms-chat client: one room, one member, over one WebSocket through the gateway. No DOM here, so the page
 * (app.js) and the automated test (test/examples/rooms-chat.test.ts, with the `ws` package) run the same code.
 *
 * What it keeps:
 * - `lastSeq` and `epoch`: the position of the last room message it saw. When the socket closes (an instance was
 *   killed, a network blip) it reconnects through the gateway with `?fromSeq=<lastSeq + 1>&epoch=<epoch>`, and the
 *   instance it lands on (the same one, or another if that one is down) subscribes the room from there: every
 *   message published meanwhile is delivered, in order, once.
 * - `members` and `state`: a snapshot (the `hello` on every connect, or the answer to a `sync`), then the join,
 *   leave and state messages numbered after the snapshot's `seq`. A `resync` (the room lost messages it can no
 *   longer replay: past its history, or Redis lost the room) makes it ask for a new snapshot.
 * - `votes`: the room's vote count, which only goes up (the `votes` singleton counts, one owner in the cluster).
 */

/** Kept room messages for replaying presence onto a snapshot that was read while they arrived. */
const RECENT = 1000;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * @typedef {{ id: string, name: string, instance: string }} Member
 * @typedef {{ seq: number, epoch: string, version: number, state: Record<string, unknown>, members: Member[], votes: number }} Snapshot
 * @typedef {{ type: string, room: string, epoch: string, seq: number, [k: string]: unknown }} RoomMessage
 * @typedef {{ readyState: number, send(data: string): void, close(code?: number, reason?: string): void,
 *   onopen: ((e: unknown) => void) | null, onclose: ((e: { code: number, reason: string }) => void) | null,
 *   onerror: ((e: unknown) => void) | null, onmessage: ((e: { data: unknown }) => void) | null }} SocketLike
 */

export class ChatClient {
  /**
   * @param {object} o
   * @param {string} o.url WebSocket URL of the endpoint, e.g. `ws://localhost:8080/ws`.
   * @param {string} o.room
   * @param {string} o.name Shown to the others.
   * @param {string} o.member This tab's id: the same across reconnects, so presence follows it.
   * @param {(url: string) => SocketLike} [o.connect] Opens a socket (default: the browser's WebSocket).
   * @param {number} [o.maxBackoffMs] Longest wait between reconnects (ms). Default 3000.
   */
  constructor(o) {
    this.url = o.url;
    this.room = o.room;
    this.name = o.name;
    this.member = o.member;
    this.connect = o.connect ?? ((url) => /** @type {SocketLike} */ (/** @type {unknown} */ (new WebSocket(url))));
    this.maxBackoffMs = o.maxBackoffMs ?? 3000;
    /** Reconnect when the socket closes (false: stay away, as a closed tab would). */
    this.reconnect = true;
    this.lastSeq = 0;
    this.epoch = '';
    /** @type {Map<string, Member>} */
    this.members = new Map();
    /** @type {Record<string, unknown>} */
    this.state = {};
    this.votes = 0;
    /** The instance serving this client now ('' while disconnected). */
    this.instance = '';
    this.connected = false;
    /** Every URL it connected with, in order (the test checks the `fromSeq` of reconnects). */
    /** @type {string[]} */
    this.connectUrls = [];
    /** Room messages dropped because they were already seen (should stay 0). */
    this.duplicates = 0;
    /** Resyncs that skipped nothing new to this client (the instance it resumed on was a moment behind it): ignored. */
    this.emptyResyncs = 0;
    /** Join/leave/state messages at or before this number are already in the snapshot. */
    this.snapshotSeq = 0;
    /** @type {RoomMessage[]} */
    this.recent = [];
    /** @type {Map<string, { resolve: (v: any) => void, reject: (e: Error) => void, timer: ReturnType<typeof setTimeout> }>} */
    this.pending = new Map();
    /** @type {Map<string, Set<(arg: any) => void>>} */
    this.listeners = new Map();
    this.attempt = 0;
    this.stopped = false;
    /** @type {SocketLike | null} */
    this.socket = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retryTimer = undefined;
    this.refs = 0;
  }

  /**
   * `hello` (connected: {instance, resumedFrom}), `message` (a room message, in order, once), `members`, `state`,
   * `votes`, `resync`, `status` ({connected, instance, retryInMs?}).
   * @param {string} type @param {(arg: any) => void} fn
   */
  on(type, fn) {
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  start() {
    this.stopped = false;
    this.#open();
  }

  /** Closes the socket for good: the instance makes the member leave. */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.close(1000, 'bye');
  }

  /** @param {string} text @returns {Promise<{seq: number}>} */
  chat(text) {
    return this.#request({ t: 'chat', text });
  }

  /** @param {string} topic @returns {Promise<{seq: number}>} */
  setTopic(topic) {
    return this.#request({ t: 'topic', topic });
  }

  /** @returns {Promise<{seq: number, count: number}>} */
  vote() {
    return this.#request({ t: 'vote' });
  }

  /** Asks for a new snapshot of members and state. */
  sync() {
    return this.#request({ t: 'sync' }).then((/** @type {{snapshot: Snapshot}} */ r) => this.#applySnapshot(r.snapshot));
  }

  // ---- connection ----------------------------------------------------------------------------------------------

  #open() {
    const q = new URLSearchParams({ room: this.room, name: this.name, member: this.member });
    if (this.lastSeq > 0 && this.epoch !== '') {
      q.set('fromSeq', String(this.lastSeq + 1));
      q.set('epoch', this.epoch);
    }
    const url = `${this.url}?${q}`;
    this.connectUrls.push(url);
    const ws = this.connect(url);
    this.socket = ws;
    ws.onerror = () => undefined; // a close follows
    ws.onmessage = (e) => {
      if (this.socket !== ws) return;
      let frame;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      this.#onFrame(frame);
    };
    ws.onclose = (e) => {
      if (this.socket !== ws) return;
      this.socket = null;
      this.connected = false;
      this.instance = '';
      for (const [ref, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error('disconnected before the answer (it may have been applied)'));
        this.pending.delete(ref);
      }
      // 4400: the server refused the parameters; retrying would not help.
      if (this.stopped || !this.reconnect || e.code === 4400) {
        this.#emit('status', { connected: false, instance: '', closed: true, code: e.code, reason: e.reason });
        return;
      }
      // Exponential backoff with jitter, so a killed instance's users do not come back in one burst.
      const delay = Math.round(Math.min(this.maxBackoffMs, 100 * 2 ** this.attempt++) * (0.5 + Math.random() / 2));
      this.#emit('status', { connected: false, instance: '', retryInMs: delay, code: e.code });
      this.retryTimer = setTimeout(() => this.#open(), delay);
    };
  }

  /** @param {any} frame */
  #onFrame(frame) {
    switch (frame.t) {
      case 'hello': {
        this.attempt = 0;
        this.connected = true;
        this.instance = frame.instance;
        const snap = /** @type {Snapshot} */ (frame.snapshot);
        // First connect: adopt the room's epoch. Resuming in another epoch: the server's resync says so next.
        if (this.epoch === '') this.epoch = snap.epoch;
        this.#applySnapshot(snap);
        this.#emit('hello', { instance: frame.instance, resumedFrom: frame.resumedFrom });
        this.#emit('status', { connected: true, instance: frame.instance });
        return;
      }
      case 'room':
        this.#onRoom(frame.m);
        return;
      case 'ack':
      case 'snapshot':
      case 'error': {
        const p = this.pending.get(frame.ref);
        if (p === undefined) return;
        this.pending.delete(frame.ref);
        clearTimeout(p.timer);
        if (frame.t === 'error') p.reject(Object.assign(new Error(frame.message), { code: frame.code }));
        else p.resolve(frame);
        return;
      }
      default:
    }
  }

  /** @param {RoomMessage} m */
  #onRoom(m) {
    if (m.type === 'resync') {
      // Messages missedFrom..seq-1 cannot be replayed: delivery goes on from seq, and what is shown is reloaded.
      // One that skips nothing this client has not seen already (same epoch, seq <= lastSeq + 1) changes nothing:
      // keep the position, and what comes again is dropped as a duplicate.
      if (m.epoch === this.epoch && m.seq <= this.lastSeq + 1) {
        this.emptyResyncs++;
        return;
      }
      this.epoch = m.epoch;
      this.lastSeq = m.seq - 1;
      this.snapshotSeq = 0;
      this.recent = [];
      this.#emit('resync', m);
      this.sync().catch(() => undefined); // a socket that closes meanwhile gets a hello on reconnect anyway
      return;
    }
    if (m.epoch === this.epoch && m.seq <= this.lastSeq) {
      this.duplicates++;
      return;
    }
    this.epoch = m.epoch;
    this.lastSeq = m.seq;
    this.recent.push(m);
    if (this.recent.length > RECENT) this.recent.splice(0, this.recent.length - RECENT);
    if (m.seq > this.snapshotSeq) this.#apply(m);
    this.#emit('message', m);
  }

  /** @param {Snapshot} snap */
  #applySnapshot(snap) {
    this.snapshotSeq = snap.epoch === this.epoch ? snap.seq : 0;
    this.members = new Map(snap.members.map((m) => [m.id, m]));
    this.state = { ...snap.state };
    this.votes = Math.max(this.votes, snap.votes);
    // Messages that came after the snapshot was read but before it got here.
    for (const m of this.recent) if (m.epoch === snap.epoch && m.seq > snap.seq) this.#apply(m, true);
    this.#emit('members', this.members);
    this.#emit('state', this.state);
    this.#emit('votes', this.votes);
  }

  /** Applies one numbered message to members, state and votes. @param {RoomMessage} m @param {boolean} [quiet] */
  #apply(m, quiet = false) {
    if (m.type === 'join') {
      const meta = /** @type {{name?: unknown} | null} */ (m.meta);
      const name = typeof meta?.name === 'string' ? meta.name : String(m.member);
      this.members.set(String(m.member), { id: String(m.member), name, instance: String(m.origin) });
      if (!quiet) this.#emit('members', this.members);
    } else if (m.type === 'leave') {
      this.members.delete(String(m.member));
      if (!quiet) this.#emit('members', this.members);
    } else if (m.type === 'state') {
      for (const [k, v] of Object.entries(/** @type {Record<string, unknown>} */ (m.patch))) {
        if (v === null) delete this.state[k];
        else this.state[k] = v;
      }
      if (!quiet) this.#emit('state', this.state);
    } else if (m.type === 'event' && m.event === 'votes') {
      const count = Number(/** @type {{count?: unknown}} */ (m.data)?.count);
      if (count > this.votes) {
        this.votes = count;
        if (!quiet) this.#emit('votes', this.votes);
      }
    }
  }

  /** @param {Record<string, unknown>} body @returns {Promise<any>} */
  #request(body) {
    const ws = this.socket;
    if (ws === null || !this.connected) return Promise.reject(new Error('not connected'));
    const ref = `${Date.now().toString(36)}-${(this.refs++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new Error('no answer in time'));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(ref, { resolve, reject, timer });
      ws.send(JSON.stringify({ ...body, ref }));
    });
  }

  /** @param {string} type @param {unknown} arg */
  #emit(type, arg) {
    for (const fn of this.listeners.get(type) ?? []) {
      try {
        fn(arg);
      } catch (err) {
        console.error(err);
      }
    }
  }
}
