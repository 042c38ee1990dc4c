import type { APIMessage } from 'discord.js';
import { errors, fieldError } from '../errors.js';
import type { ParsedBody } from '../http/body.js';
import { EPHEMERAL, LOADING, type MessageService, type NewMessage } from '../messages/service.js';
import type { MessageBody } from '../messages/validate.js';
import type { State } from '../store/state.js';
import type { MessageRecord } from '../store/types.js';
import { modalInputIds } from './create.js';
import type { InteractionRecord, InteractionRegistry } from './registry.js';

const MESSAGE_TYPE = { command: 20, 'context-menu': 23, button: 0, 'modal-submit': 0 } as const;

/** Interaction callbacks and the interaction webhook (`@original`, follow-ups), with Discord's errors. */
export class InteractionResponder {
  constructor(
    private readonly state: State,
    private readonly registry: InteractionRegistry,
    private readonly messages: MessageService,
  ) {}

  /** POST /interactions/{id}/{token}/callback. Returns the `with_response` object. */
  async callback(id: string, token: string, body: ParsedBody): Promise<Record<string, unknown>> {
    const rec = this.registry.get(id);
    if (!rec || rec.token !== token) throw errors.unknownInteraction();
    if (this.registry.isTooLate(rec)) {
      rec.lateCallbacks += 1;
      this.registry.changed(rec);
      throw errors.unknownInteraction();
    }
    if (rec.state === 'acknowledged') throw errors.alreadyAcknowledged();
    const json = (body.json ?? {}) as { type?: unknown; data?: unknown };
    const data = (json.data ?? {}) as MessageBody & Record<string, unknown>;
    const flags = typeof data.flags === 'number' ? data.flags : 0;
    const ephemeral = (flags & EPHEMERAL) !== 0;
    const fromMessage = rec.sourceMessageId !== null;
    let message: MessageRecord | null = null;
    switch (json.type) {
      case 4: {
        const fields = await this.messages.fromBody(rec.channelId, data, body.files);
        message = this.createResponse(rec, fields, ephemeral ? EPHEMERAL : 0);
        rec.originalMessageId = message.id;
        break;
      }
      case 5:
        message = this.createResponse(rec, {}, LOADING | (ephemeral ? EPHEMERAL : 0));
        rec.originalMessageId = message.id;
        break;
      case 6:
        if (!fromMessage) throw invalidType();
        rec.originalMessageId = rec.sourceMessageId;
        break;
      case 7: {
        if (!fromMessage) throw invalidType();
        const source = this.messages.get(rec.channelId, rec.sourceMessageId!);
        const fields = await this.messages.fromBody(rec.channelId, data, body.files, source);
        message = this.messages.update(source, fields);
        rec.originalMessageId = source.id;
        break;
      }
      case 9:
        if (rec.kind === 'modal-submit') throw invalidType();
        validateModal(data);
        rec.modal = data;
        break;
      default:
        throw invalidType();
    }
    this.registry.acknowledge(rec, json.type, ephemeral);
    const payload: APIMessage | null = message ? this.messages.payload(message) : null;
    return {
      interaction: {
        id: rec.id,
        type: rec.type,
        response_message_id: rec.originalMessageId,
        response_message_loading: json.type === 5,
        response_message_ephemeral: ephemeral,
      },
      resource: { type: json.type, ...(payload ? { message: payload } : {}) },
    };
  }

  /** The interaction behind a webhook token; 50027 once the token expired (15 min on Discord). */
  byToken(applicationId: string, token: string): InteractionRecord {
    const rec = this.registry.getByToken(token);
    if (!rec || applicationId !== this.state.applicationId || !this.registry.tokenValid(rec)) {
      throw errors.invalidWebhookToken();
    }
    return rec;
  }

  /** `@original` or a follow-up id of this interaction. */
  message(rec: InteractionRecord, messageId: string): MessageRecord {
    const id = messageId === '@original' ? rec.originalMessageId : messageId;
    const own = id !== null && (id === rec.originalMessageId || rec.followUpIds.includes(id));
    if (!own || rec.state !== 'acknowledged') throw errors.unknownMessage();
    return this.messages.get(rec.channelId, id);
  }

  async edit(rec: InteractionRecord, messageId: string, body: ParsedBody): Promise<APIMessage> {
    const m = this.message(rec, messageId);
    const fields = await this.messages.fromBody(
      rec.channelId,
      (body.json ?? {}) as MessageBody,
      body.files,
      m,
    );
    return this.messages.payload(this.messages.update(m, fields));
  }

  /**
   * POST /webhooks/{app}/{token}. After a deferred reply Discord fills the "thinking..." message with
   * the first follow-up instead of posting a new one; we do the same.
   */
  async followUp(rec: InteractionRecord, body: ParsedBody): Promise<APIMessage> {
    if (rec.state !== 'acknowledged') throw errors.unknownWebhook();
    const data = (body.json ?? {}) as MessageBody;
    const original = rec.originalMessageId ? this.state.messages.get(rec.originalMessageId) : undefined;
    if (rec.response === 'defer' && original && !original.deleted && original.flags & LOADING) {
      const fields = await this.messages.fromBody(rec.channelId, data, body.files, original);
      return this.messages.payload(this.messages.update(original, fields));
    }
    const fields = await this.messages.fromBody(rec.channelId, data, body.files);
    const flags = typeof data.flags === 'number' ? data.flags : 0;
    const m = this.createResponse(rec, fields, flags & EPHEMERAL);
    rec.followUpIds.push(m.id);
    this.registry.changed(rec);
    return this.messages.payload(m);
  }

  private createResponse(rec: InteractionRecord, fields: Partial<NewMessage>, flags: number): MessageRecord {
    const ephemeral = (flags & EPHEMERAL) !== 0;
    const { flags: _ignored, ...rest } = fields;
    return this.messages.create({
      ...rest,
      channelId: rec.channelId,
      authorId: this.state.bot.id,
      type: MESSAGE_TYPE[rec.kind],
      flags: flags | ((fields.flags ?? 0) & ~EPHEMERAL & ~LOADING),
      webhookId: this.state.applicationId,
      applicationId: this.state.applicationId,
      interaction: {
        id: rec.id,
        type: rec.type,
        userId: rec.userId,
        ...(rec.type === 2 ? { name: rec.name } : {}),
        ...(rec.sourceMessageId ? { interactedMessageId: rec.sourceMessageId } : {}),
      },
      visibleTo: ephemeral ? rec.userId : null,
    });
  }
}

function invalidType() {
  return errors.invalidFormBody(
    fieldError(['type'], 'BASE_TYPE_CHOICES', 'Value must be one of {4, 5, 6, 7, 9}.'),
  );
}

/** Discord: title up to 45 characters, custom_id up to 100, 1-5 text inputs. */
function validateModal(data: Record<string, unknown>): void {
  if (typeof data.custom_id !== 'string' || data.custom_id.length === 0 || data.custom_id.length > 100) {
    throw errors.invalidFormBody(
      fieldError(['data', 'custom_id'], 'BASE_TYPE_REQUIRED', 'This field is required'),
    );
  }
  if (typeof data.title !== 'string' || data.title.length === 0 || data.title.length > 45) {
    throw errors.invalidFormBody(
      fieldError(['data', 'title'], 'BASE_TYPE_MAX_LENGTH', 'Must be between 1 and 45 in length.'),
    );
  }
  const inputs = modalInputIds(data).length;
  if (inputs < 1 || inputs > 5) {
    throw errors.invalidFormBody(
      fieldError(['data', 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.'),
    );
  }
}
