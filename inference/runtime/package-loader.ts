/**
 * Loading model packages: validate everything (manifest, files, tokenizer, graphs), start the model
 * workers, warm every graph up with one tiny inference, and only then hand out a ModelRuntime.
 */
import { access, readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { type ModelRuntime, RuntimeError } from './api.js';
import { BatchedModel } from './batched-model.js';
import { tokenizeCaptionPhrases } from './caption-refine.js';
import { DdtRuntime } from './ddt-runtime.js';
import { ModelPackageError } from './errors.js';
import { checkGraphs } from './graph-checks.js';
import { type Manifest, readManifest, sampleShape } from './manifest.js';
import { type ModelBackend, WorkerBackend } from './model-backend.js';
import { imageNorm, type ModelParts, sequenceVocab } from './model-parts.js';
import { externalDataRefs } from './onnx-external-data.js';
import { Scheduler } from './scheduler.js';
import { loadTextTokenizer } from './text-tokenizer.js';
import { buildVocabMasks } from './vocab-masks.js';
import { WorkerClient } from './worker-client.js';
import type { ExecutionProvider, SessionTuning } from './worker-protocol.js';

export interface LoadOptions {
  executionProvider: ExecutionProvider;
  workers?: number; // model workers per package (each holds all graphs); default: defaultWorkerLayout
  maxQueue?: number; // waiting requests beyond the running ones; default 32
  maxBatch?: number; // requests running (and batched) at once; default 8
  only?: string[]; // package names (manifest name or directory) to load; default all
  sessionTuning?: SessionTuning; // ORT intra-op threads / spinning (default: defaultWorkerLayout, no spinning)
}

export interface WorkerLayout {
  workers: number;
  intraOpThreads?: number; // undefined: ORT's choice
  wideDenoiserThreads?: number; // first worker also opens a denoiser on this many threads (worker-protocol.ts)
  niceness?: number; // Linux niceness of the worker threads (worker-protocol.ts SessionTuning.niceness)
}

/**
 * CPU model workers run at this niceness: with both cores busy with model steps, the main thread (health
 * checks, stream events, the sampling between steps) otherwise waits its turn in the run queue. Measured
 * (BENCHMARKS.md, session 5): health p99 under 16 streaming clients 15.9-20.1 ms against 14.8-32 ms at 0,
 * and no loss of throughput (the main thread's sampling is on the workers' critical path too).
 */
const CPU_WORKER_NICENESS = 10;

/**
 * CPU: two model workers with the cores shared between them (one ORT thread each on 2 cores). Measured
 * here (BENCHMARKS.md, worker layout): an LLM token step round trip took 1.06 ms with one intra-op thread
 * against 2.11 ms with two (waking the pool's second thread for every small MatMul costs more than it
 * saves), and a denoiser batch split over two one-thread workers ran faster than the whole batch on one
 * two-thread worker. GPU providers: one worker (one device, one copy of the weights).
 */
export function defaultWorkerLayout(
  provider: ExecutionProvider,
  cores = availableParallelism(),
): WorkerLayout {
  if (provider !== 'cpu') return { workers: 1 };
  const workers = Math.min(2, Math.max(1, cores));
  return {
    workers,
    intraOpThreads: Math.max(1, Math.floor(cores / workers)),
    ...(workers > 1 ? { wideDenoiserThreads: cores } : {}),
    niceness: CPU_WORKER_NICENESS,
  };
}

/** Loads every package under `modelsDir` (subdirectories with manifest.json), keyed by manifest name. */
export async function loadModels(modelsDir: string, opts: LoadOptions): Promise<Map<string, ModelRuntime>> {
  let entries: string[];
  try {
    entries = (await readdir(modelsDir)).sort();
  } catch (err) {
    throw new ModelPackageError(modelsDir, `cannot list models directory: ${(err as Error).message}`);
  }
  const dirs: string[] = [];
  for (const e of entries) {
    const dir = join(modelsDir, e);
    if ((await stat(dir)).isDirectory() && (await exists(join(dir, 'manifest.json')))) dirs.push(dir);
  }
  const loaded = new Map<string, ModelRuntime>();
  try {
    for (const dir of dirs) {
      const manifest = await readManifest(dir);
      const dirName = dir.slice(modelsDir.length).replace(/^[/\\]+/, '');
      if (opts.only && !opts.only.includes(manifest.name) && !opts.only.includes(dirName)) continue;
      if (loaded.has(manifest.name))
        throw new ModelPackageError(join(dir, 'manifest.json'), `duplicate model name "${manifest.name}"`);
      loaded.set(manifest.name, await loadModelPackage(dir, opts));
    }
    const missing = (opts.only ?? []).filter((n) => !loaded.has(n) && !dirs.some((d) => d.endsWith(`/${n}`)));
    if (missing.length > 0)
      throw new ModelPackageError(modelsDir, `model package(s) not found: ${missing.join(', ')}`);
    if (loaded.size === 0)
      throw new ModelPackageError(modelsDir, 'no model package (a subdirectory with manifest.json) found');
  } catch (err) {
    await Promise.all([...loaded.values()].map((r) => r.close()));
    throw err;
  }
  return loaded;
}

/** Loads and warms one package directory. */
export async function loadModelPackage(dir: string, opts: LoadOptions): Promise<DdtRuntime> {
  const manifest = await readManifest(dir);
  await checkFiles(dir, manifest);
  const s = manifest.vocab.special;
  const tokenizerFile = join(dir, manifest.tokenizer);
  const tokenizer = await loadTextTokenizer(tokenizerFile, Object.values(s), s.unk);
  if (tokenizer.vocabSize > manifest.vocab.text_size) {
    throw new ModelPackageError(
      tokenizerFile,
      `vocabulary has ${tokenizer.vocabSize} ids, manifest.json vocab.text_size is ${manifest.vocab.text_size}`,
    );
  }
  const captionPhrases = tokenizeCaptionPhrases(manifest, tokenizer, join(dir, 'manifest.json'));
  const layout = defaultWorkerLayout(opts.executionProvider);
  const tuning: SessionTuning = {
    intraOpThreads: layout.intraOpThreads,
    wideDenoiserThreads: layout.wideDenoiserThreads,
    niceness: layout.niceness,
    ...opts.sessionTuning,
  };
  const workers = Array.from(
    { length: Math.max(1, opts.workers ?? layout.workers) },
    (_, i) => new WorkerClient(i),
  );
  // only the first worker holds a wide denoiser, and only when there is another worker to leave idle
  const wide = workers.length > 1 && (tuning.wideDenoiserThreads ?? 0) > 1 ? workers[0] : undefined;
  try {
    const results = await Promise.all(
      workers.map((w) =>
        w.call({
          op: 'load',
          dir,
          provider: opts.executionProvider,
          dtype: manifest.dtype,
          graphs: manifest.graphs,
          latent: manifest.latent,
          sampleShape: sampleShape(manifest),
          tuning: w === wide ? tuning : { ...tuning, wideDenoiserThreads: 0 },
        }),
      ),
    ).catch((err: Error) => {
      if (err.message.startsWith('execution provider')) throw new RuntimeError('unavailable', err.message);
      throw new ModelPackageError(dir, err.message);
    });
    checkGraphs(manifest, results[0]!);
    for (const w of workers) await warmUp(new WorkerBackend([w]), manifest);
    if (wide) await warmUp(new WorkerBackend([wide], wide), manifest); // its denoise call goes wide
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
  const maxBatch = Math.max(1, opts.maxBatch ?? 8);
  const parts: ModelParts = {
    manifest,
    model: new BatchedModel(new WorkerBackend(workers, wide), {
      maxBatch,
      perImage: manifest.tokens.per_image,
      padId: s.pad,
    }),
    tokenizer,
    masks: buildVocabMasks(manifest.vocab, manifest.tokens.codebook_size),
    vocab: sequenceVocab(manifest),
    norm: imageNorm(manifest),
    captionPhrases,
  };
  return new DdtRuntime(parts, new Scheduler(Math.max(0, opts.maxQueue ?? 32), maxBatch));
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function checkFiles(dir: string, m: Manifest): Promise<void> {
  const declared: [string, string][] = [['tokenizer', m.tokenizer]];
  for (const [name, g] of Object.entries(m.graphs)) if (g) declared.push([`graphs.${name}.file`, g.file]);
  for (const [field, file] of declared) {
    if (!(await exists(join(dir, file)))) {
      throw new ModelPackageError(join(dir, file), `missing file (declared in manifest.json ${field})`);
    }
  }
  for (const g of Object.values(m.graphs)) if (g) await checkExternalData(dir, join(dir, g.file));
}

/** Every external data file a graph references (e.g. llm.onnx.data) lies inside the package and is long enough. */
async function checkExternalData(dir: string, graphFile: string): Promise<void> {
  const refs = (await externalDataRefs(graphFile)) ?? []; // unreadable graph: ORT reports it at load
  const need = new Map<string, number>();
  for (const r of refs) need.set(r.location, Math.max(need.get(r.location) ?? 0, r.end));
  for (const [location, end] of need) {
    const file = join(dirname(graphFile), location);
    const inside = relative(dir, file);
    if (isAbsolute(location) || inside.startsWith('..') || isAbsolute(inside)) {
      throw new ModelPackageError(
        graphFile,
        `external data "${location}" lies outside the package directory`,
      );
    }
    const size = await stat(file).then(
      (st) => st.size,
      () => undefined,
    );
    if (size === undefined) {
      throw new ModelPackageError(file, `missing external data file (weights of ${graphFile})`);
    }
    if (size < end) {
      throw new ModelPackageError(file, `external data file is ${size} bytes, ${graphFile} needs ${end}`);
    }
  }
}

/**
 * One tiny inference per graph: (vae_encoder +) encoder on a grey image, one denoiser step, the renderer,
 * vae_decoder, LLM prefill + one step. Output sizes are checked, since dynamic dims escape checkGraphs.
 */
async function warmUp(backend: ModelBackend, m: Manifest): Promise<void> {
  const K = m.tokens.per_image;
  const plane = 3 * m.image.size * m.image.size;
  const sample = sampleShape(m).reduce((a, b) => a * b, 1); // [C, h, w] of x_t / x0
  const expectLength = (what: string, got: Float32Array, want: number) => {
    if (got.length !== want) throw new Error(`${what} returned ${got.length} values, expected ${want}`);
  };
  try {
    const codes = await backend.encode(new Float32Array(plane), 1); // [1, K]
    if (codes.length !== K) throw new Error(`encoder returned ${codes.length} codes, expected ${K}`);
    const mask = new Float32Array(K).fill(1); // [1, K]
    const x0 = await backend.denoise({
      xT: new Float32Array(sample), // [1, C, h, w]
      t: Float32Array.of(1), // [1]
      codes, // [1, K]
      mask,
      batch: 1,
    });
    expectLength('denoiser', x0, sample);
    if (m.graphs.renderer) {
      if (!backend.render) throw new Error('backend cannot run the renderer');
      expectLength('renderer', await backend.render({ codes, mask, batch: 1 }), sample);
    }
    if (m.latent) {
      if (!backend.vaeDecode) throw new Error('backend cannot run vae_decoder');
      expectLength('vae_decoder', await backend.vaeDecode(x0, 1), plane);
    }
    const llm = backend.openLlm();
    const s = m.vocab.special;
    const logits = await llm.prefill(
      BigInt64Array.of(BigInt(s.bos), BigInt(s.user)), // [1, 2]
      BigInt64Array.of(1n, 1n),
      BigInt64Array.of(0n, 1n),
      1,
      2,
    );
    if (logits.length !== m.vocab.size)
      throw new Error(`llm returned ${logits.length} logits, expected ${m.vocab.size}`);
    await llm.step(
      BigInt64Array.of(BigInt(s.assistant)),
      BigInt64Array.of(1n, 1n, 1n),
      BigInt64Array.of(2n),
      1,
    );
    llm.release();
  } catch (err) {
    if (err instanceof ModelPackageError) throw err;
    throw new ModelPackageError(m.name, `warm-up inference failed: ${(err as Error).message}`);
  }
}
