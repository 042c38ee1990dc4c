/** manifest.json of a model package (docs/model-package.md, format_version 1), validated with zod. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelPackageError } from './errors.js';

const rgb = z.tuple([z.number(), z.number(), z.number()]);
const positiveInt = z.number().int().positive();
const tokenId = z.number().int().nonnegative();

const graphSpec = z.object({
  file: z.string().min(1),
  inputs: z.record(z.string(), z.string()),
  outputs: z.record(z.string(), z.string()),
});

const llmGraphSpec = graphSpec.extend({
  num_layers: positiveInt,
  num_kv_heads: positiveInt,
  head_dim: positiveInt,
  /**
   * append (default, the Hugging Face convention): present.{i} is the whole cache, past plus new tokens.
   * buffer: past.{i} is a buffer of slots that the attention mask marks (the runtime keeps free slots at
   * its end, masked) and present.{i} holds the new tokens only, which the runtime writes into the buffer.
   */
  kv_cache: z.enum(['append', 'buffer']).default('append'),
  inputs: z.object({
    input_ids: z.string(),
    attention_mask: z.string(),
    position_ids: z.string(),
    past_key: z.string().includes('{i}'),
    past_value: z.string().includes('{i}'),
  }),
  outputs: z.object({
    logits: z.string(),
    present_key: z.string().includes('{i}'),
    present_value: z.string().includes('{i}'),
  }),
});

const encoderSpec = graphSpec.extend({
  inputs: z.object({ pixels: z.string() }),
  outputs: z.object({ codes: z.string() }),
});

const denoiserSpec = graphSpec.extend({
  inputs: z.object({ x_t: z.string(), t: z.string(), codes: z.string(), mask: z.string() }),
  outputs: z.object({ x0: z.string() }),
});

const rendererSpec = graphSpec.extend({
  inputs: z.object({ codes: z.string(), mask: z.string() }),
  outputs: z.object({ x0: z.string() }),
});

const vaeEncoderSpec = graphSpec.extend({
  inputs: z.object({ pixels: z.string() }),
  outputs: z.object({ latent: z.string() }),
});

const vaeDecoderSpec = graphSpec.extend({
  inputs: z.object({ latent: z.string() }),
  outputs: z.object({ pixels: z.string() }),
});

export const manifestSchema = z.object({
  format: z.literal('ddt-model-package'),
  format_version: z.literal(1),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i),
  description: z.string().default(''),
  capabilities: z.array(z.string()),
  dtype: z.enum(['float32', 'float16']),
  image: z.object({
    size: positiveInt,
    mean: rgb,
    std: rgb,
    background: z.enum(['normalize_white', 'none']),
  }),
  latent: z
    .object({ channels: positiveInt, size: positiveInt, shift: z.number(), scale: z.number() })
    .nullable()
    .default(null),
  tokens: z.object({
    per_image: positiveInt,
    codebook_size: positiveInt,
    order: z.enum(['coarse_to_fine', 'code_order']),
  }),
  schedule: z.object({
    type: z.literal('piecewise_linear'),
    knots: z.array(z.tuple([z.number().min(0).max(1), z.number()])).min(2),
  }),
  sampler: z.object({
    type: z.literal('rectified_flow_x0'),
    steps: positiveInt,
    min_steps: positiveInt,
    max_steps: positiveInt,
    // true: decode with the one-step renderer unless a request asks for steps >= 1 (needs graphs.renderer)
    use_renderer: z.boolean().default(false),
  }),
  vocab: z.object({
    size: positiveInt,
    text_size: positiveInt,
    visual_offset: tokenId,
    special: z.object({
      pad: tokenId,
      bos: tokenId,
      end: tokenId,
      unk: tokenId,
      boi: tokenId,
      eoi: tokenId,
      user: tokenId,
      assistant: tokenId,
    }),
  }),
  prompting: z.object({
    caption_instruction: z.string().min(1),
    /** The inverse of text-to-image (image in, a prompt that draws it out); needed by image_candidates. */
    prompt_instruction: z.string().min(1).optional(),
    /** Planned text-to-image: the request that asks for a prompt's layout, with "{prompt}" in it. */
    plan_template: z.string().includes('{prompt}').optional(),
    /**
     * Planned edits: the question that asks for the edited image's caption, with "{instruction}" in it; with
     * "{caption}" too, the image is captioned first and the question is asked in text alone (plans.ts).
     */
    edit_plan_template: z.string().includes('{instruction}').optional(),
    /**
     * Answers by caption: the question asked after the image's caption, with "{question}" in it; with
     * "{caption}", the image is captioned first and the question is asked in text alone (plans.ts).
     */
    answer_template: z.string().includes('{question}').optional(),
    max_prompt_tokens: positiveInt,
    max_sequence: positiveInt,
  }),
  generation: z.object({
    temperature: z.number().nonnegative(),
    top_k: z.number().int().nonnegative(),
    top_p: z.number().gt(0).max(1),
    guidance_scale: z.number(),
    text_temperature: z.number().nonnegative(),
    max_new_text_tokens: positiveInt,
    /** Captions by self-reranking: sampled candidates besides the greedy one (0 = the greedy caption). */
    caption_candidates: z.number().int().min(0).max(64).default(0),
    caption_candidate_temperature: z.number().positive().default(1),
    /** Weight of log p(caption | image) added to a caption candidate's log p(image | caption). */
    caption_likelihood_weight: z.number().nonnegative().default(0),
    /**
     * Caption refinement (caption-refine.ts): up to `rounds` rounds of swapping one phrase of the chosen
     * caption for another of its class while the caption's score rises.
     */
    caption_refine: z
      .object({
        rounds: positiveInt.max(16),
        phrases: z.array(z.array(z.string().min(1)).min(2)).min(1),
      })
      .nullable()
      .default(null),
    /** Images by self-reranking: sampled candidates per generated image besides its own (0 = none). */
    image_candidates: z.number().int().min(0).max(64).default(0),
    image_candidate_temperature: z.number().positive().default(0.7),
    /** Weight of log p(image | prompt) added to a candidate's log p(prompt | image). */
    image_candidate_forward_weight: z.number().nonnegative().default(0),
    /** Score each candidate by the codes its decoded image encodes back to (every distinct candidate decoded). */
    image_candidate_round_trip: z.boolean().default(false),
    /** The round trip for images drawn from a caption (planned Edits) alone; null: as image_candidate_round_trip. */
    edit_image_candidate_round_trip: z.boolean().nullable().default(null),
    /** Images drawn from a caption (planned Edits): weight of log p(caption | image) asked as its caption. */
    image_candidate_caption_weight: z.number().nonnegative().default(0),
    /**
     * Planned Edits with the round trip: weight of minus the mean absolute difference (0-255) between each
     * candidate's image and the source image (background normalised as the encoder's input is).
     */
    edit_image_candidate_source_weight: z.number().nonnegative().default(0),
  }),
  graphs: z.object({
    encoder: encoderSpec,
    denoiser: denoiserSpec,
    llm: llmGraphSpec,
    renderer: rendererSpec.nullable().default(null),
    vae_encoder: vaeEncoderSpec.nullable().default(null),
    vae_decoder: vaeDecoderSpec.nullable().default(null),
  }),
  tokenizer: z.string().min(1),
  training: z.unknown().optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type GraphName = keyof Manifest['graphs'];
export type OptionalGraph = 'renderer' | 'vae_encoder' | 'vae_decoder';

/** Shape [C, h, w] of what the denoiser and renderer work on: the normalised latent, or model pixels. */
export function sampleShape(m: Manifest): [number, number, number] {
  return m.latent ? [m.latent.channels, m.latent.size, m.latent.size] : [3, m.image.size, m.image.size];
}

/** Reads and validates `<dir>/manifest.json` (schema and internal consistency). */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = join(dir, 'manifest.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ModelPackageError(file, `cannot read JSON: ${(err as Error).message}`);
  }
  return parseManifest(raw, file);
}

