/**
 * End to end, faults: the inference server (a child process) killed in the middle of a job and
 * restarted on the same port; the gateway connection dropped while a job runs; the interaction token
 * expiring before a job ends. Real discord.js client, real gRPC, real ONNX Runtime, bundled model.
 *
 * "Mid-job" is made reliable with a second client that keeps the server busy (busy-server.ts), so
 * the bot's job waits in the server's queue; each test checks it really was unfinished at the fault.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIMessage } from 'discord.js';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type InteractionHandle, LocalDiscordDriver } from '../../local-discord/driver.js';
import { type BusyLoad, occupyServer } from '../support/busy-server.js';
import {
  button,
  buttonsOf,
  deployCommands,
  type E2EBot,
  isFinishedImage,
  isInProgress,
  startE2EBot,
  waitForJobEnd,
} from '../support/e2e-bot.js';
import { type InferenceProcess, startInferenceProcess } from '../support/inference-process.js';

let dir: string;
let server: InferenceProcess;
let driver: LocalDiscordDriver;
let bot: E2EBot;
let busy: BusyLoad | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-faults-'));
  [server, driver] = await Promise.all([startInferenceProcess(), LocalDiscordDriver.start()]);
  await deployCommands(driver);
  bot = await startE2EBot(driver, { address: server.address, dbPath: join(dir, 'bot.sqlite') });
});

afterEach(async () => {
  await busy?.stop();
  busy = undefined;
});

afterAll(async () => {
  await bot?.stop();
  await driver?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The interaction's reply message (once the bot deferred). */
const replyId = (h: InteractionHandle) => driver.interactionOutcome(h).originalMessageId;

/**
 * Calls `fault` synchronously the moment the job's message first shows that the server accepted the
 * job (queued or progress), and returns a promise of that moment.
 */
