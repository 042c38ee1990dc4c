/**
 * Starts the local Discord on its own: `npx tsx local-discord/main.ts`. Point a bot at the printed
 * REST URL with the printed token; open the page to act as a user.
 * Settings come from the command line (`--port 3999 --token ...`), not the environment: the
 * project's config module is the only reader of process.env.
 */
import { parseArgs } from 'node:util';
import { LocalDiscordDriver } from './driver.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3999' },
    token: { type: 'string' },
  },
});

const driver = await LocalDiscordDriver.start({
  port: Number(values.port),
  ...(values.token ? { token: values.token } : {}),
  log: (line) => console.warn(line),
});

console.log(`Local Discord page:  ${driver.baseUrl}/`);
console.log(`REST for discord.js: ${driver.restUrl}   (new Client({ rest: { api: '${driver.restUrl}' } }))`);
console.log(`Bot token:           ${driver.token}`);
console.log(
  `Guild ${driver.guild.name}: users ${Object.values(driver.users)
    .map((u) => u.username)
    .join(', ')}`,
);

const stop = async () => {
  await driver.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
