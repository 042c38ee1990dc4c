/**
 * End to end, hostile input through Discord: attachments that lie about where they live or what
 * they are, decompression bombs, empty files, 100-megapixel images, over-long prompts, control
 * characters and mass mentions. Each gets a clear answer, refused input never reaches the inference
 * server, nobody is pinged, and the bot keeps working. Real discord.js, gRPC, ONNX Runtime, model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIMessage } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InteractionHandle, LocalDiscordDriver } from '../../local-discord/driver.js';
import {
  deployCommands,
  type E2EBot,
  isFinishedImage,
  loggedErrors,
  startE2EBot,
  waitForChatAnswer,
  waitForJobEnd,
} from '../support/e2e-bot.js';
import { blackPng, bombPng } from '../support/hostile-images.js';
import { type InferenceProcess, readManifest, startInferenceProcess } from '../support/inference-process.js';
import { renderPng, sceneFromKey } from '../support/shapes-world.js';

const MODEL_SIZE = readManifest().image.size;
const JOB_MS = 60_000;
const MAX_PIXELS = '16,777,216'; // the bot's default MAX_IMAGE_PIXELS (4096 x 4096)

let dir: string;
let server: InferenceProcess;
let driver: LocalDiscordDriver;
let bot: E2EBot;
let scene: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-hostile-'));
  [server, driver] = await Promise.all([startInferenceProcess(), LocalDiscordDriver.start()]);
  await deployCommands(driver);
  bot = await startE2EBot(driver, { address: server.address, dbPath: join(dir, 'bot.sqlite') });
  scene = await renderPng(sceneFromKey('0:red:circle;4:blue:square'), MODEL_SIZE);
});

afterAll(async () => {
  await bot?.stop();
  await driver?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Calls the server handled, except the bot's periodic GetModelInfo (limits) refresh. */
