/**
 * The "try it locally" page in a real browser: the inference server on the bundled model (real ONNX
 * sessions, real gRPC), the bot (createBot with the real discord.js client and GrpcInferenceClient)
 * and the local Discord with its web page, driven in headless Chromium through playwright-core.
 *
 * Needs Debian's Chromium at /usr/bin/chromium (`bash scripts/install-browser.sh`). Without it this
 * file FAILS rather than skips, so a CI run cannot pass without having run it.
 * `UPDATE_SCREENSHOTS=1 npx vitest run test/browser` refreshes docs/images/local-page.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REST, Routes } from 'discord.js';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandPayloads } from '../../bot/commands/index.js';
import { parseConfig } from '../../bot/config.js';
import { type Bot, createBot } from '../../bot/create-bot.js';
import { GrpcInferenceClient } from '../../bot/inference/grpc-client.js';
import { JobStore } from '../../bot/store/job-store.js';
import { loadServerConfig } from '../../inference/config.js';
import type { ModelRuntime } from '../../inference/runtime/api.js';
import { loadModels } from '../../inference/runtime/index.js';
import { createLogger } from '../../inference/server/logger.js';
import { type RunningServer, startServer } from '../../inference/server/server.js';
import { LocalDiscordDriver } from '../../local-discord/driver.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const MODELS_DIR = fileURLToPath(new URL('../../models', import.meta.url));
const SCREENSHOT = fileURLToPath(new URL('../../docs/images/local-page.png', import.meta.url));
/** The bundled model runs on 2 shared CPU cores here: generous, but finite. */
const JOB_TIMEOUT_MS = 90_000;

let dir: string;
let models: Map<string, ModelRuntime>;
let server: RunningServer;
let driver: LocalDiscordDriver;
let inference: GrpcInferenceClient;
let store: JobStore;
let bot: Bot;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the browser test needs it. ` +
        'Install it with `bash scripts/install-browser.sh` (Debian: apt-get install chromium).',
    );
  }
  dir = mkdtempSync(join(tmpdir(), 'browser-test-'));

  // The inference server on the bundled model, on a free port.
  const serverConfig = loadServerConfig({
    INFERENCE_LISTEN: '127.0.0.1:0',
    MODELS_DIR,
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '2000',
  });
  models = await loadModels(MODELS_DIR, { executionProvider: 'cpu', maxQueue: 8 });
  server = await startServer({
    config: serverConfig,
    models,
    log: createLogger({ level: 'warn' }), // warnings and errors to stderr
  });
  await server.ready;

  // The local Discord, with the bot's commands registered the way deploy-commands does.
  driver = await LocalDiscordDriver.start();
  const rest = new REST({ api: driver.restUrl }).setToken(driver.token);
  await rest.put(Routes.applicationCommands(driver.applicationId), { body: commandPayloads() });

  // The bot, talking gRPC to the server above.
  const config = parseConfig({
    DISCORD_TOKEN: driver.token,
    DISCORD_API_URL: driver.restUrl,
    DISCORD_APPLICATION_ID: driver.applicationId,
    INFERENCE_ADDRESS: `127.0.0.1:${server.port}`,
    ALLOWED_ATTACHMENT_HOSTS: new URL(driver.baseUrl).hostname,
    BOT_DB_PATH: join(dir, 'bot.sqlite'),
    PROGRESS_EDIT_INTERVAL_MS: '300',
  });
  // As bot/main.ts builds it.
  inference = new GrpcInferenceClient({ ...config.inference, addresses: [...config.inference.addresses] });
  store = new JobStore(config.store.path);
  bot = createBot({ config, inference, store });
  await bot.start();

  // Playwright makes a new, empty profile (user data dir) for each launch.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
  page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // Failed requests are recorded below, with their address.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource'))
      pageErrors.push(`console: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400)
      pageErrors.push(`${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}`);
  });
  page.on('requestfailed', (req) => pageErrors.push(`failed ${req.method()} ${req.url()}`));
  page.setDefaultTimeout(JOB_TIMEOUT_MS);
  await page.goto(`${driver.baseUrl}/`);
});

