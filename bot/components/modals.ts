/** Modals (JSON): a single text field each. Modals cannot be deferred, so they open instantly. */
import { type APIModalInteractionResponseCallbackData, ComponentType, TextInputStyle } from 'discord.js';

export const MODAL_TEXT_FIELD = 'text';

export function textModal(
  customId: string,
  title: string,
  label: string,
  placeholder: string,
): APIModalInteractionResponseCallbackData {
  return {
    custom_id: customId,
    title,
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: MODAL_TEXT_FIELD,
            label,
            placeholder,
            style: TextInputStyle.Paragraph,
            min_length: 1,
            max_length: 1000,
            required: true,
          },
        ],
      },
    ],
  };
}

/** The modal that asks for an edit instruction (Edit button, "Edit image…" menu). */
export function editInstructionModal(customId: string): APIModalInteractionResponseCallbackData {
  return textModal(customId, 'Edit this image', 'Instruction', 'Make the square green');
}

/** The modal that asks a question about an image ("Ask about image…" menu). */
export function askQuestionModal(customId: string): APIModalInteractionResponseCallbackData {
  return textModal(customId, 'Ask about this image', 'Question', 'What colour is the circle?');
}
