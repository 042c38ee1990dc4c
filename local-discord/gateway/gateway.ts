import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { LocalDiscordEvents } from '../events.js';
import type { MessageDispatcher } from '../messages/service.js';
import { Close, type GatewayPayload, Intent, Op, stripMessageContent } from './protocol.js';
import { Session } from './sessions.js';

/** What the gateway needs from the rest of the server, resolved at the moment it is needed. */
export interface GatewayWorld {
  token: string;
  heartbeatIntervalMs: () => number;
  /** Intents the application may not use (Discord: privileged ones not enabled in the portal). */
  disallowedIntents: number;
  gatewayUrl: () => string;
  readyPayload: () => Record<string, unknown>;
  guildIds: () => string[];
  guildCreatePayload: (guildId: string) => Record<string, unknown>;
  members: (guildId: string, query: { user_ids?: string[]; query?: string; limit?: number }) => unknown[];
}

interface Connection {
  ws: WebSocket;
  session: Session | null;
}

/**
 * Discord gateway over WebSocket (JSON, no compression): HELLO, IDENTIFY -> READY + GUILD_CREATE,
 * heartbeats, numbered dispatches, RESUME with replay, INVALID_SESSION, and test hooks to drop it.
 */
export class Gateway implements MessageDispatcher {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Map<string, Session>();
  /** Heartbeats received, so tests can see the client keeps the connection alive. */
  heartbeats = 0;

