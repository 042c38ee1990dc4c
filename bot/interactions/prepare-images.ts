/** Attachment inputs of an image job: checked before acknowledging, downloaded after. */
import type { RepliableInteraction } from 'discord.js';
import type { AttachmentInfo } from '../attachments/check-attachment.js';
import type { BotContext } from '../context.js';
import type { ImageData } from '../inference/client.js';
import { precheckAttachments, readImages } from './policy.js';

/** Checks the attachments' metadata now (no download); the returned loader downloads them. */
export function prepareImages(
  ctx: BotContext,
  interaction: RepliableInteraction,
  attachments: AttachmentInfo[],
): () => Promise<ImageData[]> {
  precheckAttachments(ctx, attachments, interaction.attachmentSizeLimit);
  return () => readImages(ctx, attachments, interaction.attachmentSizeLimit);
}
