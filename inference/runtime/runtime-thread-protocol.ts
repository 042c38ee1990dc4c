/**
 * Messages between the server's main thread and the runtime thread (runtime-thread.ts, runtime-thread-worker.ts):
 * ModelRuntime calls and their job hooks, as structured-clone data. Errors travel as plain fields and are
 * rebuilt as the classes the server maps to gRPC codes (RuntimeError, ModelPackageError).
 */
import {
  type JobContext,
  type ModelDescription,
  type ModelRuntime,
  type ProgressEvent,
  type QueueEvent,
  RuntimeError,
} from './api.js';
import { ModelPackageError } from './errors.js';
import type { LoadOptions } from './package-loader.js';

/** The ModelRuntime methods that run a job. */
type JobMethod = 'caption' | 'ask' | 'generate' | 'edit' | 'chat' | 'blend' | 'encode' | 'decode' | 'reveal';

/**
 * A method's arguments without its JobContext, read off ModelRuntime (api.ts) so that the two cannot drift;
 * reveal takes `keeps` after the context, so it travels last.
 */
type ArgsOf<M extends JobMethod> = Parameters<ModelRuntime[M]> extends [...infer Before, JobContext]
  ? Before
  : Parameters<ModelRuntime[M]> extends [...infer Before, JobContext, (infer After)?]
    ? [...Before, After | undefined]
    : never;

/** One ModelRuntime call as data: the method and its arguments before the JobContext. */
export type ThreadCall = { [M in JobMethod]: { method: M; args: ArgsOf<M> } }[JobMethod];

/** Which of the job's hooks the caller set: the thread reports only those (a preview is pixels to copy). */
export interface HookFlags {
  queue: boolean;
  progress: boolean;
  text: boolean;
}

export type ToThread =
  | {
      type: 'call';
      id: number;
      model: string;
      call: ThreadCall;
      deadline?: number;
      previews?: boolean;
      hooks: HookFlags;
    }
  | { type: 'cancel'; id: number }
  | { type: 'close' };

export type RuntimeStats = ReturnType<ModelRuntime['stats']>;

export interface SerializedError {
  name: string;
  message: string;
  kind?: RuntimeError['kind'];
  file?: string;
}

export type FromThread =
  | { type: 'ready'; models: { description: ModelDescription; stats: RuntimeStats }[] }
  | { type: 'load-failed'; error: SerializedError }
  | { type: 'queue'; id: number; event: QueueEvent }
  | { type: 'progress'; id: number; event: ProgressEvent }
  | { type: 'text'; id: number; delta: string }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'stats'; stats: Record<string, RuntimeStats> }
  | { type: 'closed' };

/** What the thread loads: the models directory and the load options (plain data). */
export interface ThreadData {
  modelsDir: string;
  options: LoadOptions;
  /** How often the thread sends queue statistics when they changed (ms). */
  statsIntervalMs: number;
  /** At most one plain progress event per job per this many ms crosses to the main thread (ProgressGate). */
  progressIntervalMs: number;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof RuntimeError) return { name: err.name, message: err.message, kind: err.kind };
  if (err instanceof ModelPackageError) return { name: err.name, message: err.message, file: err.file };
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message };
}

/** The error the caller would have got in process (same class, kind, file and message). */
export function deserializeError(s: SerializedError): Error {
  let err: Error;
  if (s.kind !== undefined) err = new RuntimeError(s.kind, s.message);
  else if (s.file !== undefined) {
    err = new ModelPackageError(s.file, '');
    err.message = s.message;
  } else {
    err = new Error(s.message);
    err.name = s.name;
  }
  return err;
}

/** The hooks of a job context, as flags. */
export function hookFlags(ctx: JobContext): HookFlags {
  return { queue: !!ctx.onQueue, progress: !!ctx.onProgress, text: !!ctx.onTextDelta };
}
