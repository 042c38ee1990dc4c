import type { LocalDiscordEvents } from '../events.js';

export type InteractionKind = 'command' | 'context-menu' | 'button' | 'modal-submit';
export type ResponseKind = 'reply' | 'defer' | 'deferred-update' | 'update' | 'modal';

const RESPONSE_KINDS: Record<number, ResponseKind> = {
  4: 'reply',
  5: 'defer',
  6: 'deferred-update',
  7: 'update',
  9: 'modal',
};

export interface InteractionRecord {
  id: string;
  token: string;
  /** Discord interaction type: 2 application command, 3 component, 5 modal submit. */
  type: 2 | 3 | 5;
  kind: InteractionKind;
  /** Command name, button custom_id or modal custom_id. */
  name: string;
  userId: string;
  channelId: string;
  guildId: string | null;
  createdAt: number;
  tokenExpiresAt: number;
  tokenRevoked: boolean;
  state: 'pending' | 'acknowledged' | 'failed';
  response: ResponseKind | null;
  ackAt: number | null;
  ephemeral: boolean;
  /** Message a component sat on (buttons; modals opened from a button). */
  sourceMessageId: string | null;
  /** What `@original` refers to: the reply, or the source message for updates. */
  originalMessageId: string | null;
  followUpIds: string[];
  modal: Record<string, unknown> | null;
  /** Callbacks that came after the acknowledgement window (each answered 10062). */
  lateCallbacks: number;
  ackTimer: NodeJS.Timeout | null;
}

/** What a test (or the web page) can know about one interaction, as the Discord client would show it. */
export interface InteractionOutcome {
  id: string;
  kind: InteractionKind;
  name: string;
  userId: string;
  channelId: string;
  state: 'pending' | 'acknowledged' | 'failed';
  /** Acknowledged within the window (3 s on Discord). */
  acknowledgedInTime: boolean;
  response: ResponseKind | null;
  deferred: boolean;
  ephemeral: boolean;
  ackLatencyMs: number | null;
  /** "The application did not respond" when the bot missed the window. */
  failureReason: string | null;
  originalMessageId: string | null;
  followUpMessageIds: string[];
  modal: Record<string, unknown> | null;
  lateCallbacks: number;
}

/** Interaction records, their acknowledgement deadlines and token lifetimes. */
export class InteractionRegistry {
  private readonly records = new Map<string, InteractionRecord>();
  private readonly byToken = new Map<string, InteractionRecord>();

  constructor(
    private readonly events: LocalDiscordEvents,
    private readonly ackWindowMs: () => number,
  ) {}

  add(rec: InteractionRecord): void {
    this.records.set(rec.id, rec);
    this.byToken.set(rec.token, rec);
    rec.ackTimer = setTimeout(() => this.expireAck(rec), this.ackWindowMs());
    rec.ackTimer.unref();
    this.events.emit('interactionCreate', outcomeOf(rec));
  }

  get(id: string): InteractionRecord | undefined {
    return this.records.get(id);
  }

  getByToken(token: string): InteractionRecord | undefined {
    return this.byToken.get(token);
  }

  all(): InteractionRecord[] {
    return [...this.records.values()];
  }

  /** True (and the record marked failed) when the acknowledgement window has passed. */
  isTooLate(rec: InteractionRecord, now = Date.now()): boolean {
    if (rec.state === 'failed') return true;
    if (rec.state === 'pending' && now - rec.createdAt > this.ackWindowMs()) {
      this.expireAck(rec);
      return true;
    }
    return false;
  }

  acknowledge(rec: InteractionRecord, responseType: number, ephemeral: boolean): void {
    rec.state = 'acknowledged';
    rec.response = RESPONSE_KINDS[responseType] ?? null;
    rec.ackAt = Date.now();
    rec.ephemeral = ephemeral;
    if (rec.ackTimer) clearTimeout(rec.ackTimer);
    this.changed(rec);
  }

  changed(rec: InteractionRecord): void {
    this.events.emit('interactionUpdate', outcomeOf(rec));
  }

  tokenValid(rec: InteractionRecord, now = Date.now()): boolean {
    return !rec.tokenRevoked && now < rec.tokenExpiresAt;
  }

  /** Test hook: every existing token behaves as if 15 minutes had passed. */
  expireTokens(): void {
    for (const rec of this.records.values()) rec.tokenRevoked = true;
  }

  close(): void {
    for (const rec of this.records.values()) if (rec.ackTimer) clearTimeout(rec.ackTimer);
  }

  private expireAck(rec: InteractionRecord): void {
    if (rec.state !== 'pending') return;
    rec.state = 'failed';
    this.changed(rec);
  }
}

export function outcomeOf(rec: InteractionRecord): InteractionOutcome {
  return {
    id: rec.id,
    kind: rec.kind,
    name: rec.name,
    userId: rec.userId,
    channelId: rec.channelId,
    state: rec.state,
    acknowledgedInTime: rec.state === 'acknowledged',
    response: rec.response,
    deferred: rec.response === 'defer' || rec.response === 'deferred-update',
    ephemeral: rec.ephemeral,
    ackLatencyMs: rec.ackAt === null ? null : rec.ackAt - rec.createdAt,
    failureReason: rec.state === 'failed' ? 'The application did not respond' : null,
    originalMessageId: rec.originalMessageId,
    followUpMessageIds: [...rec.followUpIds],
    modal: rec.modal,
    lateCallbacks: rec.lateCallbacks,
  };
}
