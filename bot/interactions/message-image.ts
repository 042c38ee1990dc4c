import type { Message } from 'discord.js';
import type { AttachmentInfo } from '../attachments/check-attachment.js';
import { imageMimeType } from '../attachments/check-attachment.js';
import { UserError } from '../errors.js';
import { toAttachmentInfo } from './policy.js';

/** Every image attachment of a message, in order. */
export function messageImages(message: Pick<Message, 'attachments'>): AttachmentInfo[] {
  return [...message.attachments.values()]
    .map(toAttachmentInfo)
    .filter((a) => imageMimeType(a) !== undefined);
}

/**
 * The image a context-menu action works on: the first image attachment, or else the first
 * attachment (so a PDF gets the "not an image" message rather than "no image").
 */
export function pickMessageImage(message: Pick<Message, 'attachments'>): AttachmentInfo {
  const first = messageImages(message)[0] ?? [...message.attachments.values()].map(toAttachmentInfo)[0];
  if (!first) throw new UserError('That message has no image attached.');
  return first;
}
