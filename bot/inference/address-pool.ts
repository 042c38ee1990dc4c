/**
 * Round-robin over inference servers, skipping those whose last health check (or call) failed.
 * When every server looks unhealthy it still hands one out: the call then fails with a clear
 * "unavailable" instead of the bot refusing work on possibly stale health data.
 */
export class AddressPool {
  private readonly healthy: Map<string, boolean>;
  private cursor = 0;

  constructor(readonly addresses: readonly string[]) {
    if (addresses.length === 0) throw new Error('AddressPool needs at least one address');
    this.healthy = new Map(addresses.map((a) => [a, true]));
  }

  /** The next address in rotation, preferring healthy ones; `exclude` skips addresses already tried. */
  next(exclude: ReadonlySet<string> = new Set()): string | undefined {
    const n = this.addresses.length;
    let fallback: string | undefined;
    for (let i = 0; i < n; i++) {
      const address = this.addresses[(this.cursor + i) % n]!;
      if (exclude.has(address)) continue;
      if (this.healthy.get(address)) {
        this.cursor = (this.cursor + i + 1) % n;
        return address;
      }
      fallback ??= address;
    }
    if (fallback !== undefined) this.cursor = (this.addresses.indexOf(fallback) + 1) % n;
    return fallback;
  }

  setHealthy(address: string, healthy: boolean): void {
    if (this.healthy.has(address)) this.healthy.set(address, healthy);
  }

  isHealthy(address: string): boolean {
    return this.healthy.get(address) ?? false;
  }
}

/** "host:port, host2:port" -> ["host:port", "host2:port"]; rejects empty entries. */
export function parseAddresses(value: string): string[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) {
    throw new Error(`invalid address list "${value}": expected host:port[,host:port...]`);
  }
  return [...new Set(parts)];
}
