/**
 * The one error boundary for interactions: dispatch to the command, button or modal handler;
 * a UserError becomes its own message, anything else a generic line plus a full log entry.
 */
import { type Interaction, MessageFlags, type RepliableInteraction } from 'discord.js';
import { messageCommands, slashCommands } from '../commands/index.js';
import type { BotContext } from '../context.js';
import { describeError, isExpectedError } from '../errors.js';
import { handleButton } from './handle-button.js';
import { handleModal } from './handle-modal.js';
import { NO_PINGS } from './views.js';

const slashByName = new Map(slashCommands.map((c) => [c.data.name, c]));
const messageByName = new Map(messageCommands.map((c) => [c.data.name, c]));

export async function routeInteraction(interaction: Interaction, ctx: BotContext): Promise<void> {
  try {
    if (interaction.isChatInputCommand()) {
      const command = slashByName.get(interaction.commandName);
      if (command) await command.execute(interaction, ctx);
    } else if (interaction.isMessageContextMenuCommand()) {
      const command = messageByName.get(interaction.commandName);
      if (command) await command.execute(interaction, ctx);
    } else if (interaction.isButton()) {
      await handleButton(interaction, ctx);
    } else if (interaction.isModalSubmit()) {
      await handleModal(interaction, ctx);
    }
  } catch (err) {
    const context = {
      interactionId: interaction.id,
      userId: interaction.user.id,
      guildId: interaction.guildId,
      kind: interaction.type,
      name: interaction.isCommand() ? interaction.commandName : undefined,
      customId:
        interaction.isMessageComponent() || interaction.isModalSubmit() ? interaction.customId : undefined,
      err,
    };
    if (isExpectedError(err)) ctx.logger.debug('interaction refused', context);
    else ctx.logger.error('interaction failed', context);
    if (interaction.isRepliable()) {
      await replyError(interaction, describeError(err, `i${interaction.id}`)).catch((e) =>
        ctx.logger.warn('could not report an error to the user', { interactionId: interaction.id, err: e }),
      );
    }
  }
}

/** Ephemeral when we have not answered yet; otherwise the (deferred) reply becomes the message. */
async function replyError(interaction: RepliableInteraction, message: string): Promise<void> {
  if (interaction.deferred || interaction.replied) {
    await interaction.editReply({
      content: message,
      components: [],
      attachments: [],
      allowedMentions: NO_PINGS,
    });
  } else {
    await interaction.reply({ content: message, flags: MessageFlags.Ephemeral, allowedMentions: NO_PINGS });
  }
}
