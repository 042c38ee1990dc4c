import { errors, fieldError } from '../errors.js';
import type { Router } from '../http/router.js';
import { nextSnowflake } from '../snowflake.js';
import type { CommandRecord } from '../store/types.js';
import type { Services } from './services.js';

type CommandJson = Record<string, unknown> & { name: string; type: number };

const CHAT_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

/** Discord's registration checks that a bot most often trips over (names, descriptions, option count). */
export function validateCommand(raw: unknown, index: number | null): CommandJson {
  const at = (field: string) => (index === null ? [field] : [String(index), field]);
  const cmd = (raw ?? {}) as Record<string, unknown>;
  const type = typeof cmd.type === 'number' ? cmd.type : 1;
  const name = cmd.name;
  if (typeof name !== 'string' || name.length === 0 || name.length > 32) {
    throw errors.invalidFormBody(
      fieldError(at('name'), 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 32 in length.'),
    );
  }
  if (type === 1) {
    if (!CHAT_NAME.test(name) || name !== name.toLowerCase()) {
      throw errors.invalidFormBody(
        fieldError(at('name'), 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid'),
      );
    }
    const d = cmd.description;
    if (typeof d !== 'string' || d.length === 0 || d.length > 100) {
      throw errors.invalidFormBody(
        fieldError(at('description'), 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.'),
      );
    }
  }
  if (Array.isArray(cmd.options) && cmd.options.length > 25) {
    throw errors.invalidFormBody(
      fieldError(at('options'), 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.'),
    );
  }
  return { ...cmd, name, type };
}

export function registerCommandRoutes(router: Router, s: Services): void {
  const { state } = s;
  const payload = (c: CommandRecord) => ({
    description: '',
    options: [],
    default_member_permissions: null,
    nsfw: false,
    name_localizations: null,
    description_localizations: null,
    ...c.data,
    id: c.id,
    application_id: c.applicationId,
    version: c.version,
    ...(c.guildId ? { guild_id: c.guildId } : {}),
  });
  const scope = (guildId: string | null) => [...state.commands.values()].filter((c) => c.guildId === guildId);
  const checkApp = (app: string | undefined) => {
    if (app !== state.applicationId) throw errors.unknownWebhook();
  };
  const checkGuild = (guild: string | undefined) => {
    if (guild !== undefined && !state.guilds.has(guild)) throw errors.unknownGuild();
    return guild ?? null;
  };
  const upsert = (guildId: string | null, data: CommandJson): CommandRecord => {
    const existing = scope(guildId).find((c) => c.data.name === data.name && c.data.type === data.type);
    const rec: CommandRecord = {
      id: existing?.id ?? nextSnowflake(),
      applicationId: state.applicationId,
      guildId,
      version: nextSnowflake(),
      data,
    };
    state.commands.set(rec.id, rec);
    return rec;
  };

  for (const prefix of ['/applications/:app/commands', '/applications/:app/guilds/:guild/commands']) {
    router.add('GET', prefix, ({ params }) => {
      checkApp(params.app);
      return scope(checkGuild(params.guild)).map(payload);
    });
    // Bulk overwrite: the set sent is the whole set; commands left out are deleted.
    router.add('PUT', prefix, async ({ params, body }) => {
      checkApp(params.app);
      const guildId = checkGuild(params.guild);
      const list = (await body()).json;
      if (!Array.isArray(list))
        throw errors.invalidFormBody(fieldError([], 'BASE_TYPE_ARRAY', 'Must be an array.'));
      const valid = list.map((c, i) => validateCommand(c, i));
      const kept = valid.map((c) => upsert(guildId, c));
      for (const c of scope(guildId)) if (!kept.includes(c)) state.commands.delete(c.id);
      s.events.emit('commandsUpdate');
      return kept.map(payload);
    });
    router.add('POST', prefix, async ({ params, body }) => {
      checkApp(params.app);
      const rec = upsert(checkGuild(params.guild), validateCommand((await body()).json, null));
      s.events.emit('commandsUpdate');
      return payload(rec);
    });
    const one = (params: Record<string, string>) => {
      checkApp(params.app);
      const c = state.commands.get(params.command!);
      if (!c || c.guildId !== checkGuild(params.guild)) throw errors.unknownCommand();
      return c;
    };
    router.add('GET', `${prefix}/:command`, ({ params }) => payload(one(params)));
    router.add('PATCH', `${prefix}/:command`, async ({ params, body }) => {
      const c = one(params);
      const patch = ((await body()).json ?? {}) as Record<string, unknown>;
      c.data = validateCommand({ ...c.data, ...patch }, null);
      c.version = nextSnowflake();
      s.events.emit('commandsUpdate');
      return payload(c);
    });
    router.add('DELETE', `${prefix}/:command`, ({ params }) => {
      state.commands.delete(one(params).id);
      s.events.emit('commandsUpdate');
      return null;
    });
  }
}
