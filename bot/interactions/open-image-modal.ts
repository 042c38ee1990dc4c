/** Context menus that need text from the person before they can work on a message's image. */
import type {
  APIModalInteractionResponseCallbackData,
  MessageContextMenuCommandInteraction,
} from 'discord.js';
import { type CustomIdAction, encodeCustomId } from '../components/custom-id.js';
import type { BotContext } from '../context.js';
import type { Feature } from '../settings/guild-settings.js';
import { pickMessageImage } from './message-image.js';
import { guard, precheckAttachments } from './policy.js';

/** Checks the feature and the target image, then opens `modal`; its submit names the message. */
export async function openImageModal(
  ctx: BotContext,
  interaction: MessageContextMenuCommandInteraction,
  feature: Feature,
  action: CustomIdAction,
  modal: (customId: string) => APIModalInteractionResponseCallbackData,
): Promise<void> {
  guard(ctx, interaction, feature);
  // Refuse a non-image before the person types anything.
  precheckAttachments(ctx, [pickMessageImage(interaction.targetMessage)], interaction.attachmentSizeLimit);
  // The modal's custom_id carries the target message id; the submit handler fetches the image from it.
  await interaction.showModal(modal(encodeCustomId({ action, id: interaction.targetId })));
}
