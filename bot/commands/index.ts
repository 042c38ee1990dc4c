/** Every command the bot registers and handles. Explicit on purpose: no filesystem globbing. */

import * as ask from './ask.js';
import * as askImageMenu from './ask-image-menu.js';
import * as blend from './blend.js';
import * as caption from './caption.js';
import * as captionImageMenu from './caption-image-menu.js';
import * as edit from './edit.js';
import * as editImageMenu from './edit-image-menu.js';
import * as help from './help.js';
import * as imagine from './imagine.js';
import * as reveal from './reveal.js';
import * as settings from './settings.js';
import type { MessageCommand, SlashCommand } from './types.js';

export const slashCommands: readonly SlashCommand[] = [
  imagine,
  caption,
  ask,
  edit,
  blend,
  reveal,
  help,
  settings,
];
export const messageCommands: readonly MessageCommand[] = [captionImageMenu, askImageMenu, editImageMenu];

/** The JSON bodies for PUT /applications/{id}/commands. */
export function commandPayloads(): unknown[] {
  return [...slashCommands.map((c) => ({ type: 1, ...c.data })), ...messageCommands.map((c) => c.data)];
}
