/**
 * Discord-shaped REST errors: `{ code, message, errors? }` with the HTTP status Discord uses,
 * so @discordjs/rest turns them into DiscordAPIError with the same `code` a bot sees in production.
 */
export class DiscordHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: Record<string, unknown>,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return this.errors
      ? { code: this.code, errors: this.errors, message: this.message }
      : { code: this.code, message: this.message };
  }
}

/** `errors` tree for one invalid field, e.g. `content` -> BASE_TYPE_MAX_LENGTH. */
export function fieldError(path: string[], code: string, message: string): Record<string, unknown> {
  let node: Record<string, unknown> = { _errors: [{ code, message }] };
  for (const key of [...path].reverse()) node = { [key]: node };
  return node;
}

export const errors = {
  unauthorized: () => new DiscordHttpError(401, 0, '401: Unauthorized'),
  notFound: () => new DiscordHttpError(404, 0, '404: Not Found'),
  unknownChannel: () => new DiscordHttpError(404, 10003, 'Unknown Channel'),
  unknownGuild: () => new DiscordHttpError(404, 10004, 'Unknown Guild'),
  unknownMember: () => new DiscordHttpError(404, 10007, 'Unknown Member'),
  unknownMessage: () => new DiscordHttpError(404, 10008, 'Unknown Message'),
  unknownUser: () => new DiscordHttpError(404, 10013, 'Unknown User'),
  unknownWebhook: () => new DiscordHttpError(404, 10015, 'Unknown Webhook'),
  unknownCommand: () => new DiscordHttpError(404, 10063, 'Unknown application command'),
  unknownInteraction: () => new DiscordHttpError(404, 10062, 'Unknown interaction'),
  alreadyAcknowledged: () => new DiscordHttpError(400, 40060, 'Interaction has already been acknowledged.'),
  entityTooLarge: () => new DiscordHttpError(413, 40005, 'Request entity too large'),
  emptyMessage: () => new DiscordHttpError(400, 50006, 'Cannot send an empty message'),
  notAuthor: () => new DiscordHttpError(403, 50005, 'Cannot edit a message authored by another user'),
  missingAccess: () => new DiscordHttpError(403, 50001, 'Missing Access'),
  invalidWebhookToken: () => new DiscordHttpError(401, 50027, 'Invalid Webhook Token'),
  invalidJson: () => new DiscordHttpError(400, 50109, 'The request body contains invalid JSON.'),
  invalidFormBody: (errs: Record<string, unknown>) =>
    new DiscordHttpError(400, 50035, 'Invalid Form Body', errs),
};
