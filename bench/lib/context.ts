/**
 * What the suites share: options, sizes, the model package, an in-process runtime (cached per package)
 * and one inference server child process (started on first use, reused by the later suites).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelRuntime, SamplingParams } from '../../inference/runtime/api.js';
import { type DdtRuntime, loadModels, type Manifest, readManifest } from '../../inference/runtime/index.js';
import type { SessionTuning } from '../../inference/runtime/worker-protocol.js';
import { type ServerProcess, startServerProcess } from './server-process.js';
import { FULL, type Sizes, SMOKE } from './sizes.js';

/**
 * A model-worker layout to compare: workers per package plus ORT session settings. `intraOpThreads: 0`
 * means ORT's own choice (one thread per core), overriding the runtime's default layout.
 */
export type BenchLayout = SessionTuning & { workers?: number };

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BenchOptions {
  smoke: boolean;
  packageDir: string;
  /** Training run for the PyTorch reference: a directory, 'random' (seeded random weights), or none. */
  run: string | undefined;
  preset: string | undefined;
  python: string;
  maxBatch: number;
  quiet: boolean;
  /** Per-suite overrides of the chosen size set, e.g. {"concurrency": {"levels": [1, 8]}}. */
  sizeOverrides?: Partial<{ [K in keyof Sizes]: Partial<Sizes[K]> }>;
}

export interface LoadedPackage {
  dir: string;
  modelsDir: string; // a temporary directory holding only a link to `dir`
  manifest: Manifest;
  runtime: ModelRuntime & Pick<DdtRuntime, 'counters'>;
}

export class BenchContext {
  readonly sizes: Sizes;
  private readonly loaded = new Map<string, Promise<LoadedPackage>>();
  private readonly temps: string[] = [];
  private server: Promise<ServerProcess> | undefined;

  constructor(readonly options: BenchOptions) {
    const base = options.smoke ? SMOKE : FULL;
    const o = options.sizeOverrides ?? {};
    this.sizes = Object.fromEntries(
      Object.entries(base).map(([k, v]) => [k, { ...v, ...(o[k as keyof Sizes] ?? {}) }]),
    ) as unknown as Sizes;
  }

  log(message: string): void {
    if (!this.options.quiet) process.stderr.write(`[bench] ${message}\n`);
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `ddt-bench-${prefix}-`));
    this.temps.push(dir);
    return dir;
  }

  /** A models directory containing only this package (loadModels scans every subdirectory). */
  modelsDirFor(packageDir: string): string {
    const dir = this.tempDir('models');
    symlinkSync(resolve(packageDir), join(dir, basename(resolve(packageDir))), 'dir');
    return dir;
  }

  /** The in-process runtime of a package (loaded and warmed once, as the server does). */
  load(packageDir = this.options.packageDir): Promise<LoadedPackage> {
    const dir = resolve(packageDir);
    let p = this.loaded.get(dir);
    if (!p) {
      p = (async () => {
        const manifest = await readManifest(dir);
        const modelsDir = this.modelsDirFor(dir);
        const models = await loadModels(modelsDir, {
          executionProvider: 'cpu',
          maxBatch: this.options.maxBatch,
          maxQueue: 256,
        });
        const runtime = [...models.values()][0] as LoadedPackage['runtime'];
        return { dir, modelsDir, manifest, runtime };
      })();
      this.loaded.set(dir, p);
    }
    return p;
  }

  /** A separately loaded runtime with another worker layout / ORT session settings (caller closes it). */
  async loadTuned(
    layout: BenchLayout,
    packageDir = this.options.packageDir,
  ): Promise<LoadedPackage['runtime']> {
    const { workers, ...tuning } = layout;
    const models = await loadModels(this.modelsDirFor(resolve(packageDir)), {
      executionProvider: 'cpu',
      maxBatch: this.options.maxBatch,
      maxQueue: 256,
      workers,
      sessionTuning: tuning,
    });
    return [...models.values()][0] as LoadedPackage['runtime'];
  }

  /** Closes every in-process runtime (before the server process runs, so they do not share memory/threads). */
  async unloadAll(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    for (const p of all) await (await p.catch(() => undefined))?.runtime.close();
  }

  /** The shared inference server child process with the bench package. */
  serverProcess(): Promise<ServerProcess> {
    this.server ??= startServerProcess({
      repoRoot: REPO_ROOT,
      modelsDir: this.modelsDirFor(this.options.packageDir),
    });
    return this.server;
  }

  /** A separate server process with another worker layout (bench/lib/tuned-server.ts); caller stops it. */
  tunedServerProcess(layout: BenchLayout): Promise<ServerProcess> {
    return startServerProcess({
      repoRoot: REPO_ROOT,
      modelsDir: this.modelsDirFor(this.options.packageDir),
      entry: ['bench/lib/tuned-server.ts', JSON.stringify(layout)],
    });
  }

  /** A separate server process serving another package with the default settings; caller stops it. */
  packageServerProcess(packageDir: string): Promise<ServerProcess> {
    return startServerProcess({ repoRoot: REPO_ROOT, modelsDir: this.modelsDirFor(packageDir) });
  }

  async close(): Promise<void> {
    await this.unloadAll();
    if (this.server) await (await this.server.catch(() => undefined))?.stop();
    for (const d of this.temps) rmSync(d, { recursive: true, force: true });
  }
}

/** The model's default sampling parameters with a fixed seed (what the server resolves for a bare request). */
export function defaultParams(runtime: ModelRuntime, seed: bigint): SamplingParams {
  return { seed, ...runtime.description.defaults };
}

export function ensureDir(dir: string): string {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  return dir;
}

export function jobContext(extra: Partial<import('../../inference/runtime/api.js').JobContext> = {}) {
  return { signal: new AbortController().signal, ...extra };
}
