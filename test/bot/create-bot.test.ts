import { GatewayIntentBits } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../bot/config.js';
import { createBot } from '../../bot/create-bot.js';
import { JobStore } from '../../bot/store/job-store.js';
import { FakeInference } from './fake-inference.js';

describe('createBot', () => {
  it('builds a client pointed at the configured REST base that never pings', async () => {
    const config = parseConfig({
      DISCORD_TOKEN: 't',
      DISCORD_API_URL: 'http://127.0.0.1:9/api',
      DISCORD_MESSAGE_CONTENT: 'false',
    });
    const store = new JobStore(':memory:');
    const bot = createBot({ config, inference: new FakeInference(), store });
    expect(bot.client.rest.options.api).toBe('http://127.0.0.1:9/api');
    expect(bot.client.options.allowedMentions).toEqual({ parse: [], repliedUser: false });
    expect(bot.client.options.intents.has(GatewayIntentBits.MessageContent)).toBe(false);
    expect(bot.client.options.intents.has(GatewayIntentBits.DirectMessages)).toBe(true);
    expect(bot.context.shutdown.aborted).toBe(false);
    await bot.stop();
    expect(bot.context.shutdown.aborted).toBe(true);
    store.close();
  });
});
