import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserActions } from './actions.js';
import { AttachmentStore } from './attachments.js';
import { DiscordHttpError, errors } from './errors.js';
import { LocalDiscordEvents } from './events.js';
import { Gateway } from './gateway/gateway.js';
import { type ParsedBody, parseBody } from './http/body.js';
import { type BucketConfig, RateLimiter } from './http/ratelimit.js';
import { sendEmpty, sendJson } from './http/respond.js';
import { Router } from './http/router.js';
import { InteractionFactory } from './interactions/create.js';
import { InteractionRegistry } from './interactions/registry.js';
import { InteractionResponder } from './interactions/respond.js';
import { DISCORD_LIMITS, type Limits } from './limits.js';
import { MessageService } from './messages/service.js';
import { guildPayload, memberPayload, userPayload } from './payloads.js';
import { registerChannelRoutes } from './routes/channels.js';
import { registerCommandRoutes } from './routes/commands.js';
import { registerGatewayRoutes } from './routes/gateway-info.js';
import { registerGuildRoutes } from './routes/guilds.js';
import { registerInteractionRoutes } from './routes/interactions.js';
import type { Services } from './routes/services.js';
import { registerUserRoutes } from './routes/users.js';
import { State } from './store/state.js';
import { WebPage } from './web/page.js';

export interface LocalDiscordOptions {
  /** Bot token the gateway and REST accept. */
  token?: string;
  botName?: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  limits?: Partial<Limits>;
  rateLimit?: Partial<BucketConfig>;
  /** Intent bits whose IDENTIFY is refused with 4014 (privileged intents not enabled). */
  disallowedIntents?: number;
  /** Serve the "try it locally" page at `/`. */
  web?: boolean;
  /** Where unknown routes and server errors are reported (default: console.warn). */
  log?: (line: string) => void;
}

export const DEFAULT_TOKEN = 'MTAwMDAwMDAwMDAwMDAwMDAw.local.discord-bot-token';

/** Discord-compatible REST (v10) and gateway on one loopback port, for the real discord.js client. */
export class LocalDiscord {
  readonly token: string;
  readonly limits: Limits;
  readonly state: State;
  readonly events = new LocalDiscordEvents();
  readonly rateLimiter: RateLimiter;
  readonly services: Services;
  readonly actions: UserActions;
  /** Requests no route answered: the gaps a bot found in this fake. */
  readonly unknownRoutes: { method: string; path: string; at: number }[] = [];
  /** Every POST /channels/{c}/typing. */
  readonly typingLog: { channelId: string; userId: string; at: number }[] = [];
  private readonly router = new Router();
  private readonly server: Server;
  private readonly host: string;
  private readonly log: (line: string) => void;
  private readonly web: WebPage | null;

