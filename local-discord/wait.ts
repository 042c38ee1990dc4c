import type { LocalDiscordEvents } from './events.js';

/** Thrown when a wait runs out; the message says what was awaited. */
export class WaitTimeoutError extends Error {}

/**
 * Resolves with the first truthy value of `probe`, re-checked on every server event (and on a short
 * poll as a fallback); a probe may throw to fail fast (e.g. the interaction failed).
 */
export function waitFor<T>(
  events: LocalDiscordEvents,
  probe: () => T | undefined | null | false,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const names = [
      'messageCreate',
      'messageUpdate',
      'messageDelete',
      'interactionUpdate',
      'interactionCreate',
    ] as const;
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(poll);
      for (const n of names) events.off(n, check);
      fn();
    };
    const check = () => {
      try {
        const v = probe();
        if (v) finish(() => resolve(v));
      } catch (err) {
        finish(() => reject(err));
      }
    };
    const timer = setTimeout(
      () => finish(() => reject(new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`))),
      timeoutMs,
    );
    const poll = setInterval(check, 50);
    for (const n of names) events.on(n, check);
    check();
  });
}
