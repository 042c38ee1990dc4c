import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ParsedBody } from './body.js';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed lazily: only routes that read a body pay for (and get limited by) it. */
  body: () => Promise<ParsedBody>;
}

/** A handler returns a JSON value (200), `null` (204), or writes the response itself and returns `undefined`. */
export type Handler = (ctx: RouteContext) => Promise<unknown> | unknown;

export interface Route {
  method: string;
  /** Pattern like `/channels/:channel/messages/:message`; matched against decoded segments. */
  pattern: string;
  /** Rate-limit bucket template, e.g. `/channels/:channel/messages` (major parameter kept). */
  bucket: string;
  /** False for interaction-token routes, which Discord authenticates by their token. */
  auth: boolean;
  handler: Handler;
  /** The pattern's segments, split once (matching runs on every request). */
  parts: string[];
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

/** Tiny path router. Segments are URL-decoded first: discord.js sends `@original` as `%40original`. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler, opts: { auth?: boolean } = {}): this {
    const parts = pattern.split('/').filter(Boolean);
    this.routes.push({ method, pattern, bucket: pattern, auth: opts.auth ?? true, handler, parts });
    return this;
  }

  match(method: string, path: string): Match | undefined {
    const segments = path.split('/').filter(Boolean).map(safeDecode);
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const parts = route.parts;
      if (parts.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (const [i, part] of parts.entries()) {
        const seg = segments[i]!;
        if (part.startsWith(':')) params[part.slice(1)] = seg;
        else if (part !== seg) {
          ok = false;
          break;
        }
      }
      if (ok) return { route, params };
    }
    return undefined;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
