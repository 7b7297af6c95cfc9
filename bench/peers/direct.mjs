/**
 * @module bench/peers/direct: no proxy. wrk (or the WebSocket client) talks to the backends themselves, split evenly
 * over both (two wrk processes, half the connections each), which is the ceiling every proxy is compared with.
 */
export default {
  name: 'direct',
  label: 'direct (no proxy)',
  kind: 'none',
  websocket: true,
  /** No process: the "proxy ports" are the backend ports. */
  async start() {
    return null;
  },
};
