import { createHash } from 'node:crypto';

export interface BucketConfig {
  /** Requests per window per bucket and major parameter (Discord: 5 per 5 s for channel messages). */
  limit: number;
  windowMs: number;
}

/** The switch tests flip: answer 429 to the next `count` matching requests. */
export interface ForcedRateLimit {
  count: number;
  retryAfterMs?: number;
  /** Matches the request path (without /api/v10) or the route pattern, e.g. `/channels/:channel/messages`. */
  route?: string | RegExp;
  method?: string;
  global?: boolean;
}

export interface RateLimitDecision {
  headers: Record<string, string>;
  /** Set when this request must be answered 429. */
  limited?: { retryAfterMs: number; global: boolean };
}

interface Window {
  resetAt: number;
  used: number;
}

/**
 * Discord-style rate limiting: X-RateLimit-* headers on every response, real per-bucket counting
 * (so @discordjs/rest's own queueing is exercised), and a switch that forces 429s.
 */
export class RateLimiter {
  private readonly windows = new Map<string, Window>();
  /** Bucket id per "METHOD pattern" (a hash, as Discord's opaque bucket ids are), computed once. */
  private readonly bucketIds = new Map<string, string>();
  private forced: Required<Omit<ForcedRateLimit, 'route' | 'method'>> &
    Pick<ForcedRateLimit, 'route' | 'method'> = {
    count: 0,
    retryAfterMs: 0,
    global: false,
  };
  /** Every 429 served, for tests that must prove the bot was throttled. */
  readonly served: { method: string; path: string; at: number }[] = [];

  constructor(public config: BucketConfig) {}

  force(opts: ForcedRateLimit): void {
    this.forced = { count: opts.count, retryAfterMs: opts.retryAfterMs ?? 250, global: opts.global ?? false };
    if (opts.route !== undefined) this.forced.route = opts.route;
    if (opts.method !== undefined) this.forced.method = opts.method;
  }

  check(
    method: string,
    path: string,
    pattern: string,
    majorParam: string,
    now = Date.now(),
  ): RateLimitDecision {
    const route = `${method} ${pattern}`;
    let bucket = this.bucketIds.get(route);
    if (bucket === undefined) {
      bucket = createHash('sha1').update(route).digest('hex').slice(0, 16);
      this.bucketIds.set(route, bucket);
    }
    const key = `${bucket}:${majorParam}`;
    let w = this.windows.get(key);
    if (!w || now >= w.resetAt) {
      w = { resetAt: now + this.config.windowMs, used: 0 };
      this.windows.set(key, w);
    }
    w.used += 1;
    const resetAfter = Math.max(0, w.resetAt - now) / 1000;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(this.config.limit),
      'x-ratelimit-remaining': String(Math.max(0, this.config.limit - w.used)),
      'x-ratelimit-reset': (w.resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': resetAfter.toFixed(3),
      'x-ratelimit-bucket': bucket,
    };
    if (this.forcedMatches(method, path, pattern)) {
      this.forced.count -= 1;
      return this.limited(headers, this.forced.retryAfterMs, this.forced.global, method, path, now);
    }
    if (w.used > this.config.limit) {
      return this.limited(headers, Math.max(1, w.resetAt - now), false, method, path, now);
    }
    return { headers };
  }

  private forcedMatches(method: string, path: string, pattern: string): boolean {
    const f = this.forced;
    if (f.count <= 0) return false;
    if (f.method && f.method.toUpperCase() !== method) return false;
    if (f.route === undefined) return true;
    if (typeof f.route === 'string') return f.route === pattern || f.route === path;
    return f.route.test(path) || f.route.test(pattern);
  }

  private limited(
    headers: Record<string, string>,
    retryAfterMs: number,
    global: boolean,
    method: string,
    path: string,
    now: number,
  ): RateLimitDecision {
    this.served.push({ method, path, at: now });
    const h: Record<string, string> = {
      ...headers,
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset-after': (retryAfterMs / 1000).toFixed(3),
      'retry-after': (retryAfterMs / 1000).toFixed(3),
      'x-ratelimit-scope': global ? 'global' : 'user',
    };
    if (global) h['x-ratelimit-global'] = 'true';
    return { headers: h, limited: { retryAfterMs, global } };
  }
}
