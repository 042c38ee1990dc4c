import type { AttachmentStore } from '../attachments.js';
import type { LocalDiscordEvents } from '../events.js';
import type { Gateway } from '../gateway/gateway.js';
import type { InteractionFactory } from '../interactions/create.js';
import type { InteractionRegistry } from '../interactions/registry.js';
import type { InteractionResponder } from '../interactions/respond.js';
import type { Limits } from '../limits.js';
import type { MessageService } from '../messages/service.js';
import type { State } from '../store/state.js';

/** What route handlers work with; built once by the server. */
export interface Services {
  state: State;
  limits: Limits;
  events: LocalDiscordEvents;
  messages: MessageService;
  attachments: AttachmentStore;
  gateway: Gateway;
  registry: InteractionRegistry;
  factory: InteractionFactory;
  responder: InteractionResponder;
  baseUrl: () => string;
  gatewayUrl: () => string;
}
