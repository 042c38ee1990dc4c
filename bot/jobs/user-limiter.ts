/**
 * Per-user caps on running and waiting jobs. A user over both caps is refused at once with a
 * UserError that says when to retry (a Discord relative timestamp based on recent job durations).
 */
import { UserError } from '../errors.js';

export interface UserLimits {
  maxRunning: number;
  maxQueued: number;
}

export interface Ticket {
  /** Jobs of this user ahead of this one (0 = runs now). */
  readonly waitingBehind: number;
  /** Resolves when the job may run. Rejects if `cancel()` was called first. */
  readonly ready: Promise<void>;
  /** Frees the slot (or the place in line). Safe to call more than once. */
  release(): void;
}

interface UserState {
  running: Map<number, number>; // ticket id -> start time
  waiting: { id: number; start: () => void; fail: (e: Error) => void }[];
}

const DEFAULT_JOB_MS = 20_000;
const HISTORY = 20;

export class UserJobLimiter {
  private readonly users = new Map<string, UserState>();
  private readonly durations: number[] = [];
  private nextId = 1;

  constructor(private readonly now: () => number = Date.now) {}

  /** Reserves a slot or a place in line; throws UserError when both are full. */
  acquire(userId: string, limits: UserLimits): Ticket {
    const state: UserState = this.users.get(userId) ?? { running: new Map(), waiting: [] };
    this.users.set(userId, state);
    const id = this.nextId++;
    if (state.running.size < limits.maxRunning) {
      state.running.set(id, this.now());
      return this.ticket(userId, id, 0, Promise.resolve());
    }
    if (state.waiting.length >= limits.maxQueued) {
      throw new UserError(
        `You already have ${state.running.size} job(s) running and ${state.waiting.length} waiting, the most allowed. ` +
          `Try again <t:${Math.ceil(this.estimateFreeAt(state) / 1000)}:R>.`,
      );
    }
    const waitingBehind = state.waiting.length + 1;
    const ready = new Promise<void>((start, fail) => {
      state.waiting.push({ id, start, fail });
    });
    ready.catch(() => {}); // a cancelled wait is not an unhandled rejection
    return this.ticket(userId, id, waitingBehind, ready);
  }

  /** Jobs running + waiting for a user (for tests and status). */
  load(userId: string): { running: number; waiting: number } {
    const s = this.users.get(userId);
    return { running: s?.running.size ?? 0, waiting: s?.waiting.length ?? 0 };
  }

  /** Average duration of recent jobs, used for "try again in ..." estimates. */
  averageJobMs(): number {
    if (this.durations.length === 0) return DEFAULT_JOB_MS;
    return this.durations.reduce((a, b) => a + b, 0) / this.durations.length;
  }

  private estimateFreeAt(state: UserState): number {
    const oldestStart = Math.min(...state.running.values());
    return Math.max(this.now() + 1000, oldestStart + this.averageJobMs());
  }

  private ticket(userId: string, id: number, waitingBehind: number, ready: Promise<void>): Ticket {
    let released = false;
    return {
      waitingBehind,
      ready,
      release: () => {
        if (released) return;
        released = true;
        this.release(userId, id);
      },
    };
  }

  private release(userId: string, id: number): void {
    const state = this.users.get(userId);
    if (!state) return;
    const started = state.running.get(id);
    if (started !== undefined) {
      state.running.delete(id);
      this.durations.push(this.now() - started);
      if (this.durations.length > HISTORY) this.durations.shift();
      const next = state.waiting.shift();
      if (next) {
        state.running.set(next.id, this.now());
        next.start();
      }
    } else {
      const i = state.waiting.findIndex((w) => w.id === id);
      if (i >= 0) state.waiting.splice(i, 1)[0]!.fail(new Error('cancelled while waiting'));
    }
    if (state.running.size === 0 && state.waiting.length === 0) this.users.delete(userId);
  }
}
