import type { Router } from '../http/router.js';
import type { Services } from './services.js';

export function registerGatewayRoutes(router: Router, s: Services): void {
  // discord.js has no gateway URL option: it connects to whatever this returns.
  router.add('GET', '/gateway/bot', () => ({
    url: s.gatewayUrl(),
    shards: 1,
    session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
  }));
  router.add('GET', '/gateway', () => ({ url: s.gatewayUrl() }), { auth: false });
}
