/** Small pieces every handler uses: limits from config, output options from a request. */
import type { AnimationFormat, OutputFormat } from '../../protocol/types.js';
import type { ServerDeps } from '../call-context.js';
import type { ImageLimits } from '../image-input.js';
import type { OutputOptions } from '../results.js';

export function imageLimits(deps: ServerDeps): ImageLimits {
  return deps.config.limits;
}

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
