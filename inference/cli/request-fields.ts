/** Request fields the CLI's subcommands build the same way from their arguments. */
import type { Image, SamplingFields } from '../protocol/types.js';
import { type CliArgs, CliUsageError, numberOption } from './args.js';
import { outputFormatFor, readImageFile } from './files.js';

export function need(value: string | undefined, what: string): string {
  if (!value) throw new CliUsageError(`missing ${what}`);
  return value;
}

/** Reads the image named by a positional argument. */
export function readImageArg(path: string | undefined, what = 'image path'): Promise<Image> {
  return readImageFile(need(path, what));
}

export function samplingFrom(values: CliArgs['values']): SamplingFields {
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

/** Count, sampling, previews, reveal, model and output format of a Generate or Edit request. */
export function imageJobFields(values: CliArgs['values'], out: string) {
  return {
    num_images: numberOption(values, 'num') ?? 1,
    ...samplingFrom(values),
    previews: values.previews ?? false,
    reveal: values.reveal ?? false,
    model: values.model,
    output_format: outputFormatFor(out),
  };
}
