/**
 * Loading model packages: validate everything (manifest, files, tokenizer, graphs), start the model
 * workers, warm every graph up with one tiny inference, and only then hand out a ModelRuntime.
 */
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ModelRuntime, RuntimeError } from './api.js';
import { BatchedModel } from './batched-model.js';
import { DdtRuntime } from './ddt-runtime.js';
import { ModelPackageError } from './errors.js';
import { checkGraphs } from './graph-checks.js';
import { type Manifest, readManifest } from './manifest.js';
import { type ModelBackend, WorkerBackend } from './model-backend.js';
import { imageNorm, type ModelParts, sequenceVocab } from './model-parts.js';
import { Scheduler } from './scheduler.js';
import { loadTextTokenizer } from './text-tokenizer.js';
import { buildVocabMasks } from './vocab-masks.js';
import { WorkerClient } from './worker-client.js';
import type { ExecutionProvider, SessionTuning } from './worker-protocol.js';

export interface LoadOptions {
  executionProvider: ExecutionProvider;
  workers?: number; // model workers per package (each holds all graphs); default 1
  maxQueue?: number; // waiting requests beyond the running ones; default 32
  maxBatch?: number; // requests running (and batched) at once; default 8
  only?: string[]; // package names (manifest name or directory) to load; default all
  sessionTuning?: SessionTuning; // ORT intra-op threads / spinning (default: ORT's threads, no spinning)
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
  const workers = Array.from({ length: Math.max(1, opts.workers ?? 1) }, (_, i) => new WorkerClient(i));
  try {
    const results = await Promise.all(
      workers.map((w) =>
        w.call({
          op: 'load',
          dir,
          provider: opts.executionProvider,
          dtype: manifest.dtype,
          graphs: manifest.graphs,
          tuning: opts.sessionTuning,
        }),
      ),
    ).catch((err: Error) => {
      if (err.message.startsWith('execution provider')) throw new RuntimeError('unavailable', err.message);
      throw new ModelPackageError(dir, err.message);
    });
    checkGraphs(manifest, results[0]!);
    for (const w of workers) await warmUp(new WorkerBackend([w]), manifest);
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
  const maxBatch = Math.max(1, opts.maxBatch ?? 8);
  const parts: ModelParts = {
    manifest,
    model: new BatchedModel(new WorkerBackend(workers), {
      maxBatch,
      perImage: manifest.tokens.per_image,
      padId: s.pad,
    }),
    tokenizer,
    masks: buildVocabMasks(manifest.vocab, manifest.tokens.codebook_size),
    vocab: sequenceVocab(manifest),
    norm: imageNorm(manifest),
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
}

/** One tiny inference per graph: encoder on a grey image, one denoiser step, LLM prefill + one step. */
async function warmUp(backend: ModelBackend, m: Manifest): Promise<void> {
  const K = m.tokens.per_image;
  const plane = 3 * m.image.size * m.image.size;
  try {
    const codes = await backend.encode(new Float32Array(plane), 1); // [1, K]
    if (codes.length !== K) throw new Error(`encoder returned ${codes.length} codes, expected ${K}`);
    const x0 = await backend.denoise({
      xT: new Float32Array(plane), // [1, 3, H, W]
      t: Float32Array.of(1), // [1]
      codes, // [1, K]
      mask: new Float32Array(K).fill(1), // [1, K]
      batch: 1,
    });
    if (x0.length !== plane) throw new Error(`denoiser returned ${x0.length} values, expected ${plane}`);
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
