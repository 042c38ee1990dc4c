/**
 * End to end, load: a burst of many users running /imagine at once through the real discord.js
 * client, real gRPC and the real inference server (a child process with a small queue, so it must
 * refuse some work). Every job ends in an image or a clear "busy / retry" message; none is lost or
 * duplicated; the bot's heap and the server's RSS come back near their baseline.
 *
 * Size: E2E_LOAD_USERS (default 20) users x 3 jobs each, sent at once. Each user may run 1 job and
 * queue 1, so every third job is refused by the bot's per-user limit; the server admits 8 running
 * + 2 queued requests and answers RESOURCE_EXHAUSTED ("busy") beyond that.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { APIMessage } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InteractionHandle, LocalDiscordDriver } from '../../local-discord/driver.js';
import type { ChannelRecord, UserRecord } from '../../local-discord/store/types.js';
import {
  deployCommands,
  type E2EBot,
  isFinishedImage,
  isInProgress,
  startE2EBot,
} from '../support/e2e-bot.js';
import { type InferenceProcess, startInferenceProcess } from '../support/inference-process.js';

const USERS = Number(process.env.E2E_LOAD_USERS ?? 20);
const JOBS_PER_USER = 3;
const MiB = 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let dir: string;
let server: InferenceProcess;
let driver: LocalDiscordDriver;
let bot: E2EBot;
let users: UserRecord[];
let channel: ChannelRecord;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-load-'));
  [server, driver] = await Promise.all([
    startInferenceProcess({ env: { MAX_QUEUE: '2' } }),
    LocalDiscordDriver.start(),
  ]);
  await deployCommands(driver);
  bot = await startE2EBot(driver, {
    address: server.address,
    dbPath: join(dir, 'bot.sqlite'),
    env: { USER_MAX_RUNNING_JOBS: '1', USER_MAX_QUEUED_JOBS: '1', PROGRESS_EDIT_INTERVAL_MS: '500' },
  });
  users = Array.from({ length: USERS }, (_, i) => driver.createUser(`loaduser${i}`));
  channel = driver.createChannel('load');
});

afterAll(async () => {
  await bot?.stop();
  await driver?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Outcome = 'image' | 'busy' | 'limit';

const BUSY = /^The image server is busy\. Please try again in a minute\.$/;
const LIMIT = /^You already have 1 job\(s\) running and 1 waiting, the most allowed\. Try again <t:\d+:R>\.$/;

function classify(m: APIMessage): Outcome | undefined {
  if (isFinishedImage(m)) return 'image';
  if (BUSY.test(m.content)) return 'busy';
  if (LIMIT.test(m.content)) return 'limit';
  return undefined;
}

/** Sends every job at once and waits until each has ended; returns the end message of each. */
async function burst(who: UserRecord[], jobsEach: number, timeoutMs: number) {
  const handles: InteractionHandle[] = await Promise.all(
    who.flatMap((u, i) =>
      Array.from({ length: jobsEach }, (_, j) =>
        driver.runCommand(u, channel, 'imagine', {
          prompt: `a ${['red', 'blue', 'green'][j % 3]} circle ${i}-${j}`,
        }),
      ),
    ),
  );
  const ends = await Promise.all(
    handles.map((h) =>
      driver.waitForBotReply(h, {
        timeoutMs,
        match: (m) => isFinishedImage(m) || (m.attachments.length === 0 && !isInProgress(m)),
      }),
    ),
  );
  return { handles, ends };
}

