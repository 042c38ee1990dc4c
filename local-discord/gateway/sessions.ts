import type { WebSocket } from 'ws';
import type { GatewayPayload } from './protocol.js';

/** Dispatches kept for RESUME; Discord keeps a bounded backlog too. */
const MAX_BACKLOG = 2000;

/** A gateway session outlives its socket so a RESUME can replay what the bot missed. */
export class Session {
  seq = 0;
  private readonly backlog: GatewayPayload[] = [];
  ws: WebSocket | null = null;

  constructor(
    readonly id: string,
    readonly intents: number,
    readonly shard: [number, number],
  ) {}

  /** Numbers the dispatch, keeps it for replay, and sends it if connected. */
  push(t: string, d: unknown): void {
    this.seq += 1;
    const payload: GatewayPayload = { op: 0, d, s: this.seq, t };
    this.backlog.push(payload);
    if (this.backlog.length > MAX_BACKLOG) this.backlog.shift();
    this.send(payload);
  }

  /** What a RESUME with `seq` missed, or null when the backlog no longer reaches that far. */
  missedSince(seq: number): GatewayPayload[] | null {
    const first = this.backlog[0];
    if (first && first.s !== null && first.s > seq + 1) return null;
    return this.backlog.filter((p) => (p.s ?? 0) > seq);
  }

  send(payload: GatewayPayload): void {
    if (this.ws && this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(payload));
  }
}
