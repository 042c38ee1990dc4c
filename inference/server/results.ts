/** Maps runtime results to proto messages: encoded images, seeds as strings, optional reveal frames. */

import type { AnimationFormat, GeneratedImage, OutputFormat, Reveal } from '../protocol/types.js';
import type {
  JobContext,
  ModelRuntime,
  GeneratedImage as RuntimeImage,
  SamplingParams,
} from '../runtime/api.js';
import { encodeAnimation } from './animation.js';
import { encodeImage } from './image-output.js';
import { chooseRevealKeeps } from './request-checks.js';

export interface OutputOptions {
  format: OutputFormat;
  animationFormat: AnimationFormat;
  reveal: boolean;
  revealMaxFrames: number;
}

/** Frames of decoding an expanding set of coarsest tokens, and their animation. */
export async function buildReveal(
  runtime: ModelRuntime,
  tokens: number[],
  params: SamplingParams,
  job: JobContext,
  out: OutputOptions,
): Promise<Reveal> {
  const keeps = chooseRevealKeeps(runtime.description.tokensPerImage, out.revealMaxFrames);
  const frames = await runtime.reveal(tokens, params, job, keeps);
  return {
    frames: await Promise.all(frames.map((f) => encodeImage(f, out.format))),
    animation: await encodeAnimation(frames, out.animationFormat),
    tokens_kept: keeps.slice(0, frames.length),
  };
}

export async function toGeneratedImages(
  runtime: ModelRuntime,
  images: RuntimeImage[],
  params: SamplingParams,
  job: JobContext,
  out: OutputOptions,
): Promise<GeneratedImage[]> {
  // The images are encoded together (large ones in sharp's thread pool) and alongside the reveals (model
  // work, one image after another so the job's reveal progress stays in order).
  const encoded = Promise.all(images.map((img) => encodeImage(img.image, out.format)));
  encoded.catch(() => {}); // awaited below; a reveal may throw first
  const reveals: (Reveal | null)[] = [];
  for (const img of images) {
    // Reveal reuses the image's own seed so its last frame matches the image.
    reveals.push(
      out.reveal ? await buildReveal(runtime, img.tokens, { ...params, seed: img.seed }, job, out) : null,
    );
  }
  const encodedImages = await encoded;
  return images.map((img, i) => ({
    image: encodedImages[i]!,
    seed: img.seed.toString(),
    tokens: img.tokens,
    reveal: reveals[i]!,
  }));
}