/** Validates a parsed manifest; `file` names it in errors. */
export function parseManifest(raw: unknown, file: string): Manifest {
  const head = raw as { format?: unknown; format_version?: unknown } | null;
  if (typeof head !== 'object' || head === null || head.format !== 'ddt-model-package') {
    throw new ModelPackageError(file, `not a model package: format must be "ddt-model-package"`);
  }
  if (head.format_version !== 1) {
    throw new ModelPackageError(
      file,
      `unknown version: format_version ${JSON.stringify(head.format_version)} (this runtime reads 1)`,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ModelPackageError(file, `invalid manifest: ${issues.join('; ')}`);
  }
  checkConsistency(parsed.data, file);
  return parsed.data;
}

function checkConsistency(m: Manifest, file: string): void {
  const fail = (problem: string): never => {
    throw new ModelPackageError(file, problem);
  };
  const { vocab, tokens, schedule, sampler } = m;
  if (vocab.size !== vocab.text_size + tokens.codebook_size) {
    fail(`vocab.size ${vocab.size} != text_size ${vocab.text_size} + codebook_size ${tokens.codebook_size}`);
  }
  if (vocab.visual_offset < vocab.text_size || vocab.visual_offset + tokens.codebook_size > vocab.size) {
    fail(`vocab.visual_offset ${vocab.visual_offset}: visual ids must lie in [text_size, size)`);
  }
  for (const [name, id] of Object.entries(vocab.special)) {
    if (id >= vocab.text_size) fail(`vocab.special.${name} = ${id} is not a text id (< ${vocab.text_size})`);
  }
  const ids = Object.values(vocab.special);
  if (new Set(ids).size !== ids.length) fail('vocab.special ids must be distinct');
  const knots = schedule.knots;
  for (let i = 1; i < knots.length; i++) {
    if (knots[i]![0] <= knots[i - 1]![0]) fail('schedule.knots must have strictly increasing t');
  }
  if (knots[0]![0] !== 0 || knots.at(-1)![0] !== 1) fail('schedule.knots must span t = 0 .. 1');
  if (sampler.min_steps > sampler.steps || sampler.steps > sampler.max_steps) {
    fail('sampler: need min_steps <= steps <= max_steps');
  }
  const vae = [m.graphs.vae_encoder, m.graphs.vae_decoder].filter((g) => g !== null).length;
  if (m.latent !== null && vae !== 2)
    fail('latent is set: graphs.vae_encoder and graphs.vae_decoder are required');
  if (m.latent === null && vae !== 0)
    fail('graphs.vae_encoder/vae_decoder need "latent" (channels, size, shift, scale)');
  if (m.latent !== null && m.latent.scale === 0) fail('latent.scale must be non-zero');
  if (sampler.use_renderer && m.graphs.renderer === null) fail('sampler.use_renderer needs graphs.renderer');
  if (m.image.std.some((s) => s === 0)) fail('image.std must be non-zero');
  if (m.generation.image_candidates > 0 && m.prompting.prompt_instruction === undefined) {
    fail('generation.image_candidates needs prompting.prompt_instruction (how candidates are scored)');
  }
}
