import { EventEmitter } from 'node:events';
import type { APIMessage } from 'discord.js';
import type { InteractionOutcome } from './interactions/registry.js';

/** What the server reports to tests and to the web page. */
export interface LocalDiscordEventMap {
  messageCreate: [message: APIMessage];
  messageUpdate: [message: APIMessage];
  messageDelete: [info: { id: string; channelId: string }];
  interactionCreate: [outcome: InteractionOutcome];
  /** Acknowledged, failed (no answer in time), modal shown... */
  interactionUpdate: [outcome: InteractionOutcome];
  typing: [info: { channelId: string; userId: string; at: number }];
  commandsUpdate: [];
  unknownRoute: [info: { method: string; path: string }];
  gateway: [
    info: { event: 'identify' | 'resume' | 'invalid-session' | 'close' | 'auth-failed'; detail?: string },
  ];
}

export class LocalDiscordEvents extends EventEmitter<LocalDiscordEventMap> {
  constructor() {
    super();
    // Tests and several page clients may listen at once.
    this.setMaxListeners(100);
  }
}
