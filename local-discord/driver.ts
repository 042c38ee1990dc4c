import type { APIAttachment, APIMessage, APIUser } from 'discord.js';
import type { UserMessageInput } from './actions.js';
import { Intent } from './gateway/protocol.js';
import type { ForcedRateLimit } from './http/ratelimit.js';
import type { OptionValues } from './interactions/options.js';
import { type InteractionKind, type InteractionOutcome, outcomeOf } from './interactions/registry.js';
import { channelPayload, guildPayload, memberPayload, userPayload } from './payloads.js';
import { Perm } from './permissions.js';
import { findReply } from './replies.js';
import { LocalDiscord, type LocalDiscordOptions } from './server.js';
import type { ChannelRecord, GuildRecord, UserRecord } from './store/types.js';
import { waitFor } from './wait.js';
import { createDefaultWorld, type DefaultWorld } from './world.js';

export type { UserMessageInput } from './actions.js';
export type { ForcedRateLimit } from './http/ratelimit.js';
export type { FileInput, OptionValues } from './interactions/options.js';
export type { InteractionOutcome } from './interactions/registry.js';

/** A user, channel, message or guild: its id or anything with an `id`. */
export type Ref = string | { id: string };

/** What a test holds on to after a user triggered an interaction. */
export interface InteractionHandle {
  readonly id: string;
  readonly kind: InteractionKind;
  readonly name: string;
  readonly userId: string;
  readonly channelId: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Extra condition on the candidate message. */
  match?: (m: APIMessage) => boolean;
}

const idOf = (r: Ref): string => (typeof r === 'string' ? r : r.id);
const isImage = (a: APIAttachment) => (a.content_type ?? '').startsWith('image/');

/**
 * Typed test driver for the local Discord: "alice sends this image", "bob runs /imagine",
 * "press Re-roll", "wait until the bot's reply has an image", "what did the bot post".
 */
export class LocalDiscordDriver {
  private constructor(
    readonly server: LocalDiscord,
    readonly world: DefaultWorld,
  ) {}

