/** Loads the server's models, picks the model a request names (or the default one) and checks it can do what is asked. */
import type { ServerConfig } from '../config.js';
import type { ModelDescription, ModelRuntime } from '../runtime/api.js';
import { type LoadOptions, loadModels, loadModelsInThread } from '../runtime/index.js';
import { InputError } from './errors.js';

export type ModelMap = ReadonlyMap<string, ModelRuntime>;

/**
 * The packages as the server serves them: on a runtime thread of its own (RUNTIME_THREAD=1), which sends plain
 * progress across at the rate the server writes it to clients, or in process. `onRuntimeDown`: the runtime
 * thread stopped unexpectedly (ThreadReporting.onDown).
 */
export function loadServerModels(
  config: Pick<ServerConfig, 'modelsDir' | 'runtimeThread' | 'progressIntervalMs'>,
  options: LoadOptions,
  onRuntimeDown?: (err: Error) => void,
): Promise<Map<string, ModelRuntime>> {
  return config.runtimeThread
    ? loadModelsInThread(config.modelsDir, options, {
        progressIntervalMs: config.progressIntervalMs,
        ...(onRuntimeDown ? { onDown: onRuntimeDown } : {}),
      })
    : loadModels(config.modelsDir, options);
}

/** Bounds of SamplingParams.steps. The manifest has them; older runtimes may not expose them. */
export function stepBounds(desc: ModelDescription): { min: number; max: number } {
  const d = desc as ModelDescription & { minSteps?: number; maxSteps?: number };
  return { min: d.minSteps ?? 1, max: d.maxSteps ?? Math.max(50, desc.defaults.steps) };
}

/** The default model: the configured one, else the first loaded. */
export function defaultModelName(models: ModelMap, configured?: string): string {
  if (configured && models.has(configured)) return configured;
  const first = models.keys().next();
  return first.done ? '' : first.value;
}

export function resolveModel(
  models: ModelMap,
  requested: string,
  configuredDefault: string | undefined,
  capability: string,
): { name: string; runtime: ModelRuntime } {
  const name = requested.trim() || defaultModelName(models, configuredDefault);
  const runtime = models.get(name);
  if (!runtime) {
    const available = [...models.keys()].join(', ') || '(none)';
    throw new InputError('not_found', `unknown model '${name}'; available: ${available}`);
  }
  if (!runtime.description.capabilities.includes(capability)) {
    throw new InputError('unimplemented', `model '${name}' cannot ${capability}`);
  }
  return { name, runtime };
}
