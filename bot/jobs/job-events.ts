/** Turns a stored job into the inference call that produces its images. */
import { UserError } from '../errors.js';
import type { CallOptions, ImageJobEvent, InferenceClient } from '../inference/client.js';
import type { JobRecord } from '../store/job-store.js';

const seedOf = (seed: string | undefined) => (seed === undefined ? undefined : BigInt(seed));

export async function* startJobEvents(
  inference: InferenceClient,
  job: JobRecord,
  options: CallOptions & { previews: boolean },
): AsyncGenerator<ImageJobEvent> {
  const p = job.params;
  const previews = options.previews;
  const input = (i: number) => {
    const image = job.inputs[i];
    if (!image) throw new Error(`job ${job.id} is missing input image ${i}`);
    return image;
  };
  switch (p.kind) {
    case 'imagine':
      yield* inference.generate(
        {
          prompt: p.prompt,
          count: p.count,
          seed: seedOf(p.seed),
          temperature: p.temperature,
          steps: p.steps,
          previews,
        },
        options,
      );
      return;
    case 'edit':
      yield* inference.edit(
        {
          image: input(0),
          instruction: p.instruction,
          count: p.count,
          seed: seedOf(p.seed),
          temperature: p.temperature,
          steps: p.steps,
          previews,
        },
        options,
      );
      return;
    case 'blend':
      yield* inference.blend(
        { imageA: input(0), imageB: input(1), amount: p.amount, seed: seedOf(p.seed), previews },
        options,
      );
      return;
    case 'reveal': {
      const tokens = p.tokens?.length ? p.tokens : await inference.encode({ image: input(0) }, options);
      yield* inference.decode({ tokens, reveal: true }, options);
      return;
    }
    case 'variation':
      yield* inference.decode(
        { tokens: p.tokens, keep: p.keep, seed: seedOf(p.seed), steps: p.steps },
        options,
      );
      return;
    case 'chat':
      throw new UserError('A chat answer cannot be run again; reply to it to continue the conversation.');
  }
}
