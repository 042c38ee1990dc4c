/** loadModelPackage / loadModels refuse broken packages with a ModelPackageError naming the file. */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  loadModelPackage,
  loadModels,
  ModelPackageError,
  RuntimeError,
} from '../../../inference/runtime/index.js';

const source = fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url));
const temps: string[] = [];

/** Copies the tiny package into a temp models dir, applies `edit` to its manifest. */
async function brokenPackage(
  // biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary manifest fields
  edit: (m: Record<string, any>) => void = () => {},
): Promise<{ models: string; dir: string }> {
  const models = await mkdtemp(join(tmpdir(), 'ddt-models-'));
  temps.push(models);
  const dir = join(models, 'tiny');
  await cp(source, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  edit(manifest);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return { models, dir };
}

const cpu = { executionProvider: 'cpu' as const };

afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('model package validation', () => {
  it('rejects an unknown format version clearly', async () => {
    const { dir } = await brokenPackage((m) => {
      m.format_version = 2;
    });
    await expect(loadModelPackage(dir, cpu)).rejects.toThrow(
      /manifest\.json: unknown version: format_version 2/,
    );
  });

  it('reports schema problems with their path', async () => {
    const { dir } = await brokenPackage((m) => {
      delete m.tokens.per_image;
      m.image.background = 'pink';
    });
    const err = await loadModelPackage(dir, cpu).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelPackageError);
    expect((err as Error).message).toMatch(/manifest\.json: invalid manifest: /);
    expect((err as Error).message).toMatch(/tokens\.per_image: Invalid input/);
    expect((err as Error).message).toMatch(/image\.background: Invalid option/);
  });

  it('checks vocabulary consistency', async () => {
    const { dir } = await brokenPackage((m) => {
      m.vocab.size = 50;
    });
    await expect(loadModelPackage(dir, cpu)).rejects.toThrow(
      /vocab\.size 50 != text_size 28 \+ codebook_size 16/,
    );
    const small = await brokenPackage((m) => {
      m.vocab.text_size = 20;
      m.vocab.visual_offset = 20;
      m.vocab.size = 36;
    });
    await expect(loadModelPackage(small.dir, cpu)).rejects.toThrow(
      /tokenizer\.json: vocabulary has 28 ids, .*text_size is 20/,
    );
  });

  it('needs a prompt instruction to rerank images', async () => {
    const { dir } = await brokenPackage((m) => {
      m.generation.image_candidates = 4;
    });
    await expect(loadModelPackage(dir, cpu)).rejects.toThrow(
      /generation\.image_candidates needs prompting\.prompt_instruction/,
    );
  });

  it('needs the placeholder in a plan template', async () => {
    const { dir } = await brokenPackage((m) => {
      m.prompting.plan_template = 'where can you draw';
    });
    await expect(loadModelPackage(dir, cpu)).rejects.toThrow(/prompting\.plan_template/);
  });

  it('names a missing graph file', async () => {
    const { dir } = await brokenPackage();
    await rm(join(dir, 'denoiser.onnx'));
    await expect(loadModelPackage(dir, cpu)).rejects.toThrow(
      /denoiser\.onnx: missing file \(declared in manifest\.json graphs\.denoiser\.file\)/,
    );
  });

  it('names a file that is not a loadable ONNX graph', async () => {
    const { dir } = await brokenPackage();
    await writeFile(join(dir, 'encoder.onnx'), 'not a model');
    await expect(loadModelPackage(dir, cpu)).rejects.toThrow(/encoder\.onnx: cannot load ONNX graph/);
  });

  it('checks declared input/output names against the graph', async () => {
    const { dir } = await brokenPackage((m) => {
      m.graphs.llm.inputs.past_key = 'past.{i}.k';
    });
    await expect(loadModelPackage(dir, cpu)).rejects.toThrow(/llm\.onnx: graph has no input "past\.0\.k"/);
    const out = await brokenPackage((m) => {
      m.graphs.denoiser.outputs.x0 = 'clean';
    });
    await expect(loadModelPackage(out.dir, cpu)).rejects.toThrow(
      /denoiser\.onnx: graph has no output "clean"/,
    );
  });

  it('loadModels scans subdirectories and honours `only`', async () => {
    const { models } = await brokenPackage();
    await writeFile(join(models, 'README.txt'), 'not a package');
    await expect(loadModels(models, { ...cpu, only: ['nope'] })).rejects.toThrow(
      /model package\(s\) not found: nope/,
    );
    const loaded = await loadModels(models, cpu);
    expect([...loaded.keys()]).toEqual(['tiny-test']);
    await Promise.all([...loaded.values()].map((r) => r.close()));
  });

  it('fails clearly when the execution provider is unavailable (no CPU fallback)', async () => {
    const err = await loadModelPackage(source, { executionProvider: 'cuda' }).catch((e: unknown) => e);
    if (err instanceof RuntimeError || err instanceof Error) {
      expect(err).toBeInstanceOf(RuntimeError);
      expect((err as RuntimeError).kind).toBe('unavailable');
      expect((err as Error).message).toMatch(/execution provider "cuda"/);
    } else {
      // a machine with CUDA: the package loads on the GPU
      await (err as { close(): Promise<void> }).close();
    }
  });
});
