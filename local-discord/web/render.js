// Renders one message (author, content, images, buttons, Apps menu) with DOM calls only: message text
// is set through textContent, so nothing a user or the bot posts is ever parsed as HTML.
const LOADING = 1 << 7;
const EPHEMERAL = 1 << 6;
export const EPHEMERAL_FLAG = EPHEMERAL;

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function renderMessage(m, view, handlers) {
  const isBot = m.author.id === view.bot?.id;
  const node = el('article', {
    class: 'message',
    dataset: { id: m.id, testid: 'message', author: m.author.username },
  });
  const tools = el('span', { class: 'tools' });
  const menus = view.commands.filter((c) => c.type === 3);
  if (menus.length > 0) {
    const select = el(
      'select',
      { 'aria-label': 'Apps', dataset: { testid: 'apps' } },
      el('option', { value: '' }, 'Apps'),
    );
    for (const c of menus) select.append(el('option', { value: c.name }, c.name));
    select.addEventListener('change', () => {
      if (select.value) handlers.act('/context-menu', { message: m.id, name: select.value });
      select.value = '';
    });
    tools.append(select);
  }
  tools.append(el('button', { type: 'button', onclick: () => handlers.startReply(m) }, 'Reply'));
  node.append(tools);
  node.append(
    el('span', { class: `author${isBot ? ' bot' : ''}` }, m.author.global_name ?? m.author.username),
  );
  node.append(
    ' ',
    el(
      'span',
      { class: 'meta' },
      new Date(m.timestamp).toLocaleTimeString(),
      m.edited_timestamp ? ' (edited)' : '',
    ),
  );
  if ((m.flags ?? 0) & EPHEMERAL) node.append(el('span', { class: 'meta' }, ' · only you can see this'));
  if (m.referenced_message) {
    node.prepend(
      el(
        'div',
        { class: 'reply-to' },
        `↪ ${m.referenced_message.author.username}: ${withNames(m.referenced_message, view).slice(0, 80)}`,
      ),
    );
  }
  if (m.interaction_metadata?.name) {
    node.prepend(
      el(
        'div',
        { class: 'reply-to' },
        `${m.interaction_metadata.user.username} used /${m.interaction_metadata.name}`,
      ),
    );
  }
  if ((m.flags ?? 0) & LOADING)
    node.append(
      el('div', { class: 'thinking', dataset: { testid: 'thinking' } }, `${view.bot.username} is thinking…`),
    );
  else if (m.content)
    node.append(el('div', { class: 'content', dataset: { testid: 'content' } }, formatContent(m, view)));
  const atts = el('div', { class: 'attachments' });
  for (const a of m.attachments ?? []) {
    if ((a.content_type ?? '').startsWith('image/'))
      atts.append(
        el('img', {
          src: a.url,
          alt: a.filename,
          // The size is known before the pixels arrive: no layout jump when the page re-renders.
          ...(a.width && a.height ? { width: a.width, height: a.height } : {}),
          dataset: { testid: 'image' },
        }),
      );
    else atts.append(el('a', { href: a.url, target: '_blank' }, a.filename));
  }
  node.append(atts);
  for (const row of m.components ?? []) {
    const r = el('div', { class: 'components' });
    for (const c of row.components ?? []) {
      if (c.type !== 2) continue;
      const b = el(
        'button',
        {
          type: 'button',
          class: `style-${c.style}`,
          dataset: { testid: 'button', customId: c.custom_id ?? '' },
        },
        c.label ?? c.emoji?.name ?? '',
      );
      if (c.disabled) b.disabled = true;
      if (c.url) b.addEventListener('click', () => window.open(c.url, '_blank'));
      else
        b.addEventListener('click', () => handlers.act('/buttons', { message: m.id, customId: c.custom_id }));
      r.append(b);
    }
    node.append(r);
  }
  return node;
}

/** Display names for `<@id>` mentions: the message's own mentions, then every user the page knows. */
function mentionName(id, m, view) {
  const user =
    (m.mentions ?? []).find((u) => u.id === id) ??
    (view.bot?.id === id ? view.bot : view.users.find((u) => u.id === id));
  return user ? `@${user.global_name ?? user.username}` : null;
}

const MENTION = /<@!?(\d{17,20})>/g;

/** The message text with `<@id>` replaced by `@name` (for one-line previews). */
export function withNames(m, view) {
  return (m.content ?? '').replace(MENTION, (raw, id) => mentionName(id, m, view) ?? raw);
}

/**
 * The subset of Discord markdown the bot uses, as DOM nodes (never HTML): ``` code blocks ```,
 * `-# ` subtext and `> ` quote lines, **bold**, *italic*, `code` and <@id> mentions.
 */
function formatContent(m, view) {
  const out = document.createDocumentFragment();
  const parts = m.content.split(/```/);
  parts.forEach((part, i) => {
    if (i % 2 === 1 && i < parts.length - 1) {
      // Inside a fence: drop the language tag line, keep the text verbatim.
      out.append(el('pre', {}, el('code', {}, part.replace(/^[^\n]*\n/, ''))));
      return;
    }
    const text = i % 2 === 1 ? `\`\`\`${part}` : part; // an unclosed fence stays literal
    text.split('\n').forEach((line, n) => {
      if (n > 0) out.append('\n');
      if (line.startsWith('> '))
        out.append(el('span', { class: 'quote' }, ...inline(line.slice(2), m, view)));
      else if (line.startsWith('-# '))
        out.append(el('span', { class: 'subtext' }, ...inline(line.slice(3), m, view)));
      else out.append(...inline(line, m, view));
    });
  });
  return out;
}

const INLINE = /(\*\*[^*\n]+\*\*|`[^`\n]+`|<@!?\d{17,20}>|\*[^*\s][^*\n]*\*)/;

function inline(line, m, view) {
  return line
    .split(INLINE)
    .filter((t) => t !== '')
    .map((t) => {
      if (t.startsWith('**') && t.endsWith('**') && t.length > 4) return el('strong', {}, t.slice(2, -2));
      if (t.startsWith('`') && t.endsWith('`') && t.length > 2) return el('code', {}, t.slice(1, -1));
      const mention = t.match(/^<@!?(\d{17,20})>$/);
      if (mention) {
        const name = mentionName(mention[1], m, view);
        return name ? el('span', { class: 'mention' }, name) : t;
      }
      if (t.startsWith('*') && t.endsWith('*') && t.length > 2) return el('em', {}, t.slice(1, -1));
      return t;
    });
}
