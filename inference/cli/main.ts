/**
 * `npm run cli -- <command>`: a user tool and the quickest smoke test of a running inference server.
 * One error boundary: gRPC errors print their status name and message; usage errors print the usage.
 */
import { pathToFileURL } from 'node:url';
import { status } from '@grpc/grpc-js';
import { createInferenceClient } from '../client/client.js';
import { ConfigError, loadClientConfig } from '../config.js';
import { CliUsageError, parseCliArgs, USAGE } from './args.js';
import { type CliIo, COMMANDS } from './commands.js';

/** Runs one CLI invocation; returns the process exit code. */
export async function runCli(
  argv: string[],
  io: CliIo,
  env?: Record<string, string | undefined>,
): Promise<number> {
  let client: ReturnType<typeof createInferenceClient> | undefined;
  try {
    const args = parseCliArgs(argv);
    const command = args.command ? COMMANDS[args.command] : undefined;
    if (args.values.help || !command) {
      io.err(USAGE);
      return args.values.help ? 0 : 2;
    }
    const config = loadClientConfig(env);
    client = createInferenceClient({ address: config.address, token: config.token, tls: config.tls });
    const timeout = Number(args.values.timeout ?? 0);
    await command(client, args, io, timeout > 0 ? { timeoutMs: timeout * 1000 } : {});
    return 0;
  } catch (err) {
    const e = err as Error & { code?: number; details?: string };
    if (
      err instanceof CliUsageError ||
      err instanceof ConfigError ||
      (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    ) {
      io.err(`error: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (typeof e.code === 'number')
      io.err(`error: ${status[e.code] ?? `status ${e.code}`}: ${e.details ?? e.message}`);
    else io.err(`error: ${e.message}`);
    return 1;
  } finally {
    client?.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await runCli(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
  process.exitCode = code;
}
