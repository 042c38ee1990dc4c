/**
 * Rectified-flow sampler for an x0-predicting denoiser (docs/model-package.md, "Sampler"), for a batch
 * of images that share the step count. Per step i (t = t_i, tn = t_{i+1}):
 *   x0 = clamp(denoise(x, t, codes, mask(t)), -1, 1); eps = (x - (1 - t) x0) / t; x = tn eps + (1 - tn) x0.
 * The final x0 is the image. The denoiser is passed in, so the loop is tested with a stub.
 * Latent packages skip the clamp: the normalised VAE latent is not bounded to [-1, 1] (pixels are clamped
 * after vae_decoder instead). renderImages is the one-step alternative: renderer(codes, kept mask) = x0.
 */
import { type Knots, timesteps, visibleCount, writeTokenMask } from './schedule.js';

export interface DenoiseInput {
  xT: Float32Array; // [B, C, H, W] float
  t: Float32Array; // [B] float in [0, 1]
  codes: BigInt64Array; // [B, K] int64, code order
  mask: Float32Array; // [B, K] float, 1 = visible
  batch: number;
}

/** Renderer input: every kept code visible at once, no noise and no t. */
export interface RenderInput {
  codes: BigInt64Array; // [B, K] int64, code order
  mask: Float32Array; // [B, K] float, 1 = kept
  batch: number;
}

/** One denoiser evaluation: returns x0 [B, C, H, W]. */
export type DenoiseFn = (input: DenoiseInput) => Promise<Float32Array>;

export interface DecodeJob {
  codes: number[]; // [K] code order
  keep: number; // number of coarsest codes kept (1..K)
  noise: Float32Array; // [C, H, W] initial x = eps
}

export interface DiffusionOptions {
  knots: Knots;
  perImage: number; // K
  steps: number;
  clampX0?: boolean; // default true (pixel space); false in latent space
  /** Called before each step; throw to stop (cancellation). */
  beforeStep?: (step: number) => void;
  afterStep?: (step: number, x0: Float32Array) => void;
}

/** Runs the sampler for all jobs in one batch; returns x0 [B, C, H, W] in [-1, 1]. */
export async function sampleImages(
  jobs: DecodeJob[],
  denoise: DenoiseFn,
  opts: DiffusionOptions,
): Promise<Float32Array> {
  const B = jobs.length;
  const K = opts.perImage;
  const pixels = jobs[0]!.noise.length; // C * H * W
  const x = new Float32Array(B * pixels); // [B, C, H, W]
  const codes = codeBatch(jobs, K); // [B, K]
  jobs.forEach((job, b) => {
    x.set(job.noise, b * pixels);
  });
  const ts = timesteps(opts.steps);
  const lo = opts.clampX0 === false ? Number.NEGATIVE_INFINITY : -1;
  const hi = opts.clampX0 === false ? Number.POSITIVE_INFINITY : 1;
  let x0: Float32Array = new Float32Array(B * pixels);
  for (let i = 0; i < opts.steps; i++) {
    opts.beforeStep?.(i);
    const t = ts[i]!;
    const tNext = ts[i + 1]!;
    const mask = new Float32Array(B * K); // [B, K]
    const visible = visibleCount(opts.knots, t, K);
    jobs.forEach((job, b) => {
      writeTokenMask(mask.subarray(b * K, (b + 1) * K), visible, job.keep);
    });
    const tIn = new Float32Array(B).fill(t); // [B]
    x0 = await denoise({ xT: x, t: tIn, codes, mask, batch: B });
    eulerStep(x, x0, t, tNext, lo, hi);
    opts.afterStep?.(i, x0);
  }
  return x0;
}

/**
 * One sampler update in place, element by element: x0 = clamp(x0, lo, hi); eps = (x - (1 - t) x0) / t;
 * x = tNext eps + (1 - tNext) x0. A plain function rather than a loop inside the async sampler, so the
 * engine optimises it on its first call (loops in async functions are not optimised while they run, and
 * unoptimised float arithmetic allocates a heap number per operation: garbage the server's main thread
 * then spends collection pauses on).
 */
export function eulerStep(
  x: Float32Array, // [B, C, H, W] x_t in, x_tNext out
  x0: Float32Array, // [B, C, H, W] prediction in, clamped prediction out
  t: number,
  tNext: number,
  lo: number,
  hi: number,
): void {
  for (let p = 0; p < x.length; p++) {
    const clean = Math.min(hi, Math.max(lo, x0[p]!));
    x0[p] = clean;
    const eps = (x[p]! - (1 - t) * clean) / t;
    x[p] = tNext * eps + (1 - tNext) * clean;
  }
}

/** One renderer call for all jobs (the mask keeps each job's `keep` coarsest codes); returns x0 [B, C, h, w]. */
export async function renderImages(
  jobs: DecodeJob[],
  render: (input: RenderInput) => Promise<Float32Array>,
  perImage: number,
): Promise<Float32Array> {
  const K = perImage;
  const mask = new Float32Array(jobs.length * K); // [B, K]
  jobs.forEach((job, b) => {
    writeTokenMask(mask.subarray(b * K, (b + 1) * K), K, job.keep);
  });
  return render({ codes: codeBatch(jobs, K), mask, batch: jobs.length });
}

function codeBatch(jobs: DecodeJob[], K: number): BigInt64Array {
  const codes = new BigInt64Array(jobs.length * K); // [B, K]
  jobs.forEach((job, b) => {
    job.codes.forEach((c, j) => {
      codes[b * K + j] = BigInt(c);
    });
  });
  return codes;
}