function onceJobAccepted(
  h: InteractionHandle,
  fault: () => void,
  timeoutMs = 60_000,
): Promise<{ at: number; content: string }> {
  return new Promise((resolve, reject) => {
    const listener = (m: APIMessage) => {
      if (m.id !== replyId(h) || !/⏳ Queued|🎨/.test(m.content)) return;
      done();
      fault();
      resolve({ at: Date.now(), content: m.content });
    };
    const timer = setTimeout(() => {
      done();
      const id = replyId(h);
      const now = id ? driver.message(id)?.content : undefined;
      reject(new Error(`the server never accepted the job; its message says: ${now ?? '(none)'}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      driver.events.off('messageUpdate', listener);
    };
    driver.events.on('messageUpdate', listener);
  });
}

const blankPng = () =>
  sharp({ create: { width: 32, height: 32, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();

/** Every job slot is released (the runner releases it just after its last message edit). */
async function expectNoTicketsHeld(): Promise<void> {
  await vi.waitFor(
    () => {
      for (const u of Object.values(driver.users)) {
        expect(bot.bot.context.limiter.load(u.id), `${u.username} holds no job slots`).toEqual({
          running: 0,
          waiting: 0,
        });
      }
    },
    { timeout: 3000, interval: 50 },
  );
}

describe('the inference server is killed in the middle of a job', { timeout: 180_000 }, () => {
  let killedJob: APIMessage;

  it('tells the user within seconds, with a Try again button; nothing hangs', async () => {
    busy = occupyServer(server.address);
    const h = await driver.runCommand(driver.users.alice, driver.channels.general, 'imagine', {
      prompt: 'a red circle at the center',
    });
    const accepted = onceJobAccepted(h, () => server.child.kill('SIGKILL'));
    const { at: killedAt } = await accepted;
    await server.exited;
    const end = await waitForJobEnd(driver, h, 15_000);
    const toldAfterMs = Date.now() - killedAt;
    expect(isFinishedImage(end), 'the job was still unfinished when the server died').toBe(false);
    expect(end.content).toMatch(/image server is down.*saved, not lost/i);
    expect(end.content).not.toMatch(/Error|at .*\.ts|grpc/); // no stack traces or internals
    expect(buttonsOf(end).map((b) => b.label)).toEqual(['Try again']);
    expect(toldAfterMs).toBeLessThan(10_000);
    killedJob = end;
    await busy.stop();
    busy = undefined;
    await expectNoTicketsHeld();
  });

  it('while it is down, new requests fail fast with the same clear message', async () => {
    const started = Date.now();
    const imagine = await driver.runCommand(driver.users.bob, driver.channels.general, 'imagine', {
      prompt: 'a blue square',
    });
    const caption = await driver.runCommand(driver.users.carol, driver.channels.general, 'caption', {
      image: { name: 'blank.png', data: await blankPng(), contentType: 'image/png' },
    });
    const imagineEnd = await waitForJobEnd(driver, imagine, 15_000);
    const captionEnd = await driver.waitForBotReply(caption, { timeoutMs: 15_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(imagineEnd.content).toMatch(/image server is down/i);
    expect(captionEnd.content).toMatch(/image server is down/i);
    await expectNoTicketsHeld();
  });

  it('after a restart on the same port, the next request succeeds and Try again reruns the saved job', async () => {
    server = await startInferenceProcess({ port: server.port });
    const { message } = await (async () => {
      const h = await driver.runCommand(driver.users.bob, driver.channels.general, 'imagine', {
        prompt: 'a yellow triangle',
      });
      return { message: await waitForJobEnd(driver, h, 60_000) };
    })();
    expect(isFinishedImage(message), message.content).toBe(true);

    const retry = driver.pressButton(driver.users.alice, killedJob, button(killedJob, 'Try again').custom_id);
    const rerun = await waitForJobEnd(driver, retry, 60_000);
    expect(isFinishedImage(rerun), rerun.content).toBe(true);
    expect(rerun.content).toContain('**a red circle at the center**');
    await expectNoTicketsHeld();
  });
});

describe('the gateway connection drops while jobs run', { timeout: 180_000 }, () => {
  it('the bot resumes its session, finishes the job and hears new commands', async () => {
    busy = occupyServer(server.address);
    const h = await driver.runCommand(driver.users.carol, driver.channels.general, 'imagine', {
      prompt: 'two green squares',
    });
    const resumed = new Promise<void>((resolve) =>
      driver.events.on('gateway', (e) => {
        if (e.event === 'resume') resolve();
      }),
    );
    let dropped = 0;
    await onceJobAccepted(h, () => {
      dropped = driver.dropGatewayConnection();
    });
    expect(dropped).toBe(1);
    // a command sent while the bot is disconnected is replayed on RESUME
    const during = await driver.runCommand(driver.users.bob, driver.channels.general, 'help');
    await resumed;
    expect(driver.connectedGatewaySessions()).toBe(1);
    const end = await waitForJobEnd(driver, h, 60_000);
    expect(isFinishedImage(end), end.content).toBe(true);
    expect((await driver.waitForBotReply(during, { timeoutMs: 10_000 })).content).toContain('/imagine');
    await busy.stop();
    busy = undefined;
    const after = await driver.runCommand(driver.users.bob, driver.channels.general, 'imagine', {
      prompt: 'a purple circle',
    });
    expect(isFinishedImage(await waitForJobEnd(driver, after, 60_000))).toBe(true);
  });

  it('an invalidated session identifies again and keeps working', async () => {
    const identified = new Promise<void>((resolve) =>
      driver.events.on('gateway', (e) => {
        if (e.event === 'identify') resolve();
      }),
    );
    expect(driver.dropGatewayConnection({ invalidate: true })).toBe(1);
    await identified;
    await driver.waitFor(() => driver.connectedGatewaySessions() === 1, 10_000, 'gateway session');
    const h = await driver.runCommand(driver.users.alice, driver.channels.general, 'imagine', {
      prompt: 'a blue circle',
    });
    expect(isFinishedImage(await waitForJobEnd(driver, h, 60_000))).toBe(true);
  });
});

describe('the interaction token expires before the job ends', { timeout: 180_000 }, () => {
  it('the result arrives as an ordinary channel message', async () => {
    busy = occupyServer(server.address);
    const before = new Set(driver.botMessages(driver.channels.art).map((m) => m.id));
    const h = await driver.runCommand(driver.users.alice, driver.channels.art, 'imagine', {
      prompt: 'an orange square expiring',
    });
    await onceJobAccepted(h, () => driver.expireInteractionTokens());
    const original = replyId(h)!;
    const posted = await driver.waitFor(
      () =>
        driver
          .botMessages(driver.channels.art)
          .find((m) => !before.has(m.id) && m.id !== original && isFinishedImage(m)),
      60_000,
      'result as a channel message',
    );
    expect(posted.content).toContain('**an orange square expiring**');
    expect(posted.flags ?? 0).toBe(0); // not ephemeral
    // the interaction's own message was left at its last status, not turned into the result
    const stale = driver.message(original)!;
    expect(isFinishedImage(stale)).toBe(false);
    expect(isInProgress(stale)).toBe(true);
    // its buttons work: they carry the job id, not the expired token
    const press = driver.pressButton(driver.users.alice, posted, button(posted, 'Re-roll').custom_id);
    await busy.stop();
    busy = undefined;
    expect(isFinishedImage(await waitForJobEnd(driver, press, 60_000))).toBe(true);
  });

  it('a job that outlives the configured token lifetime moves to the channel before the token dies', async () => {
    // A 1 ms lifetime: every job outlives it, so the bot must not even try the token for updates.
    await bot.stop();
    bot = await startE2EBot(driver, {
      address: server.address,
      dbPath: join(dir, 'bot.sqlite'),
      env: { INTERACTION_TOKEN_LIFETIME_MS: '1' },
    });
    const before = new Set(driver.botMessages(driver.channels.art).map((m) => m.id));
    const h = await driver.runCommand(driver.users.bob, driver.channels.art, 'imagine', {
      prompt: 'a long green triangle job',
    });
    const posted = await driver.waitFor(
      () =>
        driver
          .botMessages(driver.channels.art)
          .find((m) => !before.has(m.id) && m.id !== replyId(h) && isFinishedImage(m)),
      60_000,
      'result as a channel message',
    );
    expect(posted.content).toContain('**a long green triangle job**');
    // the same channel message went from status to result (edited), and the token was never used for it
    expect(driver.messageHistory(posted.id).length).toBeGreaterThan(1);
    expect(driver.interactionOutcome(h)).toMatchObject({ deferred: true, lateCallbacks: 0 });
    expect(bot.logs.some((l) => l.message.includes('token expired'))).toBe(false);
  });
});