  /** Starts a server on a free loopback port with the default world (see world.ts). */
  static async start(options: LocalDiscordOptions = {}): Promise<LocalDiscordDriver> {
    const server = new LocalDiscord(options);
    const world = createDefaultWorld(server.state);
    await server.start();
    return new LocalDiscordDriver(server, world);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  get token(): string {
    return this.server.token;
  }
  get restUrl(): string {
    return this.server.restUrl;
  }
  get baseUrl(): string {
    return this.server.baseUrl;
  }
  get events() {
    return this.server.events;
  }
  get bot(): APIUser {
    return userPayload(this.server.state.bot);
  }
  get applicationId(): string {
    return this.server.state.applicationId;
  }
  get guild(): GuildRecord {
    return this.world.guild;
  }
  get channels(): DefaultWorld['channels'] {
    return this.world.channels;
  }
  get users(): DefaultWorld['users'] {
    return this.world.users;
  }

  /** Spread into `new Client({...})`: points discord.js REST (and so the gateway) here. */
  clientOptions(): { rest: { api: string } } {
    return { rest: { api: this.restUrl } };
  }

  // --- world building (dispatches the gateway events a connected bot would get) ---

  createUser(username: string, opts: { guild?: Ref; admin?: boolean; locale?: string } = {}): UserRecord {
    const state = this.server.state;
    const user = state.addUser({ username, ...(opts.locale ? { locale: opts.locale } : {}) });
    const guildId = idOf(opts.guild ?? this.world.guild);
    const roles = opts.admin ? [this.world.roles.admin.id] : [];
    const member = state.addMember(guildId, user.id, roles);
    const added = { ...memberPayload(state, member), guild_id: guildId };
    this.server.services.gateway.dispatch('GUILD_MEMBER_ADD', added, { intent: Intent.GuildMembers });
    return user;
  }

  createChannel(name: string, opts: { guild?: Ref; nsfw?: boolean } = {}): ChannelRecord {
    const c = this.server.state.addTextChannel(idOf(opts.guild ?? this.world.guild), name, {
      nsfw: opts.nsfw ?? false,
    });
    this.server.services.gateway.dispatch('CHANNEL_CREATE', channelPayload(this.server.state, c), {
      intent: Intent.Guilds,
    });
    return c;
  }

  /** A new guild the bot is in; `members` join it as ordinary members. */
  createGuild(name: string, owner: Ref, members: Ref[] = []): GuildRecord {
    const state = this.server.state;
    const g = state.addGuild({ name, ownerId: idOf(owner) });
    for (const m of members) state.addMember(g.id, idOf(m));
    state.addTextChannel(g.id, 'general');
    this.server.services.gateway.dispatch('GUILD_CREATE', guildPayload(state, g.id, true), {
      intent: Intent.Guilds,
    });
    return g;
  }

  /** The DM channel between the bot and a user. */
  dmChannel(user: Ref): ChannelRecord {
    return this.server.state.dmChannel(idOf(user));
  }

  /** Grants or removes Manage Server for a user in the default guild. */
  setAdmin(user: Ref, admin: boolean): void {
    const member = this.server.state.member(this.world.guild.id, idOf(user));
    if (!member) throw new Error('not a member');
    const role = this.world.roles.admin.id;
    member.roleIds = admin
      ? [...new Set([...member.roleIds, role])]
      : member.roleIds.filter((r) => r !== role);
  }

  hasManageGuild(user: Ref): boolean {
    return (this.server.state.permissions(this.world.guild.id, idOf(user)) & Perm.ManageGuild) !== 0n;
  }

  // --- what users do ---

  async sendMessage(
    user: Ref,
    channel: Ref,
    input: Omit<UserMessageInput, 'replyTo'> & { replyTo?: Ref },
  ): Promise<APIMessage> {
    const { replyTo, ...rest } = input;
    const m = await this.server.actions.sendMessage(idOf(user), idOf(channel), {
      ...rest,
      ...(replyTo ? { replyTo: idOf(replyTo) } : {}),
    });
    return this.server.services.messages.payload(m);
  }

  async runCommand(
    user: Ref,
    channel: Ref,
    name: string,
    options: OptionValues = {},
  ): Promise<InteractionHandle> {
    return handle(await this.server.actions.runCommand(idOf(user), idOf(channel), name, options));
  }

  runContextMenu(user: Ref, message: Ref, name: string): InteractionHandle {
    return handle(this.server.actions.runContextMenu(idOf(user), idOf(message), name));
  }

  pressButton(user: Ref, message: Ref, customId: string): InteractionHandle {
    return handle(this.server.actions.pressButton(idOf(user), idOf(message), customId));
  }

  /** Fills and submits the modal that `opener` (an interaction handle, or a message whose button opened it) showed. */
  submitModal(user: Ref, opener: Ref, customId: string, fields: Record<string, string>): InteractionHandle {
    const rec = this.server.actions.submitModal(idOf(user), idOf(opener), fields);
    if (rec.name !== customId) throw new Error(`open modal is ${rec.name}, not ${customId}`);
    return handle(rec);
  }

  // --- what the bot did ---

  message(id: Ref): APIMessage | undefined {
    const m = this.server.state.messages.get(idOf(id));
    return m && !m.deleted ? this.server.services.messages.payload(m) : undefined;
  }

  /** Messages of a channel, oldest first; ephemeral ones only with `includeEphemeral`. */
  messages(channel: Ref, opts: { includeEphemeral?: boolean } = {}): APIMessage[] {
    return this.server.state
      .channelMessages(idOf(channel))
      .filter((m) => opts.includeEphemeral || m.visibleTo === null)
      .map((m) => this.server.services.messages.payload(m));
  }

  botMessages(channel: Ref, opts: { includeEphemeral?: boolean } = {}): APIMessage[] {
    return this.messages(channel, opts).filter((m) => m.author.id === this.bot.id);
  }

  /** Every version of a message, oldest first: creation, then each edit (progress previews). */
  messageHistory(messageId: Ref): APIMessage[] {
    return this.server.services.messages.versions(idOf(messageId));
  }

  interactionOutcome(h: Ref): InteractionOutcome {
    const rec = this.server.services.registry.get(idOf(h));
    if (!rec) throw new Error(`unknown interaction ${idOf(h)}`);
    return outcomeOf(rec);
  }

  /** Waits until the interaction is acknowledged or has failed. */
  waitForOutcome(h: Ref, timeoutMs = 5000): Promise<InteractionOutcome> {
    return this.waitFor(
      () => {
        const o = this.interactionOutcome(h);
        return o.state !== 'pending' && o;
      },
      timeoutMs,
      `outcome of interaction ${idOf(h)}`,
    );
  }

  /** Bytes behind an attachment URL this server handed out. */
  attachmentData(urlOrAttachment: string | APIAttachment): Buffer {
    const url = typeof urlOrAttachment === 'string' ? urlOrAttachment : urlOrAttachment.url;
    const file = this.server.services.attachments.byUrl(url);
    if (!file) throw new Error(`no attachment at ${url}`);
    return file.data;
  }

  registeredCommands(opts: { guild?: Ref } = {}): Record<string, unknown>[] {
    const guildId = opts.guild ? idOf(opts.guild) : null;
    return [...this.server.state.commands.values()]
      .filter((c) => c.guildId === guildId)
      .map((c) => ({ ...c.data, id: c.id }));
  }

  /** How often the bot sent "typing..." to a channel. */
  typingCount(channel: Ref): number {
    return this.server.typingLog.filter((t) => t.channelId === idOf(channel)).length;
  }

  // --- waiting ---

  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
    return waitFor(this.server.events, probe, timeoutMs, what);
  }

