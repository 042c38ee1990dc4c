/**
 * Runs the bot as several processes with discord.js sharding. The shard count is explicit
 * (SHARD_COUNT): 'auto' would ask the real Discord API, which a local test server may not answer.
 * Each child runs bot/main.ts through tsx; discord.js passes it the shard ids via the environment.
 */
import { fileURLToPath } from 'node:url';
import { ShardingManager } from 'discord.js';
import { loadConfig } from './config.js';
import { createJsonLogger } from './logger.js';

const config = loadConfig();
const logger = createJsonLogger(config.logLevel);
const manager = new ShardingManager(fileURLToPath(new URL('./main.ts', import.meta.url)), {
  token: config.discord.token,
  totalShards: config.discord.shardCount,
  execArgv: ['--import', 'tsx'],
  respawn: true,
});
manager.on('shardCreate', (shard) => logger.info('shard launched', { shard: shard.id }));
// Note: with several shards each one opens its own SQLite connection (WAL mode allows that) and
// keeps its own per-user limits, so a user's cap applies per shard (a user's guilds may span shards).
await manager.spawn({ amount: config.discord.shardCount });
