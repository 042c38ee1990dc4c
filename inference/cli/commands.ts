/** The CLI's subcommands: each reads its arguments, calls the client, writes files, prints a summary. */
import { type CallOptions, collectImageResult, type InferenceClient } from '../client/client.js';
import { type CliArgs, numberOption } from './args.js';
import { animationFormatFor, outputFormatFor, readImageFile, writeImageFile } from './files.js';
import { progressPrinter, saveImageResult } from './image-results.js';
import { imageJobFields, need, readImageArg } from './request-fields.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

type Command = (client: InferenceClient, args: CliArgs, io: CliIo, call: CallOptions) => Promise<void>;

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
  const image = await readImageArg(rest[0]);
  io.out((await client.caption({ image, model: values.model }, call)).text);
};

const ask: Command = async (client, { rest, values }, io, call) => {
  const image = await readImageArg(rest[0]);
  const question = need(rest.slice(1).join(' '), 'question');
  const reply = await client.ask({ image, question, model: values.model }, call);
  io.out(reply.answer);
  if (reply.caption) io.out(`caption: ${reply.caption}`);
};

const imagine: Command = async (client, { rest, values }, io, call) => {
  const prompt = need(rest.join(' '), 'prompt');
  const out = values.out ?? 'out.png';
  await saveImageResult(client.generate({ prompt, ...imageJobFields(values, out) }, call), out, io);
};

const edit: Command = async (client, { rest, values }, io, call) => {
  const image = await readImageArg(rest[0]);
  const instruction = need(rest.slice(1).join(' '), 'instruction');
  const out = values.out ?? 'edited.png';
  const request = { image, instruction, ...imageJobFields(values, out) };
  await saveImageResult(client.edit(request, call), out, io);
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
  await saveImageResult(events, out, io);
};

const encode: Command = async (client, { rest, values }, io, call) => {
  const image = await readImageArg(rest[0]);
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
          { image: await readImageArg(rest[0], 'image path or --tokens'), model: values.model },
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