  /**
   * The bot's answer. For an interaction: its response message once it is no longer "thinking"
   * (or, for button updates, the edited message); fails at once when the interaction failed.
   * For a message: the first later bot message in the same channel.
   */
  waitForBotReply(target: InteractionHandle | Ref, opts: WaitOptions = {}): Promise<APIMessage> {
    const match = opts.match ?? (() => true);
    return this.waitFor(
      () => findReply(this.server, idOf(target), match),
      opts.timeoutMs ?? 10_000,
      `bot reply to ${idOf(target)}`,
    );
  }

  /** Waits until the bot's reply carries an image; returns it with the image bytes. */
  async waitUntilBotMessageHasImage(
    target: InteractionHandle | Ref,
    opts: WaitOptions = {},
  ): Promise<{ message: APIMessage; attachment: APIAttachment; data: Buffer }> {
    const message = await this.waitForBotReply(target, {
      ...opts,
      match: (m) => m.attachments.some(isImage) && (opts.match?.(m) ?? true),
    });
    const attachment = message.attachments.find(isImage)!;
    return { message, attachment, data: this.attachmentData(attachment) };
  }

  // --- faults and switches ---

  /** Answer 429 to the next `count` matching REST requests (with retry_after and Retry-After). */
  setRateLimit(opts: ForcedRateLimit): void {
    this.server.rateLimiter.force(opts);
  }

  /** Per-bucket limit and window for normal (non-forced) rate limiting. */
  setBucketLimits(limit: number, windowMs: number): void {
    this.server.rateLimiter.config = { limit, windowMs };
  }

  rateLimitedRequests(): { method: string; path: string; at: number }[] {
    return [...this.server.rateLimiter.served];
  }

  dropGatewayConnection(opts: { code?: number; invalidate?: boolean } = {}): number {
    return this.server.services.gateway.drop(opts);
  }

  requestGatewayReconnect(): void {
    this.server.services.gateway.requestReconnect();
  }

  connectedGatewaySessions(): number {
    return this.server.services.gateway.connectedSessions();
  }

  expireInteractionTokens(): void {
    this.server.services.registry.expireTokens();
  }

  unknownRoutes(): { method: string; path: string }[] {
    return this.server.unknownRoutes.map(({ method, path }) => ({ method, path }));
  }
}

function handle(rec: InteractionHandle): InteractionHandle {
  return { id: rec.id, kind: rec.kind, name: rec.name, userId: rec.userId, channelId: rec.channelId };
}
