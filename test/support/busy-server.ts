/**
 * Keeps an inference server busy with long Generate jobs from a second client, so a job the bot
 * sends is queued behind them for a while: long enough to kill the server or drop the gateway
 * "mid-job" even with a model that answers in milliseconds.
 */
import { setMaxListeners } from 'node:events';
import { createInferenceClient } from '../../inference/client/client.js';

export interface BusyLoad {
  /** Jobs this load finished (shows the server really worked). */
  readonly finished: () => number;
  stop(): Promise<void>;
}

export function occupyServer(address: string, opts: { streams?: number; steps?: number } = {}): BusyLoad {
  const client = createInferenceClient({ address });
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per stream
  let finished = 0;
  const loop = async () => {
    while (!abort.signal.aborted) {
      // a signal per call: the client never removes its abort listener
      const call = new AbortController();
      const cancel = () => call.abort();
      abort.signal.addEventListener('abort', cancel, { once: true });
      try {
        const events = client.generate(
          { prompt: 'three blue squares', num_images: 4, steps: opts.steps ?? 20 },
          { signal: call.signal },
        );
        for await (const _ of events) {
          // drain
        }
        finished++;
      } catch {
        // killed server, cancelled: back off briefly and go on until stopped
        if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 100));
      } finally {
        abort.signal.removeEventListener('abort', cancel);
      }
    }
  };
  const loops = Array.from({ length: opts.streams ?? 10 }, loop);
  return {
    finished: () => finished,
    async stop() {
      abort.abort();
      await Promise.allSettled(loops);
      client.close();
    },
  };
}
