/** The CLI's subcommands: each reads its arguments, calls the client, writes files, prints a summary. */
import { type CallOptions, collectImageResult, type InferenceClient } from '../client/client.js';
import type { ImageJobEvent, ImageResult, SamplingFields } from '../protocol/types.js';
import { type CliArgs, CliUsageError, numberOption } from './args.js';
import {
  animationFormatFor,
  numberedPaths,
  outputFormatFor,
  readImageFile,
  writeImageFile,
} from './files.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

type Command = (client: InferenceClient, args: CliArgs, io: CliIo, call: CallOptions) => Promise<void>;

function need(value: string | undefined, what: string): string {
  if (!value) throw new CliUsageError(`missing ${what}`);
  return value;
}

function samplingFrom(values: CliArgs['values']): SamplingFields {
  const f: SamplingFields = {};
  if (values.seed !== undefined) f.seed = values.seed;
  const map: [keyof SamplingFields, keyof CliArgs['values']][] = [
    ['guidance_scale', 'guidance'],
    ['temperature', 'temperature'],
    ['top_k', 'top-k'],
    ['top_p', 'top-p'],
    ['steps', 'steps'],
  ];
  for (const [field, option] of map) {
    const n = numberOption(values, option);
    if (n !== undefined) (f as Record<string, number>)[field] = n;
  }
  return f;
}

/** Prints queue position and progress to stderr on one updating line per stage. */
function progressPrinter(io: CliIo) {
  return (e: ImageJobEvent) => {
    if (e.event === 'queued') io.err(`queued: position ${e.queued.position} of ${e.queued.queue_length}`);
    if (e.event === 'progress') {
      const preview = e.progress.preview ? ` (preview ${e.progress.preview.data.length} bytes)` : '';
      io.err(`${e.progress.stage} ${Math.round(e.progress.fraction * 100)}%${preview}`);
    }
  };
}

async function writeResult(result: ImageResult, out: string, io: CliIo): Promise<void> {
  const paths = numberedPaths(out, result.images.length);
  for (const [i, img] of result.images.entries()) {
    await writeImageFile(paths[i]!, img.image);
    io.out(`${paths[i]}  seed=${img.seed}  tokens=${img.tokens.join(',')}`);
    if (img.reveal?.animation) {
      const ext = img.reveal.animation.mime_type === 'image/gif' ? '.gif' : '.webp';
      const revealPath = `${paths[i]!.replace(/\.[^./]+$/, '')}-reveal${ext}`;
      await writeImageFile(revealPath, img.reveal.animation);
      io.out(`${revealPath}  (${img.reveal.frames.length} frames)`);
    }
  }
}

const info: Command = async (client, _args, io, call) => {
  const res = await client.getModelInfo(call);
  const health = await client.checkHealth('', call).catch((err: Error) => `unknown (${err.message})`);
  io.out(
    `server ${res.server_version}, health ${health}, default model ${res.default_model}, max queue ${res.max_queue}`,
  );
  for (const m of res.models) {
    io.out(`- ${m.name}: ${m.description}`);
    io.out(`  capabilities: ${m.capabilities.join(', ')}`);
    io.out(
      `  image ${m.image_size}px, ${m.tokens_per_image} tokens/image (${m.token_order}), codebook ${m.codebook_size}`,
    );
    io.out(`  defaults: ${JSON.stringify(m.defaults)}, steps ${m.min_steps}-${m.max_steps}`);
  }
};

const caption: Command = async (client, { rest, values }, io, call) => {
  const image = await readImageFile(need(rest[0], 'image path'));
  io.out((await client.caption({ image, model: values.model }, call)).text);
};

const ask: Command = async (client, { rest, values }, io, call) => {
  const image = await readImageFile(need(rest[0], 'image path'));
  const question = need(rest.slice(1).join(' '), 'question');
  io.out((await client.ask({ image, question, model: values.model }, call)).answer);
};

const imagine: Command = async (client, { rest, values }, io, call) => {
  const prompt = need(rest.join(' '), 'prompt');
  const out = values.out ?? 'out.png';
  const events = client.generate(
    {
      prompt,
      num_images: numberOption(values, 'num') ?? 1,
      ...samplingFrom(values),
      previews: values.previews ?? false,
      reveal: values.reveal ?? false,
      model: values.model,
      output_format: outputFormatFor(out),
    },
    call,
  );
  await writeResult(await collectImageResult(events, progressPrinter(io)), out, io);
};

const edit: Command = async (client, { rest, values }, io, call) => {
  const image = await readImageFile(need(rest[0], 'image path'));
  const instruction = need(rest.slice(1).join(' '), 'instruction');
  const out = values.out ?? 'edited.png';
  const events = client.edit(
    {
      image,
      instruction,
      num_images: numberOption(values, 'num') ?? 1,
      ...samplingFrom(values),
      previews: values.previews ?? false,
      reveal: values.reveal ?? false,
      model: values.model,
      output_format: outputFormatFor(out),
    },
    call,
  );
  await writeResult(await collectImageResult(events, progressPrinter(io)), out, io);
};

const blend: Command = async (client, { rest, values }, io, call) => {
  const [a, b] = [need(rest[0], 'image_a path'), need(rest[1], 'image_b path')];
  const out = values.out ?? 'blend.png';
  const events = client.blend(
    {
      image_a: await readImageFile(a),
      image_b: await readImageFile(b),
      amount: numberOption(values, 'amount') ?? 0.5,
      from_index: numberOption(values, 'from') ?? 0,
      to_index: numberOption(values, 'to') ?? 0,
      seed: values.seed,
      steps: numberOption(values, 'steps'),
      reveal: values.reveal ?? false,
      model: values.model,
      output_format: outputFormatFor(out),
    },
    call,
  );
  await writeResult(await collectImageResult(events, progressPrinter(io)), out, io);
};

const encode: Command = async (client, { rest, values }, io, call) => {
  const image = await readImageFile(need(rest[0], 'image path'));
  const res = await client.encode({ image, model: values.model }, call);
  io.out(res.tokens.join(','));
};

/** Encodes the image (unless --tokens is given), then decodes it with reveal frames. */
const reveal: Command = async (client, { rest, values }, io, call) => {
  const out = values.out ?? 'reveal.webp';
  const tokens = values.tokens
    ? values.tokens.split(',').map((t) => Number(t.trim()))
    : (
        await client.encode(
          { image: await readImageFile(need(rest[0], 'image path or --tokens')), model: values.model },
          call,
        )
      ).tokens;
  const events = client.decode(
    {
      tokens,
      reveal: true,
      seed: values.seed,
      steps: numberOption(values, 'steps'),
      model: values.model,
      animation_format: animationFormatFor(out),
    },
    call,
  );
  const result = await collectImageResult(events, progressPrinter(io));
  const r = result.images[0]?.reveal;
  await writeImageFile(out, r?.animation);
  io.out(`${out}  (${r?.frames.length ?? 0} frames, tokens kept ${r?.tokens_kept.join(',')})`);
};

export const COMMANDS: Readonly<Record<string, Command>> = {
  info,
  caption,
  ask,
  imagine,
  edit,
  blend,
  encode,
  reveal,
};
