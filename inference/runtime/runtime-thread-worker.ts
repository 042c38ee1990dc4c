/**
 * The runtime thread (runtime-thread.ts): loads the model packages and runs every ModelRuntime call the main
 * thread sends, with the job's hooks sent back as messages, so that the scheduler, sampling, diffusion
 * updates and their garbage live on this thread's heap and the main thread is left to gRPC.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { JobContext, ModelRuntime } from './api.js';
import { loadModels } from './package-loader.js';
import { ProgressGate } from './progress-gate.js';
import {
  type FromThread,
  type RuntimeStats,
  serializeError,
  type ThreadCall,
  type ThreadData,
  type ToThread,
} from './runtime-thread-protocol.js';

const port = parentPort!;
const data = workerData as ThreadData;
const send = (message: FromThread) => port.postMessage(message);
const running = new Map<number, AbortController>();

function run(runtime: ModelRuntime, call: ThreadCall, ctx: JobContext): Promise<unknown> {
  switch (call.method) {
    case 'caption':
      return runtime.caption(...call.args, ctx);
    case 'ask':
      return runtime.ask(...call.args, ctx);
    case 'generate':
      return runtime.generate(...call.args, ctx);
    case 'edit':
      return runtime.edit(...call.args, ctx);
    case 'chat':
      return runtime.chat(...call.args, ctx);
    case 'blend':
      return runtime.blend(...call.args, ctx);
    case 'encode':
      return runtime.encode(...call.args, ctx);
    case 'decode':
      return runtime.decode(...call.args, ctx);
    case 'reveal': {
      const [tokens, params, keeps] = call.args;
      return runtime.reveal(tokens, params, ctx, keeps);
    }
  }
}

function statsOf(models: Map<string, ModelRuntime>): Record<string, RuntimeStats> {
  return Object.fromEntries([...models].map(([name, r]) => [name, r.stats()]));
}

async function serve(models: Map<string, ModelRuntime>): Promise<void> {
  let lastStats = JSON.stringify(statsOf(models));
  const sendStatsIfChanged = () => {
    const stats = statsOf(models);
    const json = JSON.stringify(stats);
    if (json === lastStats) return;
    lastStats = json;
    send({ type: 'stats', stats });
  };
  const timer = setInterval(sendStatsIfChanged, data.statsIntervalMs);
  port.on('message', (msg: ToThread) => {
    if (msg.type === 'cancel') {
      running.get(msg.id)?.abort();
      return;
    }
    if (msg.type === 'close') {
      clearInterval(timer);
      for (const c of running.values()) c.abort();
      void Promise.allSettled([...models.values()].map((r) => r.close())).then(() => {
        send({ type: 'closed' });
        port.close();
      });
      return;
    }
    const { id, hooks } = msg;
    const runtime = models.get(msg.model);
    if (!runtime) {
      send({ type: 'error', id, error: { name: 'Error', message: `model '${msg.model}' is not loaded` } });
      return;
    }
    const controller = new AbortController();
    running.set(id, controller);
    // plain progress at the server's rate; a held event goes out before anything else of the job
    const progress = new ProgressGate(data.progressIntervalMs, (event) =>
      send({ type: 'progress', id, event }),
    );
    const sendInOrder = (message: FromThread) => {
      progress.release();
      send(message);
    };
    const ctx: JobContext = {
      signal: controller.signal,
      ...(msg.deadline !== undefined ? { deadline: msg.deadline } : {}),
      ...(msg.previews !== undefined ? { previews: msg.previews } : {}),
      ...(hooks.queue ? { onQueue: (event) => sendInOrder({ type: 'queue', id, event }) } : {}),
      ...(hooks.progress ? { onProgress: (event) => progress.offer(event) } : {}),
      ...(hooks.text ? { onTextDelta: (delta) => sendInOrder({ type: 'text', id, delta }) } : {}),
    };
    const job = run(runtime, msg.call, ctx); // queued (or refused) synchronously: the stats now show it
    sendStatsIfChanged();
    // the stats first: a caller that reads stats() once its call settled sees the job gone
    const settled = (message: FromThread) => {
      running.delete(id);
      sendStatsIfChanged();
      sendInOrder(message);
    };
    job.then(
      (value) => settled({ type: 'result', id, value }),
      (err: unknown) => settled({ type: 'error', id, error: serializeError(err) }),
    );
  });
  send({
    type: 'ready',
    models: [...models.values()].map((r) => ({ description: r.description, stats: r.stats() })),
  });
}

try {
  await serve(await loadModels(data.modelsDir, data.options));
} catch (err) {
  send({ type: 'load-failed', error: serializeError(err) });
  port.close();
}
