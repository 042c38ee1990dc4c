import { errors, fieldError } from '../errors.js';
import type { Limits } from '../limits.js';

/** Message body fields the REST routes accept (create and edit share them). */
export interface MessageBody {
  content?: unknown;
  embeds?: unknown;
  components?: unknown;
  flags?: unknown;
  tts?: unknown;
  allowed_mentions?: unknown;
  message_reference?: unknown;
  attachments?: unknown;
  nonce?: unknown;
}

const MAX_LENGTH = 'BASE_TYPE_MAX_LENGTH';

/** Checks Discord's documented limits and throws the same 50035 shapes Discord returns. */
export function validateMessageBody(body: MessageBody, limits: Limits): void {
  if (body.content !== undefined && body.content !== null) {
    if (typeof body.content !== 'string') {
      throw errors.invalidFormBody(fieldError(['content'], 'BASE_TYPE_STRING', 'Must be a string.'));
    }
    if ([...body.content].length > limits.maxContentLength) {
      throw errors.invalidFormBody(
        fieldError(['content'], MAX_LENGTH, `Must be ${limits.maxContentLength} or fewer in length.`),
      );
    }
  }
  if (Array.isArray(body.embeds) && body.embeds.length > 10) {
    throw errors.invalidFormBody(fieldError(['embeds'], MAX_LENGTH, 'Must be 10 or fewer in length.'));
  }
  if (body.components !== undefined && body.components !== null) validateComponents(body.components);
}

export function validateAttachmentCount(count: number, limits: Limits): void {
  if (count > limits.maxAttachments) {
    throw errors.invalidFormBody(
      fieldError(['attachments'], MAX_LENGTH, `Must be ${limits.maxAttachments} or fewer in length.`),
    );
  }
}

/** Action rows: at most 5 rows of 5 buttons; custom_id at most 100 characters and unique. */
function validateComponents(components: unknown): void {
  if (!Array.isArray(components)) {
    throw errors.invalidFormBody(fieldError(['components'], 'BASE_TYPE_ARRAY', 'Must be an array.'));
  }
  if (components.length > 5) {
    throw errors.invalidFormBody(fieldError(['components'], MAX_LENGTH, 'Must be 5 or fewer in length.'));
  }
  const seen = new Set<string>();
  for (const [r, row] of components.entries()) {
    const children = (row as { components?: unknown }).components;
    if (!Array.isArray(children)) continue;
    if (children.length > 5) {
      throw errors.invalidFormBody(
        fieldError(['components', String(r), 'components'], MAX_LENGTH, 'Must be 5 or fewer in length.'),
      );
    }
    for (const [c, child] of children.entries()) {
      const customId = (child as { custom_id?: unknown }).custom_id;
      if (typeof customId !== 'string') continue;
      const path = ['components', String(r), 'components', String(c), 'custom_id'];
      if (customId.length > 100)
        throw errors.invalidFormBody(fieldError(path, MAX_LENGTH, 'Must be 100 or fewer in length.'));
      if (seen.has(customId)) {
        throw errors.invalidFormBody(
          fieldError(path, 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated'),
        );
      }
      seen.add(customId);
    }
  }
}