async function workCalls(): Promise<number> {
  const text = await server.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith('ddt_rpc_duration_seconds_count{') && !l.includes('rpc="GetModelInfo"'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** Runs `act` and checks that it made no inference call. */
async function withoutServerWork<T>(act: () => Promise<T>): Promise<T> {
  const before = await workCalls();
  const result = await act();
  expect(await workCalls(), 'calls that reached the inference server').toBe(before);
  return result;
}

const reply = (h: InteractionHandle) => driver.waitForBotReply(h, { timeoutMs: JOB_MS });
const caption = (image: { name: string; data: Buffer; contentType?: string; url?: string }) =>
  driver.runCommand(driver.users.bob, driver.channels.general, 'caption', { image });

describe('hostile attachments', () => {
  it('an attachment claiming a non-Discord URL is never downloaded (command and chat)', async () => {
    const url = 'https://evil.example.com/attachments/1/2/scene.png';
    const cmd = await withoutServerWork(async () =>
      reply(await caption({ name: 'scene.png', data: scene, contentType: 'image/png', url })),
    );
    expect(cmd.content).toBe('I can only read images uploaded to Discord. Please attach the image directly.');
    const said = await driver.sendMessage(driver.users.carol, driver.channels.general, {
      content: 'what is this',
      mentionBot: true,
      attachments: [{ name: 'scene.png', data: scene, contentType: 'image/png', url }],
    });
    const chat = await withoutServerWork(() => waitForChatAnswer(driver, said, 15_000));
    expect(chat.content).toBe(
      'I can only read images uploaded to Discord. Please attach the image directly.',
    );
  });

  it('a fake content type: a script labelled image/png, an SVG labelled image/png, a PNG labelled text/plain', async () => {
    const script = await withoutServerWork(async () =>
      reply(
        await caption({
          name: 'cat.png',
          data: Buffer.from('#!/bin/sh\nrm -rf ~\n'),
          contentType: 'image/png',
        }),
      ),
    );
    expect(script.content).toBe('That file is not a readable image. Please upload a PNG, JPEG, WebP or GIF.');
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32"/></svg>',
    );
    const svgReply = await withoutServerWork(async () =>
      reply(await caption({ name: 'vector.png', data: svg, contentType: 'image/png' })),
    );
    expect(svgReply.content).toMatch(/format are not supported\. Please upload a PNG, JPEG, WebP or GIF\.$/);
    const h = await caption({ name: 'scene.txt', data: scene, contentType: 'text/plain' });
    const text = await withoutServerWork(() => reply(h));
    expect(text.content).toBe(
      '`scene.txt` is not an image I can read. Please upload a PNG, JPEG, WebP or GIF.',
    );
    expect(driver.interactionOutcome(h).ephemeral).toBe(true);
  });

  it('a decompression bomb declaring 30000x30000 is refused from its header', async () => {
    const bomb = bombPng(30_000, 30_000);
    expect(bomb.length).toBeLessThan(4096);
    const h = await driver.runCommand(driver.users.alice, driver.channels.general, 'edit', {
      image: { name: 'bomb.png', data: bomb },
      instruction: 'make it red',
    });
    const answer = await withoutServerWork(() => reply(h));
    expect(answer.content).toBe(`\`bomb.png\` is 30000x30000 pixels; the limit is ${MAX_PIXELS} pixels.`);
    expect(driver.interactionOutcome(h).ephemeral).toBe(true);
  });

  it('a 0-byte file gets "not a readable image"', async () => {
    const answer = await withoutServerWork(async () =>
      reply(await caption({ name: 'empty.png', data: Buffer.alloc(0), contentType: 'image/png' })),
    );
    expect(answer.content).toBe('That file is not a readable image. Please upload a PNG, JPEG, WebP or GIF.');
  });

  it('a real 100-megapixel image is refused before download (command and context menu)', async () => {
    const big = await blackPng(10_000, 10_000);
    const h = await driver.runCommand(driver.users.bob, driver.channels.general, 'ask', {
      image: { name: 'big.png', data: big },
      question: 'how many circles are there',
    });
    const answer = await withoutServerWork(() => reply(h));
    expect(answer.content).toBe(`\`big.png\` is 10000x10000 pixels; the limit is ${MAX_PIXELS} pixels.`);
    const posted = await driver.sendMessage(driver.users.bob, driver.channels.art, {
      content: 'huge',
      attachments: [{ name: 'big.png', data: big }],
    });
    const menu = driver.runContextMenu(driver.users.alice, posted, 'Caption image');
    expect((await withoutServerWork(() => reply(menu))).content).toBe(
      `\`big.png\` is 10000x10000 pixels; the limit is ${MAX_PIXELS} pixels.`,
    );
  });
});

describe('hostile text', () => {
  it('a 6,000-character prompt cannot be sent (the option declares its limit); the longest allowed is refused clearly', async () => {
    await expect(
      driver.runCommand(driver.users.alice, driver.channels.general, 'imagine', { prompt: 'a'.repeat(6000) }),
    ).rejects.toThrow(/prompt: too long/);
    const h = await driver.runCommand(driver.users.alice, driver.channels.general, 'imagine', {
      prompt: `a red circle ${'x'.repeat(987)}`,
    });
    const answer = await withoutServerWork(() => reply(h));
    expect(answer.content).toBe('The prompt is 1000 characters; the limit is 500.');
    expect(driver.interactionOutcome(h).ephemeral).toBe(true);
    // the longest chat message Discord allows
    const said = await driver.sendMessage(driver.users.carol, driver.channels.general, {
      content: `how many circles are there ${'y'.repeat(1940)}`,
      mentionBot: true,
    });
    const chat = await withoutServerWork(() => waitForChatAnswer(driver, said, 15_000));
    expect(chat.content).toMatch(/^The message is \d{4} characters; the limit is 500\.$/);
  });

  it('control characters in a prompt get an image or a clear refusal, and are not echoed raw', async () => {
    const h = await driver.runCommand(driver.users.bob, driver.channels.general, 'imagine', {
      prompt: 'a red\u0000 circle\u0007\u001b[2J\u202e\u0008',
    });
    const end = await waitForJobEnd(driver, h, JOB_MS);
    const refused = /^The server refused this request: .+/.test(end.content);
    expect(isFinishedImage(end) || refused, end.content).toBe(true);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the check
    expect(end.content).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(end.content).toContain('a red circle');
  });

  it('@everyone, @here, role and user mentions are echoed but never ping', async () => {
    const { admin } = driver.world.roles;
    const bob = driver.users.bob.id;
    const text = `@everyone @here <@&${admin.id}> <@${bob}> a red circle`;
    const h = await driver.runCommand(driver.users.alice, driver.channels.general, 'imagine', {
      prompt: text,
    });
    const end = await waitForJobEnd(driver, h, JOB_MS);
    expect(isFinishedImage(end), end.content).toBe(true);
    expect(end.content).toContain('@everyone');
    const ask = await driver.runCommand(driver.users.alice, driver.channels.general, 'ask', {
      image: { name: 'scene.png', data: scene },
      question: `@everyone <@&${admin.id}> how many circles are there`,
    });
    const asked = await reply(ask);
    expect(asked.content).toContain('@everyone');
    const named = await reply(
      await caption({
        name: `@everyone <@&${admin.id}>.txt`,
        data: Buffer.from('x'),
        contentType: 'text/plain',
      }),
    );
    expect(named.content).not.toContain('@everyone');
    for (const m of [end, asked, named]) expectNoPings(driver.message(m.id)!);
  });
});

function expectNoPings(m: APIMessage): void {
  expect({ id: m.id, everyone: m.mention_everyone, users: m.mentions, roles: m.mention_roles }).toEqual({
    id: m.id,
    everyone: false,
    users: [],
    roles: [],
  });
}

describe('after all of that', () => {
  it('the bot still works: /imagine and /caption succeed (and are counted as server work)', async () => {
    const before = await workCalls();
    const h = await driver.runCommand(driver.users.carol, driver.channels.general, 'imagine', {
      prompt: 'a green triangle',
    });
    expect(isFinishedImage(await waitForJobEnd(driver, h, JOB_MS))).toBe(true);
    const c = await reply(await caption({ name: 'scene.png', data: scene }));
    expect(c.content).toMatch(/^\*\*Caption:\*\* \S/);
    expect(await workCalls()).toBe(before + 2); // so "no calls reached the server" above can fail
  });

  it('no bot message pinged anyone, no unknown routes were used, and no errors were logged', () => {
    for (const channel of Object.values(driver.channels)) {
      for (const m of driver.botMessages(channel, { includeEphemeral: true })) expectNoPings(m);
    }
    expect(driver.unknownRoutes()).toEqual([]);
    expect(loggedErrors(bot.logs)).toEqual([]);
  });
});
