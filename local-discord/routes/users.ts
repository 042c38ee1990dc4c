import { errors, fieldError } from '../errors.js';
import type { Router } from '../http/router.js';
import { channelPayload, userPayload } from '../payloads.js';
import type { Services } from './services.js';

export function registerUserRoutes(router: Router, s: Services): void {
  const { state } = s;
  const me = () => ({ ...userPayload(state.bot), verified: true, mfa_enabled: false, flags: 0, email: null });
  router.add('GET', '/users/@me', me);
  router.add('GET', '/users/:user', ({ params }) => {
    const u = state.users.get(params.user!);
    if (!u) throw errors.unknownUser();
    return userPayload(u);
  });
  router.add('POST', '/users/@me/channels', async ({ body }) => {
    const json = (await body()).json as { recipient_id?: unknown } | null;
    const id = typeof json?.recipient_id === 'string' ? json.recipient_id : '';
    const user = state.users.get(id);
    if (!user)
      throw errors.invalidFormBody(
        fieldError(['recipient_id'], 'NUMBER_TYPE_COERCE', 'Value is not snowflake.'),
      );
    return channelPayload(state, state.dmChannel(user.id));
  });

  const application = () => ({
    id: state.applicationId,
    name: state.bot.username,
    icon: null,
    description: 'Local Discord application',
    summary: '',
    type: null,
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: '0'.repeat(64),
    flags: 0,
    owner: userPayload([...state.users.values()].find((u) => !u.bot) ?? state.bot),
    team: null,
    bot: userPayload(state.bot),
    approximate_guild_count: state.guilds.size,
    integration_types_config: { '0': {} },
  });
  router.add('GET', '/applications/@me', application);
  router.add('GET', '/oauth2/applications/@me', application);
}
