// @ts-check
/* global URLSearchParams, crypto, document, history, localStorage, location, sessionStorage -- a browser page */
/** The page: a join form, then the room (log, online list, topic, 👍). The protocol is all in chat-client.js. */
import { ChatClient } from './chat-client.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const input = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (document.getElementById(id));

/** This tab's member id: kept across reloads of the tab, different in every tab (two tabs are two members). */
function memberId() {
  let id = sessionStorage.getItem('rooms-chat-member');
  if (id === null) {
    id = `m-${crypto.getRandomValues(new Uint32Array(2)).join('-')}`;
    sessionStorage.setItem('rooms-chat-member', id);
  }
  return id;
}

const params = new URLSearchParams(location.search);
input('name').value = params.get('name') ?? localStorage.getItem('rooms-chat-name') ?? '';
input('room').value = params.get('room') ?? 'lobby';

$('join').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = input('name').value.trim();
  const room = input('room').value.trim();
  localStorage.setItem('rooms-chat-name', name);
  history.replaceState(null, '', `?room=${encodeURIComponent(room)}&name=${encodeURIComponent(name)}`);
  enter(room, name);
});
if (params.get('room') && params.get('name')) enter(/** @type {string} */ (params.get('room')), /** @type {string} */ (params.get('name')));

/** @param {string} room @param {string} name */
function enter(room, name) {
  $('join').hidden = true;
  $('chat').hidden = false;
  $('room-title').textContent = `#${room}`;
  document.title = `#${room} · rooms-chat`;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const client = new ChatClient({ url: `${scheme}://${location.host}/ws`, room, name, member: memberId() });

  const log = $('log');
  /** @param {string} text @param {string} [cls] @param {number} [seq] */
  const line = (text, cls = '', seq) => {
    const li = document.createElement('li');
    if (cls) li.className = cls;
    if (seq !== undefined) {
      const s = document.createElement('span');
      s.className = 'seq';
      s.textContent = `#${seq}`;
      li.append(s);
    }
    li.append(text);
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    log.append(li);
    while (log.children.length > 500) log.firstElementChild?.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  };
  /** Names of everyone seen, so a leave can still be shown by name once the member is off the list. */
  const names = new Map();
  const nameOf = (/** @type {string} */ id) => names.get(id) ?? id;

  client.on('hello', ({ instance, resumedFrom }) => {
    line(resumedFrom === null ? `connected to ${instance}` : `reconnected to ${instance}, resuming from #${resumedFrom}`, 'notice');
  });
  client.on('status', (s) => {
    const status = $('status');
    status.classList.toggle('down', !s.connected);
    status.textContent = s.connected
      ? `connected to ${s.instance} through the gateway`
      : s.closed
        ? `disconnected (${s.reason || s.code})`
        : `disconnected: reconnecting in ${s.retryInMs} ms (with fromSeq=${client.lastSeq + 1})`;
    for (const b of document.querySelectorAll('#say button, #vote, #topic-form button')) /** @type {HTMLButtonElement} */ (b).disabled = !s.connected;
  });
  client.on('message', (m) => {
    if (m.type === 'event' && m.event === 'chat') line(`${m.data.name}: ${m.data.text}`, '', m.seq);
    else if (m.type === 'event' && m.event === 'votes') line(`${m.data.name} voted 👍 (${m.data.count})`, 'notice', m.seq);
    else if (m.type === 'join') line(`${m.meta?.name ?? m.member} joined via ${m.origin}`, 'notice', m.seq);
    else if (m.type === 'leave') line(`${nameOf(m.member)} ${m.reason === 'expired' ? 'dropped (their instance went away)' : 'left'}`, 'notice', m.seq);
    else if (m.type === 'state' && 'topic' in m.patch) line(`topic: ${m.patch.topic}`, 'notice', m.seq);
    $('position').textContent = `last seq ${client.lastSeq}, epoch ${client.epoch}`;
  });
  client.on('resync', (m) => line(`messages #${m.missedFrom}–#${m.seq - 1} are no longer kept: reloading the room`, 'warn'));
  client.on('members', (members) => {
    for (const m of members.values()) names.set(m.id, m.name);
    const ul = $('members');
    ul.replaceChildren(
      ...[...members.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((m) => {
          const li = document.createElement('li');
          const small = document.createElement('small');
          small.textContent = ` ${m.instance}`;
          li.append(m.id === client.member ? `${m.name} (you)` : m.name, small);
          return li;
        }),
    );
    $('count').textContent = `(${members.size})`;
  });
  client.on('state', (state) => {
    const topic = input('topic');
    if (document.activeElement !== topic) topic.value = typeof state.topic === 'string' ? state.topic : '';
    $('topic-by').textContent = state.topicBy ? `set by ${state.topicBy}` : '';
  });
  client.on('votes', (n) => {
    $('votes').textContent = String(n);
  });

  /** @param {Promise<unknown>} p */
  const report = (p) => p.catch((/** @type {Error} */ err) => line(`not sent: ${err.message}`, 'warn'));
  $('say').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input('text');
    if (text.value.trim() === '') return;
    report(client.chat(text.value));
    text.value = '';
  });
  $('topic-form').addEventListener('submit', (e) => {
    e.preventDefault();
    report(client.setTopic(input('topic').value));
    input('topic').blur();
  });
  $('vote').addEventListener('click', () => report(client.vote()));
  client.start();
}
