import type { Client } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDiscordDriver } from '../../local-discord/driver.js';
import { loginClient } from './helpers.js';

describe('rate limits', () => {
  let driver: LocalDiscordDriver;
  let client: Client;

  beforeAll(async () => {
    driver = await LocalDiscordDriver.start();
    client = await loginClient(driver);
  });
  afterAll(async () => {
    await client.destroy();
    await driver.stop();
  });

  it('sends X-RateLimit-* headers', async () => {
    const res = await fetch(`${driver.restUrl}/v10/users/@me`, {
      headers: { authorization: `Bot ${driver.token}` },
    });
    expect(res.status).toBe(200);
    for (const h of [
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
      'x-ratelimit-reset-after',
      'x-ratelimit-bucket',
    ]) {
      expect(res.headers.get(h)).not.toBeNull();
    }
  });

  it('answers 429 with retry_after when switched on; discord.js waits and retries successfully', async () => {
    driver.setRateLimit({
      count: 2,
      retryAfterMs: 300,
      route: '/channels/:channel/messages',
      method: 'POST',
    });
    const channel = await client.channels.fetch(driver.channels.general.id);
    if (!channel?.isSendable()) throw new Error('not sendable');
    const limited: number[] = [];
    client.rest.on('rateLimited', (info) => limited.push(info.retryAfter));
    const started = Date.now();
    const m = await channel.send('eventually');
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(driver.message(m.id)?.content).toBe('eventually');
    expect(driver.rateLimitedRequests()).toHaveLength(2);
    // retryAfter as discord.js saw it: our 300 ms plus its own safety offset.
    expect(limited).toHaveLength(2);
    for (const ms of limited) expect(ms).toBeGreaterThanOrEqual(300);
  });

  it('returns Discord’s 429 body and Retry-After header', async () => {
    driver.setRateLimit({ count: 1, retryAfterMs: 1500, global: true });
    const res = await fetch(`${driver.restUrl}/v10/users/@me`, {
      headers: { authorization: `Bot ${driver.token}` },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1.500');
    expect(res.headers.get('x-ratelimit-global')).toBe('true');
    expect(await res.json()).toEqual({
      message: 'You are being rate limited.',
      retry_after: 1.5,
      global: true,
      code: 0,
    });
  });

  it('enforces bucket limits that discord.js respects by queueing', async () => {
    driver.setBucketLimits(2, 400);
    const channel = await client.channels.fetch(driver.channels.art.id);
    if (!channel?.isSendable()) throw new Error('not sendable');
    const before = driver.rateLimitedRequests().length;
    const started = Date.now();
    await Promise.all([channel.send('1'), channel.send('2'), channel.send('3'), channel.send('4')]);
    // 4 sends at 2 per 400 ms: discord.js had to wait for at least one window reset, without a 429.
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(driver.rateLimitedRequests().length).toBe(before);
    expect(driver.botMessages(driver.channels.art).map((m) => m.content)).toEqual(['1', '2', '3', '4']);
    driver.setBucketLimits(50, 1000);
  });
});
