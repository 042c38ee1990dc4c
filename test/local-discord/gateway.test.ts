import { type Client, Events } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LocalDiscordDriver } from '../../local-discord/driver.js';
import { loginClient } from './helpers.js';

describe('local Discord gateway with the real discord.js client', () => {
  let driver: LocalDiscordDriver;
  let client: Client | undefined;

  beforeEach(async () => {
    driver = await LocalDiscordDriver.start({ limits: { heartbeatIntervalMs: 300 } });
  });
  afterEach(async () => {
    await client?.destroy();
    client = undefined;
    await driver.stop();
  });

  it('logs in: READY, then the guild with its channels, members and roles', async () => {
    client = await loginClient(driver);
    expect(client.user?.id).toBe(driver.bot.id);
    expect(client.application?.id).toBe(driver.applicationId);
    const guild = client.guilds.cache.get(driver.guild.id);
    expect(guild?.name).toBe('Local Guild');
    expect(guild?.channels.cache.get(driver.channels.general.id)?.name).toBe('general');
    const alice = guild?.members.cache.get(driver.users.alice.id);
    expect(alice?.permissions.has('ManageGuild')).toBe(true);
    expect(guild?.members.cache.get(driver.users.bob.id)?.permissions.has('ManageGuild')).toBe(false);
    expect(driver.connectedGatewaySessions()).toBe(1);
  });

  it('keeps the connection alive with heartbeats that are acknowledged', async () => {
    client = await loginClient(driver);
    const before = driver.server.services.gateway.heartbeats;
    await driver.waitFor(
      () => driver.server.services.gateway.heartbeats >= before + 2,
      5000,
      'two heartbeats',
    );
    await driver.waitFor(() => client!.ws.ping >= 0, 5000, 'a measured ping (heartbeat ACK received)');
  });

  it('refuses a wrong token: REST 401 makes login fail', async () => {
    await expect(loginClient(driver, { token: 'not-the-token' })).rejects.toThrow(/token/i);
  });

  it('closes the gateway with 4004 when IDENTIFY carries a wrong token', async () => {
    const ws = new WebSocket(`${driver.server.gatewayUrl}?v=10&encoding=json`);
    const hello = await new Promise<{ op: number; d: { heartbeat_interval: number } }>((resolve) =>
      ws.once('message', (raw) => resolve(JSON.parse(raw.toString()))),
    );
    expect(hello.op).toBe(10);
    expect(hello.d.heartbeat_interval).toBe(300);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ op: 2, d: { token: 'wrong', intents: 0, properties: {} } }));
    expect(await closed).toBe(4004);
  });

  it('resumes after a dropped connection and replays what was missed', async () => {
    client = await loginClient(driver);
    const seen: string[] = [];
    const resumes: string[] = [];
    driver.events.on('gateway', (g) => g.event === 'resume' && resumes.push(g.detail ?? ''));
    client.on(Events.MessageCreate, (m) => {
      seen.push(m.content);
    });
    const resumed = new Promise<void>((resolve) => client!.once(Events.ShardResume, () => resolve()));
    expect(driver.dropGatewayConnection()).toBe(1);
    // Sent while the bot is disconnected: must arrive through the RESUME replay.
    await driver.sendMessage(driver.users.bob, driver.channels.general, { content: 'while you were away' });
    await resumed;
    await driver.sendMessage(driver.users.bob, driver.channels.general, { content: 'after resume' });
    await driver.waitFor(() => seen.length === 2, 5000, 'both messages');
    expect(seen).toEqual(['while you were away', 'after resume']);
    expect(resumes).toHaveLength(1);
    expect(resumes[0]).toMatch(/replayed 1$/);
    expect(driver.connectedGatewaySessions()).toBe(1);
  });

  it('resumes when asked to reconnect (opcode 7)', async () => {
    client = await loginClient(driver);
    const resumed = new Promise<void>((resolve) => client!.once(Events.ShardResume, () => resolve()));
    driver.requestGatewayReconnect();
    await resumed;
    await driver.waitFor(() => driver.connectedGatewaySessions() === 1, 5000, 'a live session');
  });

  it('answers a RESUME of a forgotten session with INVALID_SESSION; discord.js identifies again', async () => {
    client = await loginClient(driver);
    const events: string[] = [];
    driver.events.on('gateway', (g) => events.push(g.event));
    driver.dropGatewayConnection({ invalidate: true });
    await driver.waitFor(() => events.includes('identify'), 10_000, 're-identify');
    expect(events).toContain('invalid-session');
    const got = new Promise<string>((resolve) =>
      client!.once(Events.MessageCreate, (m) => resolve(m.content)),
    );
    await driver.waitFor(() => driver.connectedGatewaySessions() === 1, 5000, 'a live session');
    await driver.sendMessage(driver.users.carol, driver.channels.general, { content: 'still there?' });
    expect(await got).toBe('still there?');
  });
});
