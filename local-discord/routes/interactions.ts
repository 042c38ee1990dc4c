import { sendEmpty, sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import type { Services } from './services.js';

/** Interaction callback and the interaction webhook; authenticated by the interaction token alone. */
export function registerInteractionRoutes(router: Router, s: Services): void {
  const { responder } = s;
  const open = { auth: false };

  router.add(
    'POST',
    '/interactions/:id/:token/callback',
    async ({ params, body, query, res }) => {
      const response = await responder.callback(params.id!, params.token!, await body());
      // discord.js asks for the callback response object with ?with_response=true.
      if (query.get('with_response') === 'true') sendJson(res, 200, response);
      else sendEmpty(res, 204);
      return undefined;
    },
    open,
  );

  const prefix = '/webhooks/:app/:token';
  router.add(
    'POST',
    prefix,
    async ({ params, body }) =>
      responder.followUp(responder.byToken(params.app!, params.token!), await body()),
    open,
  );
  router.add(
    'GET',
    `${prefix}/messages/:message`,
    ({ params }) =>
      s.messages.payload(responder.message(responder.byToken(params.app!, params.token!), params.message!)),
    open,
  );
  router.add(
    'PATCH',
    `${prefix}/messages/:message`,
    async ({ params, body }) =>
      responder.edit(responder.byToken(params.app!, params.token!), params.message!, await body()),
    open,
  );
  router.add(
    'DELETE',
    `${prefix}/messages/:message`,
    ({ params }) => {
      s.messages.delete(responder.message(responder.byToken(params.app!, params.token!), params.message!));
      return null;
    },
    open,
  );
}