afterAll(async () => {
  await browser?.close();
  await bot?.stop();
  inference?.close();
  store?.close();
  await driver?.stop();
  await server?.shutdown();
  await Promise.all([...(models?.values() ?? [])].map((m) => m.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The bot's messages on the page. */
const botMessages = (): Locator =>
  page.locator(`[data-testid="message"][data-author="${driver.bot.username}"]`);

/** Every <img> in the locator has finished loading real pixels (the URL served an image). */
async function expectImagesLoaded(images: Locator): Promise<void> {
  await expect
    .poll(
      () =>
        images.evaluateAll((imgs) =>
          (imgs as HTMLImageElement[]).every((i) => i.complete && i.naturalWidth > 0),
        ),
      { timeout: 10_000 },
    )
    .toBe(true);
}

function isScrolledToBottom(): Promise<boolean> {
  return page
    .getByTestId('messages')
    .evaluate(
      (box) =>
        box.scrollHeight > box.clientHeight && box.scrollTop + box.clientHeight >= box.scrollHeight - 2,
    );
}

async function send(text: string): Promise<void> {
  await page.getByTestId('text').fill(text);
  await page.getByTestId('text').press('Enter');
}

describe('local Discord page in headless Chromium', () => {
  it('shows the guild, the channels and the bot online', async () => {
    await expect.poll(() => page.locator('#connection').textContent()).toContain('is online');
    await expect.poll(() => page.getByTestId('channels').textContent()).toContain('general');
    expect(await page.locator('#channel-title').textContent()).toBe('# general');
    // The command box hints at the bot's commands once they are known.
    await page.getByTestId('text').fill('/imag');
    await expect.poll(() => page.locator('#hints').textContent()).toContain('/imagine <prompt>');
    await page.getByTestId('text').fill('');
  });

  it('a mistyped command is reported and the text is kept for fixing', async () => {
    await send('/imagin two red circles');
    await expect.poll(() => page.getByTestId('status').textContent()).toContain('unknown command /imagin');
    expect(await page.getByTestId('status').getAttribute('class')).toBe('failed');
    expect(await page.getByTestId('text').inputValue()).toBe('/imagin two red circles');
    await page.getByTestId('text').fill('');
  });

  it('/imagine two red circles: the bot thinks, then posts an image with buttons', async () => {
    await send('/imagine two red circles');
    const reply = botMessages().filter({ hasText: 'used /imagine' }).last();
    await reply.waitFor();
    const image = reply.getByTestId('image');
    await image.first().waitFor({ timeout: JOB_TIMEOUT_MS });
    await reply.getByRole('button', { name: 'Re-roll' }).waitFor();
    await expectImagesLoaded(reply.getByTestId('image'));
    // The image is the bot's real upload: fetch it and decode it.
    const src = (await image.first().getAttribute('src'))!;
    const png = Buffer.from(await (await fetch(new URL(src, driver.baseUrl))).arrayBuffer());
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(0);
    // The bot's markdown is shown formatted, and its mention of the user as a name.
    expect(await reply.locator('strong').first().textContent()).toBe('two red circles');
    const text = (await reply.getByTestId('content').textContent()) ?? '';
    expect(text).toMatch(/@alice\b/i);
    expect(text).not.toContain('<@');
    expect(text).not.toContain('**');
    // The bot acknowledged in time: no "sent…" or "did not respond" left behind.
    await expect.poll(() => page.getByTestId('status').textContent()).toBe('');
  });

  it('Re-roll posts a second image', async () => {
    const before = await botMessages()
      .filter({ has: page.getByTestId('image') })
      .count();
    const first = botMessages()
      .filter({ has: page.getByRole('button', { name: 'Re-roll' }) })
      .last();
    await first.getByRole('button', { name: 'Re-roll' }).click();
    await expect
      .poll(
        () =>
          botMessages()
            .filter({ has: page.getByTestId('image') })
            .count(),
        {
          timeout: JOB_TIMEOUT_MS,
        },
      )
      .toBe(before + 1);
    const second = botMessages()
      .filter({ has: page.getByTestId('image') })
      .last();
    await second.getByRole('button', { name: 'Re-roll' }).waitFor();
    await expectImagesLoaded(second.getByTestId('image'));
    expect(await page.getByTestId('status').getAttribute('class')).not.toBe('failed');
  });

  it('attach an image with the file picker and /ask about it: the bot answers', async () => {
    const png = await sharp({
      create: { width: 64, height: 64, channels: 3, background: { r: 255, g: 255, b: 255 } },
    })
      .composite([
        {
          input: Buffer.from(
            '<svg width="64" height="64"><circle cx="32" cy="32" r="20" fill="#e01010"/></svg>',
          ),
        },
      ])
      .png()
      .toBuffer();
    await page.getByTestId('file-input').setInputFiles({
      name: 'red-circle.png',
      mimeType: 'image/png',
      buffer: png,
    });
    await expect.poll(() => page.getByTestId('pending-files').textContent()).toContain('red-circle.png');
    await send('/ask what colour is the circle?');
    // The attachment went with the command: the box is empty again.
    await expect.poll(() => page.getByTestId('pending-files').textContent()).toBe('');
    const answer = botMessages().filter({ hasText: 'used /ask' }).last();
    await answer.getByTestId('content').waitFor({ timeout: JOB_TIMEOUT_MS });
    // The question is quoted, then the model's answer follows.
    expect(await answer.locator('.quote').textContent()).toBe('what colour is the circle?');
    const text = (await answer.getByTestId('content').textContent())?.trim() ?? '';
    expect(text.length).toBeGreaterThan(0);
    // An answer from the model, not one of the bot's error messages (those offer to try again).
    expect(text).not.toMatch(/did not respond|try again/i);
    expect(await answer.getByTestId('button').count()).toBe(0);
  });

  it('drop an image, @mention the bot in a message: it replies with an answer', async () => {
    const png = await sharp({
      create: { width: 48, height: 48, channels: 3, background: { r: 20, g: 60, b: 220 } },
    })
      .png()
      .toBuffer();
    // This time the image is dragged onto the page and dropped.
    const dataTransfer = await page.evaluateHandle((base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'blue.png', { type: 'image/png' }));
      return dt;
    }, png.toString('base64'));
    await page.dispatchEvent('#messages', 'dragover', { dataTransfer });
    expect(await page.evaluate(() => document.body.classList.contains('dragging'))).toBe(true);
    await page.dispatchEvent('#messages', 'drop', { dataTransfer });
    expect(await page.evaluate(() => document.body.classList.contains('dragging'))).toBe(false);
    await expect.poll(() => page.getByTestId('pending-files').textContent()).toContain('blue.png');
    await send(`@${driver.bot.username} what is in this picture?`);
    const mine = page.locator('[data-testid="message"][data-author="alice"]').last();
    await mine.getByTestId('image').waitFor();
    await expectImagesLoaded(mine.getByTestId('image'));
    // The mention is shown as a name, not as raw <@id> markup.
    expect(await mine.getByTestId('content').textContent()).toBe(
      `@${driver.bot.username} what is in this picture?`,
    );
    const reply = botMessages().filter({ hasText: '↪ alice' }).last();
    await reply.getByTestId('content').waitFor({ timeout: JOB_TIMEOUT_MS });
    expect(((await reply.getByTestId('content').textContent()) ?? '').trim().length).toBeGreaterThan(0);
    // The list followed the conversation down: the newest message is in view.
    await expect.poll(() => isScrolledToBottom()).toBe(true);
  });

  it('takes a screenshot for the README', async () => {
    const shot = await page.screenshot();
    expect((await sharp(shot).metadata()).width).toBe(1100);
    // Refreshed on request only, so that a test run leaves the working tree as it was.
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(SCREENSHOT)) {
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      writeFileSync(SCREENSHOT, shot);
    }
  });

  it('logged no other errors in the page, and used only routes the local Discord knows', () => {
    // The one 400 is the mistyped command's, which the page reported (tested above).
    expect(pageErrors).toEqual(['400 POST /app/api/commands']);
    expect(driver.unknownRoutes()).toEqual([]);
  });
});