  constructor(private readonly options: LocalDiscordOptions = {}) {
    this.token = options.token ?? DEFAULT_TOKEN;
    this.limits = { ...DISCORD_LIMITS, ...options.limits };
    this.host = options.host ?? '127.0.0.1';
    this.log = options.log ?? ((line) => console.warn(line));
    this.state = new State(options.botName ?? 'LocalBot');
    this.rateLimiter = new RateLimiter({ limit: 50, windowMs: 1000, ...options.rateLimit });
    const baseUrl = () => this.baseUrl;
    const attachments = new AttachmentStore(baseUrl);
    const gateway = new Gateway(
      {
        token: this.token,
        heartbeatIntervalMs: () => this.limits.heartbeatIntervalMs,
        disallowedIntents: options.disallowedIntents ?? 0,
        gatewayUrl: () => this.gatewayUrl,
        readyPayload: () => this.readyPayload(),
        guildIds: () => [...this.state.guilds.keys()].filter((g) => this.state.member(g, this.state.bot.id)),
        guildCreatePayload: (id) => guildPayload(this.state, id, true),
        members: (guildId, q) =>
          this.state
            .guildMembers(guildId)
            .filter((m) => !q.user_ids || q.user_ids.includes(m.userId))
            .filter((m) => !q.query || this.state.users.get(m.userId)?.username.startsWith(q.query))
            .slice(0, q.limit || undefined)
            .map((m) => memberPayload(this.state, m)),
      },
      this.events,
    );
    const messages = new MessageService(this.state, attachments, this.events, gateway, this.limits);
    const registry = new InteractionRegistry(this.events, () => this.limits.ackWindowMs);
    const factory = new InteractionFactory(this.state, this.limits, registry, messages, attachments, gateway);
    const responder = new InteractionResponder(this.state, registry, messages);
    this.services = {
      state: this.state,
      limits: this.limits,
      events: this.events,
      messages,
      attachments,
      gateway,
      registry,
      factory,
      responder,
      baseUrl,
      gatewayUrl: () => this.gatewayUrl,
    };
    this.actions = new UserActions(this.state, this.limits, messages, attachments, factory, registry);
    for (const register of [
      registerGatewayRoutes,
      registerUserRoutes,
      registerCommandRoutes,
      registerChannelRoutes,
      registerGuildRoutes,
      registerInteractionRoutes,
    ]) {
      register(this.router, this.services);
    }
    this.events.on('typing', (t) => this.typingLog.push(t));
    this.web = options.web === false ? null : new WebPage(this);
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://local').pathname.startsWith('/gateway'))
        gateway.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  get baseUrl(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** What discord.js takes as `rest.api`. */
  get restUrl(): string {
    return `${this.baseUrl}/api`;
  }

  get gatewayUrl(): string {
    return `ws://${this.host}:${this.port}/gateway`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.host, () => resolve());
    });
    return this;
  }

  async stop(): Promise<void> {
    this.services.registry.close();
    this.web?.close();
    await this.services.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private readyPayload(): Record<string, unknown> {
    return {
      v: 10,
      user: { ...userPayload(this.state.bot), verified: true, mfa_enabled: false, flags: 0, email: null },
      user_settings: {},
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      application: { id: this.state.applicationId, flags: 0 },
      _trace: ['local-discord'],
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    try {
      if (url.pathname.startsWith('/api/')) return await this.handleApi(req, res, url, method);
      if (method === 'GET' && url.pathname.startsWith('/attachments/')) {
        const file = this.services.attachments.get(url.pathname);
        if (!file) throw errors.notFound();
        res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.data.length });
        res.end(file.data);
        return;
      }
      if (this.web && (await this.web.handle(req, res, url))) return;
      this.reportUnknown(method, url.pathname);
      throw errors.notFound();
    } catch (err) {
      // Unread request bodies must be drained or the keep-alive connection stalls.
      req.resume();
      this.fail(res, err, method, url.pathname);
    }
  }

  private async handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
  ): Promise<void> {
    const path = url.pathname.replace(/^\/api(\/v\d+)?/, '');
    const match = this.router.match(method, path);
    if (!match) {
      this.reportUnknown(method, url.pathname);
      throw errors.notFound();
    }
    const { route, params } = match;
    if (route.auth && req.headers.authorization !== `Bot ${this.token}`) throw errors.unauthorized();
    const major = params.channel ?? params.guild ?? params.token ?? params.app ?? '';
    const decision = this.rateLimiter.check(method, path, route.bucket, major);
    for (const [k, v] of Object.entries(decision.headers)) res.setHeader(k, v);
    if (decision.limited) {
      req.resume();
      const { retryAfterMs, global } = decision.limited;
      sendJson(res, 429, {
        message: 'You are being rate limited.',
        retry_after: retryAfterMs / 1000,
        global,
        code: 0,
      });
      return;
    }
    let parsed: Promise<ParsedBody> | undefined;
    const body = () => {
      parsed ??= parseBody(req, this.limits.maxRequestSize);
      return parsed;
    };
    const result = await route.handler({ req, res, params, query: url.searchParams, body });
    if (!parsed) req.resume();
    if (result === undefined) return;
    if (result === null) sendEmpty(res, 204);
    else sendJson(res, 200, result);
  }

  private reportUnknown(method: string, path: string): void {
    this.unknownRoutes.push({ method, path, at: Date.now() });
    this.events.emit('unknownRoute', { method, path });
    this.log(`[local-discord] no route for ${method} ${path}`);
  }

  private fail(res: ServerResponse, err: unknown, method: string, path: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof DiscordHttpError) {
      // Close the connection when the body was refused so a still-uploading client sees the 413.
      sendJson(res, err.status, err.body(), err.status === 413 ? { connection: 'close' } : {});
      return;
    }
    this.log(
      `[local-discord] ${method} ${path} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    sendJson(res, 500, { message: '500: Internal Server Error', code: 0 });
  }
}
