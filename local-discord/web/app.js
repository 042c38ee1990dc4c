// Local Discord page: plain JS, no build step. State comes from /app/api/state, then live events over SSE.
const $ = (id) => document.getElementById(id);

import { EPHEMERAL_FLAG as EPHEMERAL, el, renderMessage } from './render.js';

const view = {
  bot: null,
  users: [],
  channels: [],
  commands: [],
  messages: new Map(),
  user: null,
  channel: null,
};
const pendingFiles = [];
/** Interactions this page started, by id, to show "thinking" / "did not respond" and open modals. */
const mine = new Map();

async function post(path, payload, files = []) {
  const form = new FormData();
  form.append('payload_json', JSON.stringify({ user: view.user, ...payload }));
  files.forEach((f, i) => {
    form.append(`files[${i}]`, f, f.name);
  });
  const res = await fetch(`/app/api${path}`, { method: 'POST', body: form });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? res.statusText);
  return body;
}

function status(text, cls = 'muted') {
  $('status').textContent = text;
  $('status').className = cls;
}

function visible(m) {
  if (m.channel_id !== view.channel) return false;
  if ((m.flags ?? 0) & EPHEMERAL) return m.interaction_metadata?.user?.id === view.user;
  return true;
}

function render() {
  const box = $('messages');
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 40;
  const list = [...view.messages.values()]
    .filter(visible)
    .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  box.replaceChildren(...list.map((m) => renderMessage(m, view, { act, startReply })));
  if (atBottom) box.scrollTop = box.scrollHeight;
  const channel = view.channels.find((c) => c.id === view.channel);
  $('channel-title').textContent = channel ? (channel.type === 1 ? channel.name : `# ${channel.name}`) : '';
}

function renderChannels() {
  const nav = $('channels');
  const list = view.channels.filter((c) => c.type === 0 || c.recipients.includes(view.user));
  nav.replaceChildren(
    ...list.map((c) =>
      el(
        'button',
        {
          type: 'button',
          class: c.id === view.channel ? 'active' : '',
          dataset: { testid: 'channel', name: c.name },
          onclick: () => selectChannel(c.id),
        },
        c.type === 1 ? c.name : `# ${c.name}`,
      ),
    ),
  );
}

function selectChannel(id) {
  view.channel = id;
  renderChannels();
  render();
}

let replyTo = null;
function startReply(m) {
  replyTo = m.id;
  status(`Replying to ${m.author.username} — Esc to cancel`);
  $('text').focus();
}

async function act(path, payload) {
  try {
    const outcome = await post(path, payload);
    track(outcome);
  } catch (err) {
    status(err.message, 'failed');
  }
}

function track(outcome) {
  mine.set(outcome.id, outcome);
  showOutcome(outcome);
}

function showOutcome(o) {
  if (o.state === 'failed') status(`/${o.name}: The application did not respond`, 'failed');
  else if (o.state === 'pending') status(`/${o.name}: sent…`);
  else status('');
  if (o.response === 'modal' && o.modal && o.userId === view.user && !o.modalShown) {
    o.modalShown = true;
    openModal(o);
  }
}

function openModal(o) {
  $('modal-title').textContent = o.modal.title;
  const fields = $('modal-fields');
  fields.replaceChildren();
  const inputs = [];
  const walk = (n) => {
    if (!n || typeof n !== 'object') return;
    if (n.type === 4) inputs.push(n);
    for (const c of n.components ?? []) walk(c);
    if (n.component) walk(n.component);
  };
  for (const c of o.modal.components ?? []) walk(c);
  for (const i of inputs) {
    const input = i.style === 2 ? el('textarea', { name: i.custom_id }) : el('input', { name: i.custom_id });
    if (i.value) input.value = i.value;
    fields.append(el('label', {}, i.label ?? i.custom_id, input));
  }
  const dialog = $('modal');
  $('modal-form').onsubmit = () => {
    const values = Object.fromEntries(
      inputs.map((i) => [i.custom_id, fields.querySelector(`[name="${CSS.escape(i.custom_id)}"]`).value]),
    );
    act('/modals', { interaction: o.id, fields: values });
  };
  $('modal-cancel').onclick = () => dialog.close();
  dialog.showModal();
}

