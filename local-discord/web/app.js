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
/**
 * Updates the event stream reported for interactions not (yet) in `mine`: a quick bot acknowledges
 * before the POST that started the interaction has answered, and that update must not be lost.
 */
const early = new Map();

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

/** Follow new messages while the person is at the bottom; stay put once they scroll up to read. */
let stickToBottom = true;
function scrollToBottom() {
  const box = $('messages');
  box.scrollTop = box.scrollHeight;
}

function render() {
  const box = $('messages');
  const list = [...view.messages.values()]
    .filter(visible)
    .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  box.replaceChildren(...list.map((m) => renderMessage(m, view, { act, startReply })));
  if (stickToBottom) scrollToBottom();
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
  stickToBottom = true;
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
  // Every update is a state after the POST's "pending", so the stream's latest one wins.
  Object.assign(outcome, early.get(outcome.id));
  early.delete(outcome.id);
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

/** What the Discord client does when you pick a name after "@": `@LocalBot hi` is sent as `<@id> hi`. */
function withMentions(text) {
  const people = [view.bot, ...view.users].filter(Boolean);
  return text.replace(/(^|[\s(])@([\w.]+)/g, (whole, before, name) => {
    const user = people.find((u) =>
      [u.username, u.global_name].some((n) => n?.toLowerCase() === name.toLowerCase()),
    );
    return user ? `${before}<@${user.id}>` : whole;
  });
}

async function submit(event) {
  event.preventDefault();
  const typed = $('text').value;
  const text = typed.trim();
  if (!text && pendingFiles.length === 0) return;
  const files = pendingFiles.splice(0);
  renderPending();
  $('text').value = '';
  showHints();
  stickToBottom = true;
  try {
    if (text.startsWith('/')) track(await post('/commands', { channel: view.channel, text }, files));
    else await post('/messages', { channel: view.channel, content: withMentions(text), replyTo }, files);
    replyTo = null;
    if (!text.startsWith('/')) status('');
  } catch (err) {
    // Nothing was posted: give the text and the files back so they can be fixed and sent again.
    if ($('text').value === '') $('text').value = typed;
    pendingFiles.unshift(...files);
    renderPending();
    showHints();
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
    if (!mine.has(o.id)) {
      early.set(o.id, o);
      if (early.size > 100) early.delete(early.keys().next().value);
      return;
    }
    const known = mine.get(o.id);
    Object.assign(known, o, { modalShown: known.modalShown });
    showOutcome(known);
  });
  source.addEventListener('commandsUpdate', () => load());
  source.addEventListener('open', () => load());
}

$('composer').addEventListener('submit', submit);
$('messages').addEventListener('scroll', () => {
  const box = $('messages');
  stickToBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 40;
});
// Images grow the list after render(): keep following while at the bottom ('load' does not bubble).
$('messages').addEventListener(
  'load',
  () => {
    if (stickToBottom) scrollToBottom();
  },
  true,
);
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
