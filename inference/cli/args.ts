/** Command-line parsing for the inference CLI (node:util parseArgs; no extra dependency). */
import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run cli -- <command> [options]

commands:
  info                                  models, defaults, limits and health
  caption <image>                       describe an image
  ask <image> <question...>             answer a question about an image
  imagine <prompt...> [-o out.png]      generate images (-n 1-4)
  edit <image> <instruction...> [-o out.png]
  blend <image_a> <image_b> [--amount 0.5 | --from I --to J] [-o out.png]
  encode <image>                        print the image's DDT token ids
  reveal <image> [-o reveal.webp|.gif]  animate decoding 1..K coarsest tokens (or --tokens 1,2,...)

options:
  -o, --out PATH        output file (.png/.webp; .gif/.webp for reveal)
  -n, --num N           images to generate (1-4)
  --seed N --guidance G --temperature T --top-k K --top-p P --steps S
  --model NAME          model to use (default: the server's default)
  --reveal              imagine/edit: also write <out>-reveal.webp
  --previews            print preview sizes with progress
  --timeout SECONDS     deadline for the call
env: INFERENCE_ADDRESS (default 127.0.0.1:50051), INFERENCE_TOKEN, INFERENCE_TLS, INFERENCE_TLS_CA`;

export function parseCliArgs(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      num: { type: 'string', short: 'n' },
      seed: { type: 'string' },
      guidance: { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      steps: { type: 'string' },
      model: { type: 'string' },
      amount: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      tokens: { type: 'string' },
      reveal: { type: 'boolean' },
      previews: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  return { command, rest, values };
}

export type CliArgs = ReturnType<typeof parseCliArgs>;

/** A number option, or undefined when absent; throws a readable error when not a number. */
export function numberOption(values: CliArgs['values'], name: keyof CliArgs['values']): number | undefined {
  const raw = values[name];
  if (raw === undefined || typeof raw === 'boolean') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new CliUsageError(`--${name} must be a number; got ${raw}`);
  return n;
}

export class CliUsageError extends Error {
  override name = 'CliUsageError';
}