  constructor(
    private readonly world: GatewayWorld,
    private readonly events: LocalDiscordEvents,
  ) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  }

  /** Live sessions (with an open socket). */
  connectedSessions(): number {
    return [...this.sessions.values()].filter((s) => s.ws !== null).length;
  }

  dispatch(t: string, d: unknown, opts: { intent?: number } = {}): void {
    for (const s of this.sessions.values()) {
      if (opts.intent !== undefined && (s.intents & opts.intent) === 0) continue;
      s.push(t, d);
    }
  }

  dispatchMessage(t: string, d: unknown, meta: { isDm: boolean; contentVisible: boolean }): void {
    const intent = meta.isDm ? Intent.DirectMessages : Intent.GuildMessages;
    for (const s of this.sessions.values()) {
      if ((s.intents & intent) === 0) continue;
      const hidden =
        t !== 'MESSAGE_DELETE' && !meta.contentVisible && (s.intents & Intent.MessageContent) === 0;
      s.push(t, hidden ? stripMessageContent(d as Record<string, unknown>) : d);
    }
  }

  /**
   * Test hook: cut every live connection. By default the socket is destroyed without a close frame
   * (what a network drop looks like, close code 1006) and the session stays resumable; `invalidate`
   * forgets the session so the client's RESUME gets INVALID_SESSION and must IDENTIFY again.
   */
  drop(opts: { code?: number; invalidate?: boolean } = {}): number {
    let dropped = 0;
    for (const s of [...this.sessions.values()]) {
      const ws = s.ws;
      if (opts.invalidate) this.sessions.delete(s.id);
      if (!ws) continue;
      s.ws = null;
      dropped += 1;
      if (opts.code) ws.close(opts.code, 'local-discord: dropped by test');
      else ws.terminate();
    }
    return dropped;
  }

  /** Asks clients to reconnect and resume (opcode 7), as Discord does before maintenance. */
  requestReconnect(): void {
    for (const s of this.sessions.values()) s.send({ op: Op.Reconnect, d: null, s: null, t: null });
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.sessions.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const conn: Connection = { ws, session: null };
    const params = new URL(req.url ?? '/', 'http://local').searchParams;
    if ((params.get('encoding') ?? 'json') !== 'json') {
      ws.close(Close.DecodeError, 'Only JSON encoding is supported');
      return;
    }
    if (params.get('v') && params.get('v') !== '10') {
      ws.close(Close.InvalidApiVersion, 'Invalid API version');
      return;
    }
    ws.on('message', (raw, isBinary) => this.onMessage(conn, raw, isBinary));
    ws.on('close', (code) => this.onClose(conn, code));
    ws.on('error', () => {});
    this.send(ws, {
      op: Op.Hello,
      d: { heartbeat_interval: this.world.heartbeatIntervalMs(), _trace: ['local-discord'] },
      s: null,
      t: null,
    });
  }

  private onMessage(conn: Connection, raw: RawData, isBinary: boolean): void {
    let payload: { op?: unknown; d?: unknown };
    try {
      if (isBinary) throw new Error('binary');
      payload = JSON.parse(raw.toString()) as { op?: unknown; d?: unknown };
    } catch {
      conn.ws.close(Close.DecodeError, 'Decode error');
      return;
    }
    const d = (payload.d ?? {}) as Record<string, unknown>;
    switch (payload.op) {
      case Op.Heartbeat:
        this.heartbeats += 1;
        this.send(conn.ws, { op: Op.HeartbeatAck, d: null, s: null, t: null });
        return;
      case Op.Identify:
        this.identify(conn, d);
        return;
      case Op.Resume:
        this.resume(conn, d);
        return;
      case Op.RequestGuildMembers:
        this.requestMembers(conn, d);
        return;
      case Op.PresenceUpdate:
      case Op.VoiceStateUpdate:
        if (!conn.session) conn.ws.close(Close.NotAuthenticated, 'Not authenticated');
        return;
      default:
        conn.ws.close(Close.UnknownOpcode, 'Unknown opcode');
    }
  }

  private checkToken(conn: Connection, token: unknown): boolean {
    const given = typeof token === 'string' ? token.replace(/^Bot\s+/i, '') : '';
    if (given === this.world.token) return true;
    this.events.emit('gateway', { event: 'auth-failed' });
    conn.ws.close(Close.AuthenticationFailed, 'Authentication failed.');
    return false;
  }

  private identify(conn: Connection, d: Record<string, unknown>): void {
    if (conn.session) {
      conn.ws.close(Close.AlreadyAuthenticated, 'Already authenticated.');
      return;
    }
    if (!this.checkToken(conn, d.token)) return;
    const intents = typeof d.intents === 'number' ? d.intents : 0;
    if ((intents & this.world.disallowedIntents) !== 0) {
      conn.ws.close(Close.DisallowedIntents, 'Disallowed intent(s).');
      return;
    }
    const shard: [number, number] = Array.isArray(d.shard)
      ? [Number(d.shard[0]), Number(d.shard[1])]
      : [0, 1];
    const session = new Session(randomBytes(16).toString('hex'), intents, shard);
    session.ws = conn.ws;
    conn.session = session;
    this.sessions.set(session.id, session);
    this.events.emit('gateway', { event: 'identify', detail: session.id });
    const guildIds = this.world.guildIds();
    session.push('READY', {
      ...this.world.readyPayload(),
      guilds: guildIds.map((id) => ({ id, unavailable: true })),
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.world.gatewayUrl(),
      shard: session.shard,
    });
    for (const id of guildIds) session.push('GUILD_CREATE', this.world.guildCreatePayload(id));
  }

  private resume(conn: Connection, d: Record<string, unknown>): void {
    if (!this.checkToken(conn, d.token)) return;
    const session = typeof d.session_id === 'string' ? this.sessions.get(d.session_id) : undefined;
    const missed = session ? session.missedSince(typeof d.seq === 'number' ? d.seq : 0) : null;
    if (!session || !missed) {
      this.events.emit('gateway', { event: 'invalid-session' });
      // d: false = not resumable; discord.js then identifies from scratch.
      this.send(conn.ws, { op: Op.InvalidSession, d: false, s: null, t: null });
      return;
    }
    if (session.ws && session.ws !== conn.ws) session.ws.terminate();
    for (const p of missed) this.send(conn.ws, p);
    session.ws = conn.ws;
    conn.session = session;
    session.push('RESUMED', { _trace: ['local-discord'] });
    this.events.emit('gateway', { event: 'resume', detail: `${session.id} replayed ${missed.length}` });
  }

  private requestMembers(conn: Connection, d: Record<string, unknown>): void {
    if (!conn.session) {
      conn.ws.close(Close.NotAuthenticated, 'Not authenticated');
      return;
    }
    const guildId = String(d.guild_id);
    const members = this.world.members(guildId, d as { user_ids?: string[]; query?: string; limit?: number });
    const chunk = {
      guild_id: guildId,
      members,
      chunk_index: 0,
      chunk_count: 1,
      not_found: [],
      ...(d.nonce ? { nonce: d.nonce } : {}),
    };
    conn.session.push('GUILD_MEMBERS_CHUNK', chunk);
  }

  private onClose(conn: Connection, code: number): void {
    const s = conn.session;
    if (!s || s.ws !== conn.ws) return;
    s.ws = null;
    // A client closing with 1000/1001 ends its session on Discord; anything else may resume.
    if (code === 1000 || code === 1001) this.sessions.delete(s.id);
    this.events.emit('gateway', { event: 'close', detail: String(code) });
  }

  private send(ws: WebSocket, payload: GatewayPayload): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(payload));
  }
}
