/** Image-producing work of one request: encode, sample image tokens, diffusion-decode, previews. */
import { type GeneratedImage, type RgbImage, RuntimeError, type SamplingParams } from './api.js';
import { type DecodeJob, renderImages, sampleImages } from './diffusion.js';
import { pickImageCandidates, type RerankRows, type RoundTrip, rerankRows } from './image-rerank.js';
import type { JobControl } from './job-control.js';
import { type Manifest, sampleShape } from './manifest.js';
import type { ModelParts } from './model-parts.js';
import { imageToTensor, normalizeBackground, tensorToImage } from './pixels.js';
import type { ProgressReporter } from './progress.js';
import { createNoiseRng, createTokenRng, fillNormal, seedForCandidate, seedForImage } from './rng.js';
import { visualIdsToCodes } from './sequences.js';
import { ImageTokenStream } from './token-streams.js';

const PREVIEW_EVERY = 4; // tokens between previews
const PREVIEW_STEPS = 2; // denoiser steps of a preview

/** RGB image -> K codes (code order), through the batched encoder. */
export function encodeImage(parts: ModelParts, image: RgbImage): Promise<number[]> {
  let pixels: Float32Array;
  try {
    pixels = imageToTensor(image, parts.norm); // [3, H, W]
  } catch (err) {
    throw new RuntimeError('invalid_argument', (err as Error).message);
  }
  return parts.model.encode(pixels);
}

/** Checks the diffusion step count against the manifest's bounds; 0 (the one-step renderer) needs a renderer. */
export function checkSteps(parts: ModelParts, steps: number): void {
  const { min_steps, max_steps } = parts.manifest.sampler;
  if (steps === 0 && parts.manifest.graphs.renderer) return;
  if (!Number.isInteger(steps) || steps < min_steps || steps > max_steps) {
    const renderer = parts.manifest.graphs.renderer ? ' or 0 (one-step renderer)' : '';
    throw new RuntimeError(
      'invalid_argument',
      `steps must be an integer in [${min_steps}, ${max_steps}]${renderer}, got ${steps}`,
    );
  }
}

/** Model calls a decode with `steps` takes, for progress plans: the renderer (steps 0) is one. */
export function decodeSteps(steps: number): number {
  return steps === 0 ? 1 : steps;
}

/** Checks code ids: K of them, each in [0, codebook_size). */
export function checkCodes(parts: ModelParts, codes: number[]): void {
  const { per_image: K, codebook_size } = parts.manifest.tokens;
  if (codes.length !== K)
    throw new RuntimeError('invalid_argument', `expected ${K} tokens, got ${codes.length}`);
  if (codes.some((c) => !Number.isInteger(c) || c < 0 || c >= codebook_size)) {
    throw new RuntimeError('invalid_argument', `token ids must be integers in [0, ${codebook_size})`);
  }
}

/** Initial noise of the image with this seed: [C, h, w] (latent or pixels) from its noise generator. */
export function imageNoise(parts: ModelParts, imageSeed: bigint): Float32Array {
  const count = sampleShape(parts.manifest).reduce((a, b) => a * b, 1);
  return fillNormal(createNoiseRng(imageSeed), count);
}

/**
 * Decodes several images in one batch: the multi-step sampler (steps >= 1, 'decode' progress per step) or
 * the one-step renderer (steps 0); then, for latent packages, vae_decoder turns the latent into pixels.
 */
export async function decodeImages(
  parts: ModelParts,
  jobs: DecodeJob[],
  steps: number,
  job: JobControl,
  progress?: ProgressReporter,
  stage: 'decode' | 'reveal' = 'decode',
): Promise<RgbImage[]> {
  const m = parts.manifest;
  const K = m.tokens.per_image;
  const beforeStep = () => {
    job.throwIfStopped();
    job.steps++;
  };
  let x0: Float32Array; // [B, C, h, w]
  if (steps === 0) {
    beforeStep();
    x0 = await renderImages(jobs, (input) => parts.model.render(input), K);
    progress?.report(stage, 1);
  } else {
    x0 = await sampleImages(jobs, (input) => parts.model.denoise(input), {
      knots: m.schedule.knots,
      perImage: K,
      steps,
      clampX0: m.latent === null,
      beforeStep,
      afterStep: (i) => progress?.report(stage, i + 1),
    });
  }
  let pixels = x0; // [B, 3, H, W]
  if (m.latent) {
    job.throwIfStopped();
    pixels = await parts.model.vaeDecode(x0, jobs.length);
  }
  const size = pixels.length / jobs.length;
  return jobs.map((_, b) => tensorToImage(pixels.subarray(b * size, (b + 1) * size), parts.norm));
}

