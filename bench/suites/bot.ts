/**
 * 5. Bot under a burst: the real bot (bot/create-bot.ts, real gRPC client) against the local Discord server
 * (local-discord/driver.ts, in a child process: bench/lib/local-discord-process.ts) and the real inference
 * server process. Many users run /imagine at once; we measure interaction -> acknowledgement (as the Discord
 * side records it) and job start (the bot's gRPC Generate call) -> first preview posted to Discord.
 */
import { join } from 'node:path';
import { REST, Routes } from 'discord.js';
import { commandPayloads } from '../../bot/commands/index.js';
import { startBotProcess } from '../lib/bot-process.js';
import type { BenchContext } from '../lib/context.js';
import { PROMPTS } from '../lib/inputs.js';
import { startLocalDiscordProcess } from '../lib/local-discord-process.js';
import { now, percentile, round, sleep } from '../lib/stats.js';
import { floor, type SuiteResult } from '../lib/types.js';

export async function botSuite(ctx: BenchContext): Promise<SuiteResult> {
  const t0 = now();
  const server = await ctx.serverProcess();
  const { users: userCount, jobsPerUser, timeoutMs } = ctx.sizes.bot;
  // Discord (server + the driver playing the users) and the bot each on their own event loop, as in
  // production.
  const driver = await startLocalDiscordProcess();
  let bot: Awaited<ReturnType<typeof startBotProcess>> | undefined;
  try {
    const rest = new REST({ api: driver.restUrl }).setToken(driver.token);
    await rest.put(Routes.applicationCommands(driver.applicationId), { body: commandPayloads() });
    bot = await startBotProcess({
      token: driver.token,
      restUrl: driver.restUrl,
      inferenceAddress: server.address,
      dbPath: join(ctx.tempDir('bot'), 'bot.sqlite'),
    });
    const { jobStart, previewEvent } = bot;
    const users = await driver.createUsers(Array.from({ length: userCount }, (_, i) => `bench${i}`));
    await sleep(200); // member events reach the bot
    const total = userCount * jobsPerUser;
    ctx.log(`bot: burst of ${total} /imagine from ${userCount} users`);
    const burstStart = Date.now();
    const handles = await driver.runCommands(
      Array.from({ length: total }, (_, j) => ({
        userId: users[j % userCount]!,
        name: 'imagine',
        options: { prompt: PROMPTS[j % PROMPTS.length]!, seed: j + 1 },
      })),
    );
    // Wait until every interaction is settled, no job stream is open and Discord has been quiet a while.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await driver.status(handles);
      const { active, lastActivity } = bot.activity();
      const last = Math.max(lastActivity, status.lastActivity);
      if (status.pending === 0 && active === 0 && Date.now() - last > 1500) break;
      if (Date.now() > deadline) break;
      await sleep(100);
    }
    const burstMs = Date.now() - burstStart;
    const results = await driver.results(handles);

    const acks: number[] = [];
    const previewLat: number[] = [];
    const previewEventLat: number[] = [];
    const resultLat: number[] = [];
    const outcomes: Record<string, number> = {};
    results.forEach((o, j) => {
      if (o.ackLatencyMs !== null) acks.push(o.ackLatencyMs);
      const start = jobStart.get(String(j + 1));
      let kind: string;
      if (o.state !== 'acknowledged') kind = `interaction ${o.state}`;
      else if (o.finalImageAt !== null) kind = 'image';
      else if (o.ephemeral) kind = 'refused by the bot (ephemeral)';
      else {
        kind = /busy|queue|retry/i.test(o.content) ? 'busy, retry' : `other: ${o.content.slice(0, 60)}`;
      }
      outcomes[kind] = (outcomes[kind] ?? 0) + 1;
      const pe = previewEvent.get(String(j + 1));
      if (start !== undefined && pe !== undefined) previewEventLat.push(pe - start);
      if (start !== undefined) {
        if (o.firstPreviewAt !== null) previewLat.push(o.firstPreviewAt - start);
        if (o.finalImageAt !== null) resultLat.push(o.finalImageAt - start);
      }
    });
    const ackP99 = percentile(acks, 99);
    return {
      suite: 'bot',
      seconds: (now() - t0) / 1000,
      data: {
        users: userCount,
        jobs: total,
        burstMs,
        outcomes,
        ackMs: {
          n: acks.length,
          p50: round(percentile(acks, 50)),
          p95: round(percentile(acks, 95)),
          p99: round(ackP99),
          max: round(Math.max(...acks)),
        },
        jobStartToFirstPreviewMs: {
          n: previewLat.length,
          p50: round(percentile(previewLat, 50)),
          p95: round(percentile(previewLat, 95)),
        },
        jobStartToPreviewEventMs: {
          n: previewEventLat.length,
          p50: round(percentile(previewEventLat, 50)),
          p95: round(percentile(previewEventLat, 95)),
        },
        jobStartToResultMs: {
          n: resultLat.length,
          p50: round(percentile(resultLat, 50)),
          p95: round(percentile(resultLat, 95)),
        },
        progressEditIntervalMs: bot.progressIntervalMs,
      },
      floors: [
        floor(
          'bot.ack.p99',
          `interaction -> acknowledgement p99 under a burst of ${total} /imagine from ${userCount} users`,
          '< 300 ms',
          round(ackP99),
          'ms',
          ackP99 < 300,
          'acknowledgements queue on the bot event loop (discord.js and undici work per interaction) and in the' +
            ' single-threaded local Discord; see "Bot change made from these measurements" in BENCHMARKS.md',
        ),
      ],
      notes: [
        'the bot (bench/lib/bot-child.ts), the local Discord server with the driver playing the users, and the' +
          ' inference server are child processes of their own, as in production',
        'ack latency = interaction created -> callback received, as the local Discord server records it',
        'job start = the bot calls Generate (after its per-user queue); first preview = first message edit with a preview' +
          ' attachment (edits are throttled to one per progressEditIntervalMs and short jobs may finish first);' +
          ' preview event = the first progress event with a preview reaching the bot',
      ],
    };
  } finally {
    await bot?.stop().catch(() => {});
    await driver.stop();
  }
}
