import { Client, GatewayIntentBits, Partials } from 'discord.js';
import type { LocalDiscordDriver } from '../../local-discord/driver.js';

/** The intents our bot uses; Message Content included so tests can read what users typed. */
export const BOT_INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.DirectMessages,
  GatewayIntentBits.MessageContent,
];

/** A real discord.js Client logged in to the local Discord; resolves once READY has been processed. */
export async function loginClient(
  driver: LocalDiscordDriver,
  opts: { intents?: number[]; token?: string } = {},
): Promise<Client> {
  const client = new Client({
    intents: opts.intents ?? BOT_INTENTS,
    partials: [Partials.Channel],
    ...driver.clientOptions(),
  });
  const ready = new Promise<void>((resolve) => client.once('clientReady', () => resolve()));
  await client.login(opts.token ?? driver.token);
  await ready;
  return client;
}

/** Registers commands the way a deploy script does (REST PUT through discord.js). */
export async function registerCommands(client: Client, commands: unknown[]): Promise<void> {
  await client.application!.commands.set(commands as never);
}

/** A small valid PNG (solid colour) made with sharp. */
export async function png(width = 8, height = 6): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 20, b: 20 } } })
    .png()
    .toBuffer();
}