export interface ImageRows {
  cond: number[];
  uncond: number[];
  /** Text-to-image rows only: the prompt's ids, by which candidates are reranked (image-rerank.ts). */
  prompt?: number[];
  /** The prompt is the model's caption of the image to draw (a planned Edit's; plans.ts). */
  captioned?: boolean;
  /** A planned Edit's source image (plans.ts), which its candidates may be scored by closeness to. */
  source?: RgbImage;
}

/**
 * Whether a request's candidates are scored by their round trip: planned Edits (captioned rows) may have their
 * own setting, because scored by what their images show they gained where text-to-image plans lost (the
 * bundled model's MODEL_CARD.md).
 */
function roundTripFor(m: Manifest, rows: ImageRows): boolean {
  const g = m.generation;
  return rows.captioned === true
    ? (g.edit_image_candidate_round_trip ?? g.image_candidate_round_trip)
    : g.image_candidate_round_trip;
}

/** An Edit's source image as the encoder sees it: its background normalised when the package does that. */
function normalizedSource(parts: ModelParts, image: RgbImage): RgbImage {
  return parts.norm.background === 'normalize_white' ? normalizeBackground(image) : image;
}

/** How a request's candidates are scored, or null when its images are not reranked. */
function rerankRowsOf(parts: ModelParts, rows: ImageRows): RerankRows | null {
  const m = parts.manifest;
  if (!rows.prompt || m.generation.image_candidates === 0) return null;
  const asCaption = rows.captioned === true && m.generation.image_candidate_caption_weight > 0;
  const rerank: RerankRows = {
    cond: rows.cond,
    prompt: rows.prompt,
    inverseRow: rerankRows(parts, rows.prompt, m.prompting.prompt_instruction),
    captionRow: asCaption ? rerankRows(parts, rows.prompt, m.prompting.caption_instruction) : null,
    ...(rows.captioned === true && rows.source && m.generation.edit_image_candidate_source_weight > 0
      ? { source: normalizedSource(parts, rows.source) }
      : {}),
  };
  const blank = new Array<number>(m.tokens.per_image).fill(0);
  const longest = Math.max(rerank.inverseRow(blank).length, rerank.captionRow?.(blank).length ?? 0);
  if (longest > m.prompting.max_sequence) {
    throw new RuntimeError(
      'invalid_argument',
      `prompt too long to rerank images: the model's sequence limit is ${m.prompting.max_sequence}`,
    );
  }
  return rerank;
}

/**
 * Samples `count` images from prompt rows (CFG when guidanceScale != 1), then decodes them. With
 * `rows.prompt` and generation.image_candidates > 0, each image is the best of its candidates
 * (image-rerank.ts); progress and previews follow image 0's own candidate.
 */