async function serverGauge(name: string): Promise<number> {
  const text = await server.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && !l.startsWith('#'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe(`a burst of ${USERS} users x ${JOBS_PER_USER} /imagine jobs at once`, { timeout: 300_000 }, () => {
  it('every job ends in an image or a clear busy/retry message, none lost or duplicated; memory returns', async () => {
    // warm-up of the same shape, so lazily grown pools (ONNX arenas, sockets, caches) count as baseline
    await burst(users.slice(0, Math.min(8, USERS)), 2, 120_000);
    await new Promise((r) => setTimeout(r, 1000));
    const baseline = { botHeap: heapUsed(), serverRss: server.rssBytes() };
    const imagesBefore = await serverGauge('ddt_images_generated_total');
    const started = Date.now();

    let serverPeak = 0;
    const sampler = setInterval(() => {
      serverPeak = Math.max(serverPeak, server.rssBytes());
    }, 250);
    const { handles, ends } = await burst(users, JOBS_PER_USER, 150_000).finally(() =>
      clearInterval(sampler),
    );
    const elapsed = Date.now() - started;

    // every job ended in one of the expected ways
    const outcomes = ends.map(classify);
    const unexpected = ends.filter((_, i) => outcomes[i] === undefined).map((m) => m.content);
    expect(unexpected, 'jobs that ended some other way').toEqual([]);
    const count = (o: Outcome) => outcomes.filter((x) => x === o).length;
    const summary = `images ${count('image')}, busy ${count('busy')}, limit ${count('limit')} in ${elapsed} ms`;
    console.info(`[e2e load] ${USERS * JOBS_PER_USER} jobs: ${summary}`);
    // the third job of each user exceeds 1 running + 1 waiting: refused at once, with when to retry
    expect(count('limit'), summary).toBe(USERS);
    expect(count('image'), summary).toBeGreaterThan(0);

    // none lost: every interaction was acknowledged in time and answered exactly once
    for (const h of handles) {
      const o = driver.interactionOutcome(h);
      expect(o.acknowledgedInTime, `${h.id} acknowledged within 3 s`).toBe(true);
      expect(o.followUpMessageIds).toEqual([]);
      expect(o.lateCallbacks).toBe(0);
    }
    // limit refusals are ephemeral; everything else is a message in the channel, one per job
    const limitEphemeral = handles
      .filter((_, i) => outcomes[i] === 'limit')
      .map((h) => driver.interactionOutcome(h));
    expect(limitEphemeral.every((o) => o.ephemeral)).toBe(true);
    const channelMessages = driver.botMessages(channel);
    const warmupMessages = Math.min(8, USERS) * 2;
    expect(channelMessages.length).toBe(warmupMessages + count('image') + count('busy'));
    // none duplicated: distinct job ids, one image each, and the server made exactly the images delivered
    const jobIds = ends.filter(isFinishedImage).map((m) => /job `(\w+)`/.exec(m.content)?.[1]);
    expect(new Set(jobIds).size).toBe(count('image'));
    expect(ends.filter(isFinishedImage).every((m) => m.attachments.length === 1)).toBe(true);
    const imagesMade = (await serverGauge('ddt_images_generated_total')) - imagesBefore;
    expect(imagesMade, 'images the server generated = images users received').toBe(count('image'));
    // nothing stuck: the server's queue and in-flight calls are empty, the bot holds no job slots
    expect(await serverGauge('ddt_queue_depth')).toBe(0);
    expect(await serverGauge('ddt_in_flight_requests')).toBe(0);
    for (const u of users) expect(bot.bot.context.limiter.load(u.id)).toEqual({ running: 0, waiting: 0 });

    // memory back near the baseline
    await new Promise((r) => setTimeout(r, 2000));
    const after = { botHeap: heapUsed(), serverRss: server.rssBytes() };
    const mb = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    const memory =
      `bot heap ${mb(baseline.botHeap)} -> ${mb(after.botHeap)}; ` +
      `server RSS ${mb(baseline.serverRss)} -> peak ${mb(serverPeak)} -> ${mb(after.serverRss)}`;
    console.info(`[e2e load] memory: ${memory}`);
    // The bot's heap also holds the local Discord's copies of every message version and image (same
    // process): allow for those, but not for per-job leaks of requests, streams or images.
    expect(after.botHeap, memory).toBeLessThan(baseline.botHeap + 24 * MiB);
    // ONNX Runtime keeps its arenas, grown to the largest batch already in the warm-up
    expect(after.serverRss, memory).toBeLessThan(baseline.serverRss * 1.1 + 48 * MiB);
  });
});
