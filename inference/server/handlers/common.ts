/** Small pieces every handler uses: output options from a request, input images under the server's limits. */
import type { AnimationFormat, Image, OutputFormat } from '../../protocol/types.js';
import type { ModelDescription, RgbImage } from '../../runtime/api.js';
import type { ServerDeps } from '../call-context.js';
import { decodeInputImage } from '../image-input.js';
import type { OutputOptions } from '../results.js';

export function outputOptions(
  deps: ServerDeps,
  req: { output_format: OutputFormat; animation_format: AnimationFormat; reveal: boolean },
): OutputOptions {
  return {
    format: req.output_format,
    animationFormat: req.animation_format,
    reveal: req.reveal,
    revealMaxFrames: deps.config.revealMaxFrames,
  };
}

/** A request's image field decoded, checked against the server's limits and resized for the model. */
export function readInputImage(
  deps: ServerDeps,
  desc: ModelDescription,
  image: Image | null | undefined,
  field: string,
): Promise<RgbImage> {
  return decodeInputImage(image, field, desc.imageSize, deps.config.limits);
}
