import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../bot/config.js';

describe('parseConfig', () => {
  it('applies defaults and parses lists', () => {
    const c = parseConfig({
      DISCORD_TOKEN: 't',
      INFERENCE_ADDRESS: '10.0.0.1:50051, 10.0.0.2:50051',
      PROMPT_BLOCKLIST: 'a,,b ',
    });
    expect(c.discord.apiUrl).toBe('https://discord.com/api');
    expect(c.inference.addresses).toEqual(['10.0.0.1:50051', '10.0.0.2:50051']);
    expect(c.attachments.allowedHosts).toEqual(['cdn.discordapp.com', 'media.discordapp.net']);
    expect(c.promptBlocklist).toEqual(['a', 'b']);
    expect(c.jobs.interactionTokenLifetimeMs).toBe(15 * 60_000);
    expect(c.discord.shardCount).toBe(1);
    expect(Object.isFrozen(c.limits)).toBe(true);
  });

  it('treats empty values as unset and coerces numbers and booleans', () => {
    const c = parseConfig({
      DISCORD_TOKEN: 't',
      INFERENCE_TOKEN: '',
      SHARD_COUNT: '4',
      INFERENCE_TLS: 'yes',
      DISCORD_API_URL: 'http://127.0.0.1:1/api/',
    });
    expect(c.inference.token).toBeUndefined();
    expect(c.discord.shardCount).toBe(4);
    expect(c.inference.tls).toBe(true);
    expect(c.inference.tlsCaPath).toBeUndefined();
    const ca = parseConfig({ DISCORD_TOKEN: 't', INFERENCE_TLS: '/etc/ca.pem' });
    expect(ca.inference).toMatchObject({ tls: true, tlsCaPath: '/etc/ca.pem' });
    expect(parseConfig({ DISCORD_TOKEN: 't', INFERENCE_TLS: '0' }).inference.tls).toBe(false);
    // the default ('0') is plaintext, not a CA file named "0"
    expect(parseConfig({ DISCORD_TOKEN: 't' }).inference).toMatchObject({ tls: false, tlsCaPath: undefined });
    expect(c.discord.apiUrl).toBe('http://127.0.0.1:1/api');
  });

  it('lists every problem at once', () => {
    let message = '';
    try {
      parseConfig({ SHARD_COUNT: '0', INFERENCE_ADDRESS: 'nohost', DISCORD_APPLICATION_ID: 'abc' });
    } catch (e) {
      message = (e as Error).message;
    }
    for (const key of ['DISCORD_TOKEN', 'INFERENCE_ADDRESS', 'SHARD_COUNT', 'DISCORD_APPLICATION_ID']) {
      expect(message).toContain(key);
    }
  });
});