function showHints() {
  const text = $('text').value;
  if (!text.startsWith('/')) {
    $('hints').textContent = '';
    return;
  }
  const word = text.slice(1).split(/\s+/)[0];
  const matches = view.commands.filter((c) => (c.type ?? 1) === 1 && c.name.startsWith(word));
  $('hints').textContent = matches
    .map(
      (c) =>
        `/${c.name} ${(c.options ?? []).map((o) => (o.required ? `<${o.name}>` : `[${o.name}]`)).join(' ')}`,
    )
    .join('   ');
}

function renderPending() {
  $('pending-files').replaceChildren(...pendingFiles.map((f) => el('span', {}, `📎 ${f.name}`)));
}

async function submit(event) {
  event.preventDefault();
  const text = $('text').value.trim();
  if (!text && pendingFiles.length === 0) return;
  const files = pendingFiles.splice(0);
  renderPending();
  $('text').value = '';
  showHints();
  try {
    if (text.startsWith('/')) track(await post('/commands', { channel: view.channel, text }, files));
    else await post('/messages', { channel: view.channel, content: text, replyTo }, files);
    replyTo = null;
    if (!text.startsWith('/')) status('');
  } catch (err) {
    status(err.message, 'failed');
  }
}

function addFiles(list) {
  for (const f of list) pendingFiles.push(f);
  renderPending();
}

async function load() {
  const state = await (await fetch('/app/api/state')).json();
  Object.assign(view, {
    bot: state.bot,
    users: state.users,
    channels: state.channels,
    commands: state.commands,
  });
  view.messages = new Map(state.messages.map((m) => [m.id, m]));
  $('guild-name').textContent = state.guilds[0]?.name ?? 'Local Discord';
  $('connection').textContent = state.gatewayConnected
    ? `${state.bot.username} is online`
    : `${state.bot.username} is offline`;
  const select = $('user-select');
  if (select.options.length === 0) {
    for (const u of state.users) select.append(el('option', { value: u.id }, u.username));
    view.user = state.users[0]?.id ?? null;
  }
  view.channel ??= state.channels.find((c) => c.type === 0)?.id ?? null;
  renderChannels();
  render();
}

function listen() {
  const source = new EventSource('/app/api/events');
  const upsert = (e) => {
    const m = JSON.parse(e.data);
    view.messages.set(m.id, m);
    if (m.channel_id === view.channel) render();
  };
  source.addEventListener('messageCreate', upsert);
  source.addEventListener('messageUpdate', upsert);
  source.addEventListener('messageDelete', (e) => {
    view.messages.delete(JSON.parse(e.data).id);
    render();
  });
  source.addEventListener('interactionUpdate', (e) => {
    const o = JSON.parse(e.data);
    if (!mine.has(o.id)) return;
    const known = mine.get(o.id);
    Object.assign(known, o, { modalShown: known.modalShown });
    showOutcome(known);
  });
  source.addEventListener('commandsUpdate', () => load());
  source.addEventListener('open', () => load());
}

$('composer').addEventListener('submit', submit);
$('text').addEventListener('input', showHints);
$('text').addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    replyTo = null;
    status('');
  }
});
$('file-input').addEventListener('change', (e) => {
  addFiles(e.target.files);
  e.target.value = '';
});
$('user-select').addEventListener('change', (e) => {
  view.user = e.target.value;
  renderChannels();
  render();
});
$('dm-button').addEventListener('click', async () => {
  const { id } = await post('/dm', {});
  await load();
  selectChannel(id);
});
document.body.addEventListener('dragover', (e) => {
  e.preventDefault();
  document.body.classList.add('dragging');
});
document.body.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.body.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  addFiles(e.dataTransfer.files);
});

load().then(listen);
