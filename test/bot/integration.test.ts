/**
 * The real discord.js client (createBot) against the local Discord-compatible server, with a FAKE
 * inference client: commands, context menus, modals, a button pressed after a bot restart, chat,
 * and attachments refused before anything reaches the inference server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REST, Routes } from 'discord.js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandPayloads } from '../../bot/commands/index.js';
import { parseConfig } from '../../bot/config.js';
import { type Bot, createBot } from '../../bot/create-bot.js';
import { JobStore } from '../../bot/store/job-store.js';
import { LocalDiscordDriver } from '../../local-discord/driver.js';
import { FakeInference } from './fake-inference.js';

let driver: LocalDiscordDriver;
let dir: string;
let inference: FakeInference;
let store: JobStore;
let bot: Bot;
let png: Buffer;

async function startBot(): Promise<void> {
  const config = parseConfig({
    DISCORD_TOKEN: driver.token,
    DISCORD_API_URL: driver.restUrl,
    ALLOWED_ATTACHMENT_HOSTS: '127.0.0.1',
    BOT_DB_PATH: join(dir, 'bot.sqlite'),
    PROGRESS_EDIT_INTERVAL_MS: '50',
    USER_MAX_RUNNING_JOBS: '4',
    USER_MAX_QUEUED_JOBS: '8',
    MAX_ATTACHMENT_BYTES: '100000',
  });
  store = new JobStore(config.store.path);
  bot = createBot({ config, inference, store });
  await bot.start();
}

async function stopBot(): Promise<void> {
  await bot.stop();
  store.close();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bot-it-'));
  png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  driver = await LocalDiscordDriver.start();
  const rest = new REST({ api: driver.restUrl }).setToken(driver.token);
  await rest.put(Routes.applicationCommands(driver.applicationId), { body: commandPayloads() });
  inference = new FakeInference();
  await startBot();
});

afterAll(async () => {
  await stopBot();
  await driver.stop();
  rmSync(dir, { recursive: true, force: true });
});

const image = () => ({ name: 'shape.png', data: png, contentType: 'image/png' });
const calls = (method: string) => inference.calls.filter((c) => c.method === method).length;

describe('bot against local Discord', () => {
  it('/imagine answers with upscaled images and buttons, acknowledged in time', async () => {
    const { alice } = driver.users;
    const h = await driver.runCommand(alice, driver.channels.general, 'imagine', {
      prompt: 'a red circle',
      count: 2,
    });
    const { message, data } = await driver.waitUntilBotMessageHasImage(h, {
      match: (m) => (m.components?.length ?? 0) > 0,
    });
    expect(message.attachments).toHaveLength(2);
    expect((await sharp(data).metadata()).width).toBe(256);
    const outcome = driver.interactionOutcome(h);
    expect(outcome.acknowledgedInTime).toBe(true);
    expect(outcome.deferred).toBe(true);
  });

  it('/caption, /ask, /edit, /blend, /reveal, /help and /settings each answer', async () => {
    const { alice } = driver.users;
    const general = driver.channels.general;
    const caption = await driver.runCommand(alice, general, 'caption', { image: image() });
    expect((await driver.waitForBotReply(caption)).content).toContain('a red circle');
    const ask = await driver.runCommand(alice, general, 'ask', { image: image(), question: 'what colour?' });
    const answered = (await driver.waitForBotReply(ask)).content;
    expect(answered).toContain('red');
    expect(answered).toContain('-# read as: a red circle at the center'); // the caption it answered from
    for (const [name, options] of [
      ['edit', { image: image(), instruction: 'make it green' }],
      ['blend', { image_a: image(), image_b: image(), amount: 0.5 }],
      ['reveal', { image: image() }],
    ] as const) {
      const h = await driver.runCommand(alice, general, name, options);
      await driver.waitUntilBotMessageHasImage(h, { match: (m) => (m.components?.length ?? 0) > 0 });
    }
    expect(calls('edit')).toBe(1);
    expect(calls('blend')).toBe(1);
    expect(calls('encode')).toBe(1);
    const help = await driver.runCommand(alice, general, 'help');
    expect((await driver.waitForBotReply(help)).content).toContain('/imagine');
    expect(driver.interactionOutcome(help).ephemeral).toBe(true);
    const settings = await driver.runCommand(alice, general, 'settings show');
    expect((await driver.waitForBotReply(settings)).content).toContain('Channels');
  });

  it('context menus caption directly and ask through a modal', async () => {
    const { alice, bob } = driver.users;
    const posted = await driver.sendMessage(bob, driver.channels.art, {
      content: 'look',
      attachments: [image()],
    });
    const cap = driver.runContextMenu(alice, posted, 'Caption image');
    expect((await driver.waitForBotReply(cap)).content).toContain('a red circle');
    const ask = driver.runContextMenu(alice, posted, 'Ask about image…');
    const opened = await driver.waitForOutcome(ask);
    expect(opened.response).toBe('modal');
    const customId = String((opened.modal as { custom_id: string }).custom_id);
    const submit = driver.submitModal(alice, ask, customId, { text: 'what colour is it?' });
    expect((await driver.waitForBotReply(submit)).content).toContain('red');
  });

  it('refuses oversize and non-image attachments before calling the server', async () => {
    const { alice } = driver.users;
    const before = inference.calls.length;
    const big = await driver.runCommand(alice, driver.channels.general, 'caption', {
      image: { name: 'big.png', data: Buffer.alloc(200_000, 1), contentType: 'image/png' },
    });
    const bigReply = await driver.waitForBotReply(big);
    expect(bigReply.content).toContain('`big.png` is 195 KiB; the limit is 98 KiB.');
    expect(driver.interactionOutcome(big).ephemeral).toBe(true);
    const text = await driver.runCommand(alice, driver.channels.general, 'caption', {
      image: { name: 'notes.txt', data: Buffer.from('hello'), contentType: 'text/plain' },
    });
    expect((await driver.waitForBotReply(text)).content).toContain('not an image');
    expect(inference.calls.length).toBe(before);
  });

  it('chat: a mention gets an answer', async () => {
    const { bob } = driver.users;
    const before = calls('chat');
    const m = await driver.sendMessage(bob, driver.channels.general, {
      content: 'hello, who are you',
      mentionBot: true,
    });
    expect(
      (await driver.waitForBotReply(m, { match: (r) => r.content.includes('It is red') })).content,
    ).toContain('It is red');
    expect(calls('chat')).toBe(before + 1);
  });

  it('chat: questions, descriptions and drawings run as /ask, /caption and /imagine do', async () => {
    const { bob } = driver.users;
    const general = driver.channels.general;
    const before = { ask: calls('ask'), caption: calls('caption'), generate: calls('generate') };
    const chats = calls('chat');
    const q = await driver.sendMessage(bob, general, {
      content: 'what colour is it?',
      mentionBot: true,
      attachments: [image()],
    });
    const answer = await driver.waitForBotReply(q, { match: (r) => r.content.includes('read as') });
    expect(answer.content).toContain('-# read as: a red circle at the center');
    const d = await driver.sendMessage(bob, general, {
      content: 'describe the image',
      mentionBot: true,
      attachments: [image()],
    });
    const described = await driver.waitForBotReply(d, { match: (r) => r.content.includes('Caption') });
    expect(described.content).toContain('a red circle');
    const g = await driver.sendMessage(bob, general, {
      content: 'please draw two red circles',
      mentionBot: true,
    });
    await driver.waitUntilBotMessageHasImage(g, { match: (r) => (r.components?.length ?? 0) > 0 });
    expect(calls('ask')).toBe(before.ask + 1);
    expect(calls('caption')).toBe(before.caption + 1);
    expect(calls('generate')).toBe(before.generate + 1);
    expect(calls('chat')).toBe(chats);
    const drawn = inference.calls.filter((c) => c.method === 'generate').at(-1)!;
    expect(drawn.request).toMatchObject({ prompt: 'draw two red circles' });
  });

  it('a Re-roll button still works after the bot restarts', async () => {
    const { alice } = driver.users;
    const h = await driver.runCommand(alice, driver.channels.general, 'imagine', { prompt: 'a blue square' });
    const { message } = await driver.waitUntilBotMessageHasImage(h, {
      match: (m) => (m.components?.length ?? 0) > 0,
    });
    const reroll = (
      message.components?.[0] as { components: { custom_id: string; label: string }[] }
    ).components.find((b) => b.label === 'Re-roll')!;
    await stopBot();
    await startBot();
    const before = calls('generate');
    const press = driver.pressButton(alice, message, reroll.custom_id);
    await driver.waitUntilBotMessageHasImage(press, { match: (m) => (m.components?.length ?? 0) > 0 });
    expect(calls('generate')).toBe(before + 1);
    const last = inference.calls.filter((c) => c.method === 'generate').at(-1)!;
    expect(last.request).toMatchObject({ prompt: 'a blue square' });
  });

  it('used only routes the local Discord knows', () => {
    expect(driver.unknownRoutes()).toEqual([]);
  });
});
