/**
 * `npm run deploy-commands [-- --guild <id>]`: registers the slash and context-menu commands,
 * globally (may take up to an hour to show everywhere) or in one guild (instant, for testing).
 */
import { parseArgs } from 'node:util';
import { REST, Routes } from 'discord.js';
import { commandPayloads } from './commands/index.js';
import { loadConfig } from './config.js';

const { values } = parseArgs({ options: { guild: { type: 'string' } } });
const config = loadConfig();
const rest = new REST({ api: config.discord.apiUrl }).setToken(config.discord.token);
const applicationId =
  config.discord.applicationId ?? ((await rest.get(Routes.currentApplication())) as { id: string }).id;
const route = values.guild
  ? Routes.applicationGuildCommands(applicationId, values.guild)
  : Routes.applicationCommands(applicationId);
const body = commandPayloads();
const result = (await rest.put(route, { body })) as unknown[];
console.log(`registered ${result.length} commands ${values.guild ? `in guild ${values.guild}` : 'globally'}`);
