import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseBody } from '../http/body.js';
import { sendJson } from '../http/respond.js';
import type { FileInput } from '../interactions/options.js';
import { outcomeOf } from '../interactions/registry.js';
import { userPayload } from '../payloads.js';
import type { LocalDiscord } from '../server.js';
import { type CommandDef, parseCommandText } from './command-text.js';

const STATIC: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app': ['index.html', 'text/html; charset=utf-8'],
  '/app/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app/render.js': ['render.js', 'text/javascript; charset=utf-8'],
  '/app/app.css': ['app.css', 'text/css; charset=utf-8'],
};

const FORWARDED = [
  'messageCreate',
  'messageUpdate',
  'messageDelete',
  'interactionCreate',
  'interactionUpdate',
  'typing',
  'commandsUpdate',
] as const;

/**
 * The "try it locally" page: a channel view where a person acts as one of the local users. It goes
 * through the same UserActions as the test driver, so what it shows is what the bot really posted.
 */
export class WebPage {
  private readonly streams = new Set<ServerResponse>();
  private readonly keepAlive: NodeJS.Timeout;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly discord: LocalDiscord) {
    for (const name of FORWARDED) {
      const listener = (payload?: unknown) => this.broadcast(name, payload ?? null);
      discord.events.on(name, listener);
      this.unsubscribe.push(() => discord.events.off(name, listener));
    }
    this.keepAlive = setInterval(() => {
      for (const s of this.streams) s.write(': keep-alive\n\n');
    }, 15_000);
    this.keepAlive.unref();
  }

  close(): void {
    clearInterval(this.keepAlive);
    for (const u of this.unsubscribe) u();
    for (const s of this.streams) s.end();
    this.streams.clear();
  }

  /** True when the request was for the page. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET';
    if (url.pathname === '/favicon.ico') {
      // Browsers ask for it; answering keeps the "unknown route" log for real gaps.
      res.writeHead(204);
      res.end();
      return true;
    }
    const file = method === 'GET' ? STATIC[url.pathname] : undefined;
    if (file) {
      const body = await readFile(new URL(file[0], import.meta.url));
      res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' });
      res.end(body);
      return true;
    }
    if (!url.pathname.startsWith('/app/api/')) return false;
    try {
      const result = await this.api(method, url.pathname.slice('/app/api'.length), req, res);
      if (result !== undefined) sendJson(res, 200, result);
    } catch (err) {
      req.resume();
      sendJson(res, 400, { error: err instanceof Error ? err.message : String(err) });
    }
    return true;
  }

  private async api(
    method: string,
    path: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<unknown> {
    const { state, actions, services } = this.discord;
    if (method === 'GET' && path === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(': connected\n\n');
      this.streams.add(res);
      req.on('close', () => this.streams.delete(res));
      return undefined;
    }
    if (method === 'GET' && path === '/state') return this.snapshot();
    if (method !== 'POST') throw new Error(`no ${method} ${path}`);
    const body = await parseBody(req, this.discord.limits.maxRequestSize);
    const input = (body.json ?? {}) as Record<string, string | Record<string, string> | undefined>;
    const user = String(input.user ?? '');
    if (!state.users.has(user) || state.users.get(user)!.bot) throw new Error('pick a user');
    const files: FileInput[] = body.files.map((f) => ({ name: f.filename, data: f.data }));
    switch (path) {
      case '/messages': {
        const m = await actions.sendMessage(user, String(input.channel), {
          content: String(input.content ?? ''),
          attachments: files,
          ...(input.replyTo ? { replyTo: String(input.replyTo) } : {}),
        });
        return services.messages.payload(m);
      }
      case '/commands': {
        const defs = [...state.commands.values()].map((c) => c.data as unknown as CommandDef);
        const { name, options } = parseCommandText(String(input.text ?? ''), defs, files);
        return outcomeOf(await actions.runCommand(user, String(input.channel), name, options));
      }
      case '/dm': {
        const c = state.dmChannel(user);
        return { id: c.id };
      }
      case '/buttons':
        return outcomeOf(actions.pressButton(user, String(input.message), String(input.customId)));
      case '/context-menu':
        return outcomeOf(actions.runContextMenu(user, String(input.message), String(input.name)));
      case '/modals':
        return outcomeOf(
          actions.submitModal(
            user,
            String(input.interaction),
            (input.fields ?? {}) as Record<string, string>,
          ),
        );
      default:
        throw new Error(`no POST ${path}`);
    }
  }

  private snapshot(): Record<string, unknown> {
    const { state, services } = this.discord;
    return {
      bot: userPayload(state.bot),
      users: [...state.users.values()].filter((u) => !u.bot).map(userPayload),
      guilds: [...state.guilds.values()].map((g) => ({ id: g.id, name: g.name })),
      channels: [...state.channels.values()].map((c) => ({
        id: c.id,
        type: c.type,
        guildId: c.guildId,
        name:
          c.type === 1
            ? `@${state.users.get(c.recipientIds.find((r) => r !== state.bot.id) ?? '')?.username}`
            : c.name,
        recipients: c.recipientIds,
      })),
      commands: [...state.commands.values()].map((c) => ({ ...c.data, id: c.id })),
      messages: [...state.messages.values()]
        .filter((m) => !m.deleted)
        .map((m) => services.messages.payload(m)),
      gatewayConnected: services.gateway.connectedSessions() > 0,
    };
  }

  private broadcast(event: string, payload: unknown): void {
    const text = `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const s of this.streams) s.write(text);
  }
}
