import {
  AttachmentBuilder,
  type Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  type Message,
} from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDiscordDriver } from '../../local-discord/driver.js';
import { loginClient, png } from './helpers.js';

describe('messages through the real discord.js client', () => {
  let driver: LocalDiscordDriver;
  let client: Client;
  const received: Message[] = [];

  beforeAll(async () => {
    driver = await LocalDiscordDriver.start({ limits: { maxFileSize: 64 * 1024 } });
    client = await loginClient(driver);
    client.on(Events.MessageCreate, (m) => {
      received.push(m);
    });
  });
  afterAll(async () => {
    await client.destroy();
    await driver.stop();
  });

  const nextMessage = (pred: (m: Message) => boolean) =>
    driver.waitFor(() => received.find(pred), 5000, 'a message');

  it('delivers a user message with its attachment; mentions include the bot only when pinged', async () => {
    const image = await png(4, 4);
    const plain = await driver.sendMessage(driver.users.bob, driver.channels.general, {
      content: 'hello',
      attachments: [{ name: 'cat.png', data: image }],
    });
    const got = await nextMessage((m) => m.id === plain.id);
    expect(got.content).toBe('hello');
    expect(got.author.id).toBe(driver.users.bob.id);
    expect(got.attachments.first()?.contentType).toBe('image/png');
    expect(got.mentions.has(client.user!)).toBe(false);
    const pinged = await driver.sendMessage(driver.users.bob, driver.channels.general, {
      content: 'draw',
      mentionBot: true,
    });
    const got2 = await nextMessage((m) => m.id === pinged.id);
    expect(got2.content).toBe(`<@${driver.bot.id}> draw`);
    expect(got2.mentions.users.has(driver.bot.id)).toBe(true);
  });

  it('lets hostile-input tests fake an attachment URL and content type', async () => {
    const sent = await driver.sendMessage(driver.users.carol, driver.channels.general, {
      content: 'trust me',
      attachments: [
        {
          name: 'x.png',
          data: Buffer.from('not an image'),
          contentType: 'image/png',
          url: 'http://evil.test/x.png',
        },
      ],
    });
    const got = await nextMessage((m) => m.id === sent.id);
    const a = got.attachments.first()!;
    expect([a.url, a.contentType, a.width]).toEqual(['http://evil.test/x.png', 'image/png', null]);
  });

  it('replies with message_reference; a user reply to the bot pings the bot', async () => {
    const question = await driver.sendMessage(driver.users.alice, driver.channels.art, { content: 'q' });
    const incoming = await nextMessage((m) => m.id === question.id);
    const answer = await incoming.reply('a');
    const stored = await driver.waitForBotReply(question);
    expect(stored.id).toBe(answer.id);
    expect(stored.message_reference?.message_id).toBe(question.id);
    expect(stored.type).toBe(19);
    const followUp = await driver.sendMessage(driver.users.alice, driver.channels.art, {
      content: 'more',
      replyTo: stored,
    });
    const got = await nextMessage((m) => m.id === followUp.id);
    expect(got.reference?.messageId).toBe(answer.id);
    expect(got.mentions.users.has(driver.bot.id)).toBe(true);
  });

  it('sends DMs both ways (user.send creates the DM channel; DMs arrive with Partials.Channel)', async () => {
    const bob = await client.users.fetch(driver.users.bob.id);
    const sent = await bob.send('psst');
    const dm = driver.dmChannel(driver.users.bob);
    expect(driver.botMessages(dm).map((m) => m.id)).toEqual([sent.id]);
    const back = await driver.sendMessage(driver.users.bob, dm, { content: 'hi bot' });
    const got = await nextMessage((m) => m.id === back.id);
    expect(got.channel.isDMBased()).toBe(true);
    expect(got.content).toBe('hi bot');
  });

  it('uploads bot files (multipart) to the CDN path; edits, fetches and deletes messages', async () => {
    const channel = await client.channels.fetch(driver.channels.general.id);
    if (!channel?.isSendable()) throw new Error('not sendable');
    const image = await png(10, 5);
    const m = await channel.send({ content: 'v1', files: [new AttachmentBuilder(image, { name: 'a.png' })] });
    const url = m.attachments.first()!.url;
    expect(url.startsWith(`${driver.baseUrl}/attachments/${driver.channels.general.id}/`)).toBe(true);
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(image)).toBe(true);
    await m.edit('v2');
    expect(driver.messageHistory(m.id).map((x) => [x.content, x.attachments.length])).toEqual([
      ['v1', 1],
      ['v2', 1],
    ]);
    const fetched = await channel.messages.fetch({ limit: 2 });
    expect([...fetched.keys()][0]).toBe(m.id);
    await channel.sendTyping();
    expect(driver.typingCount(driver.channels.general)).toBe(1);
    await m.delete();
    expect(driver.message(m.id)).toBeUndefined();
  });

  it('rejects content over 2000 characters with 50035', async () => {
    const channel = await client.channels.fetch(driver.channels.general.id);
    if (!channel?.isSendable()) throw new Error('not sendable');
    const err = await channel.send('x'.repeat(2001)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect((err as DiscordAPIError).code).toBe(50035);
    expect((err as DiscordAPIError).rawError).toMatchObject({
      errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } },
    });
    await expect(channel.send('y'.repeat(2000))).resolves.toBeDefined();
  });

  it('rejects a file over the size limit with 413 / 40005 and more than 10 files with 50035', async () => {
    const channel = await client.channels.fetch(driver.channels.general.id);
    if (!channel?.isSendable()) throw new Error('not sendable');
    const big = new AttachmentBuilder(Buffer.alloc(64 * 1024 + 1), { name: 'big.bin' });
    const err = await channel.send({ files: [big] }).catch((e: unknown) => e);
    expect((err as DiscordAPIError).status).toBe(413);
    expect((err as DiscordAPIError).code).toBe(40005);
    const many = Array.from(
      { length: 11 },
      (_, i) => new AttachmentBuilder(Buffer.from('x'), { name: `${i}.txt` }),
    );
    const err2 = await channel.send({ files: many }).catch((e: unknown) => e);
    expect((err2 as DiscordAPIError).code).toBe(50035);
  });

  it('refuses an empty message with 50006', async () => {
    const err = await client.rest
      .post(`/channels/${driver.channels.general.id}/messages`, { body: { content: '' } })
      .catch((e: unknown) => e);
    expect((err as DiscordAPIError).code).toBe(50006);
  });

  it('does not ping @everyone when the bot restricts allowed_mentions', async () => {
    const channel = await client.channels.fetch(driver.channels.general.id);
    if (!channel?.isSendable()) throw new Error('not sendable');
    const unsafe = await channel.send('@everyone look');
    const safe = await channel.send({ content: '@everyone look', allowedMentions: { parse: [] } });
    expect(driver.message(unsafe.id)?.mention_everyone).toBe(true);
    expect(driver.message(safe.id)?.mention_everyone).toBe(false);
  });

  it('answers unknown routes with a Discord-style 404 and records them', async () => {
    const err = await client.rest.get('/channels/123456789012345678/nothing-here').catch((e: unknown) => e);
    expect((err as DiscordAPIError).status).toBe(404);
    expect(driver.unknownRoutes()).toContainEqual({
      method: 'GET',
      path: '/api/v10/channels/123456789012345678/nothing-here',
    });
  });

  it('hides guild message content from a bot without the Message Content intent, except mentions', async () => {
    const other = await loginClient(driver, {
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
    });
    const seen: Message[] = [];
    other.on(Events.MessageCreate, (m) => {
      seen.push(m);
    });
    const a = await driver.sendMessage(driver.users.bob, driver.channels.general, { content: 'secret' });
    const b = await driver.sendMessage(driver.users.bob, driver.channels.general, {
      content: 'hey',
      mentionBot: true,
    });
    await driver.waitFor(() => seen.length >= 2);
    expect(seen.find((m) => m.id === a.id)?.content).toBe('');
    expect(seen.find((m) => m.id === b.id)?.content).toBe(`<@${driver.bot.id}> hey`);
    await other.destroy();
  });
});
