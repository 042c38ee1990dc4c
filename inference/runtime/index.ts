/** Model runtime: load packages and serve them through the ModelRuntime interface (api.ts). */
export * from './api.js';
export type { BatchCounters } from './batched-model.js';
export { DdtRuntime } from './ddt-runtime.js';
export { ModelPackageError } from './errors.js';
export { type Manifest, parseManifest, readManifest } from './manifest.js';
export {
  defaultWorkerLayout,
  type LoadOptions,
  loadModelPackage,
  loadModels,
  type WorkerLayout,
} from './package-loader.js';
export { loadModelsInThread } from './runtime-thread.js';