export async function generateFromRows(
  parts: ModelParts,
  rows: ImageRows,
  count: number,
  params: SamplingParams,
  job: JobControl,
  progress: ProgressReporter,
): Promise<GeneratedImage[]> {
  const { manifest: m } = parts;
  const K = m.tokens.per_image;
  if (rows.cond.length + K + 1 > m.prompting.max_sequence) {
    throw new RuntimeError(
      'invalid_argument',
      `input too long: the model's sequence limit is ${m.prompting.max_sequence}`,
    );
  }
  const rerank = rerankRowsOf(parts, rows);
  const N = rerank ? m.generation.image_candidates : 0;
  const guided = params.guidanceScale !== 1;
  const previews = job.ctx.previews && m.tokens.order === 'coarse_to_fine';
  let previewBusy = false;
  let previewDone: Promise<void> = Promise.resolve();
  const seeds = Array.from({ length: count }, (_, i) => seedForImage(params.seed, i));
  // Each image's noise is drawn once and shared by its previews and its final decode (decoders copy it).
  const noises: (Float32Array | undefined)[] = [];
  const noiseOf = (i: number) => {
    noises[i] ??= imageNoise(parts, seeds[i]!);
    return noises[i];
  };
  const tokenStream = (seed: bigint, temperature: number, onToken?: (emitted: number[]) => void) =>
    new ImageTokenStream({
      cond: rows.cond,
      uncond: guided ? rows.uncond : null,
      guidanceScale: params.guidanceScale,
      perImage: K,
      visualMask: parts.masks.visual,
      visualOffset: m.vocab.visual_offset,
      sampling: { temperature, topK: params.topK, topP: params.topP },
      rng: createTokenRng(seed),
      job,
      onToken,
    });
  const streams = seeds.map((seed, i) =>
    tokenStream(
      seed,
      params.temperature,
      i !== 0
        ? undefined
        : (emitted) => {
            const n = emitted.length;
            if (!previews || previewBusy || n % PREVIEW_EVERY !== 0 || n >= K) {
              progress.report('tokens', n);
              return;
            }
            previewBusy = true;
            previewDone = previewCodes(parts, [...emitted], noiseOf(0), job)
              .then((preview) => progress.report('tokens', n, preview))
              .catch(() => {})
              .finally(() => {
                previewBusy = false;
              });
          },
    ),
  );
  const candidates = seeds.flatMap((seed) =>
    Array.from({ length: N }, (_, j) =>
      tokenStream(seedForCandidate(seed, j + 1), m.generation.image_candidate_temperature),
    ),
  );
  await Promise.all([...streams, ...candidates].map((s) => parts.model.decode(s)));
  await previewDone; // no progress event may follow the result
  const toCodes = (s: ImageTokenStream) =>
    visualIdsToCodes(
      s.emitted.map((c) => c + m.vocab.visual_offset),
      parts.vocab,
    );
  let codes = streams.map(toCodes);
  if (rerank) {
    const perImage = codes.map((own, i) => [own, ...candidates.slice(i * N, (i + 1) * N).map(toCodes)]);
    // the round trip decodes every candidate with its image's noise: the chosen one's image is the result
    const roundTrip: RoundTrip | undefined = roundTripFor(m, rows)
      ? async (list, imageOf) => {
          const images = await decodeImages(
            parts,
            list.map((c, k) => ({ codes: c, keep: K, noise: noiseOf(imageOf[k]!) })),
            params.steps,
            job,
            progress,
          );
          job.throwIfStopped();
          return { images, codes: await Promise.all(images.map((image) => encodeImage(parts, image))) };
        }
      : undefined;
    const picked = await pickImageCandidates(parts, rerank, perImage, job, roundTrip);
    if (roundTrip) {
      return picked.map((p, i) => ({ image: p.image!, seed: seeds[i]!, tokens: p.codes }));
    }
    codes = picked.map((p) => p.codes);
  }
  const images = await decodeImages(
    parts,
    codes.map((c, i) => ({ codes: c, keep: K, noise: noiseOf(i) })),
    params.steps,
    job,
    progress,
  );
  return images.map((image, i) => ({ image, seed: seeds[i]!, tokens: codes[i]! }));
}

/**
 * Cheap preview of a partial coarse_to_fine emission: its n codes are the n coarsest (keep = n). One renderer
 * call when the package has a renderer, else a short sampler run.
 */
async function previewCodes(
  parts: ModelParts,
  emitted: number[],
  noise: Float32Array,
  job: JobControl,
): Promise<RgbImage> {
  const K = parts.manifest.tokens.per_image;
  const codes = new Array<number>(K).fill(0);
  emitted.forEach((c, i) => {
    codes[K - 1 - i] = c;
  });
  const [image] = await decodeImages(
    parts,
    [{ codes, keep: emitted.length, noise }],
    parts.manifest.graphs.renderer ? 0 : Math.min(PREVIEW_STEPS, parts.manifest.sampler.max_steps),
    job,
  );
  return image!;
}
