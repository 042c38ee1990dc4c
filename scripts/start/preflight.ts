/**
 * Checks `npm start` makes before and while starting the system, each failing with a message that
 * says what to do: the model packages are there, the gRPC port is free, the inference server answers.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInferenceClient, type InferenceClientOptions } from '../../inference/client/client.js';

/** A problem the person starting the system must fix; printed without a stack trace. */
export class StartError extends Error {
  override name = 'StartError';
}

const LFS_POINTER = 'version https://git-lfs';

function startsWith(path: string, prefix: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(prefix.length);
    return readSync(fd, buf, 0, buf.length, 0) === buf.length && buf.toString('latin1') === prefix;
  } finally {
    closeSync(fd);
  }
}

/**
 * The model directory holds at least one package (a folder with manifest.json), and no ONNX file is
 * missing its weights (a Git LFS pointer or an empty file). The server validates each package fully.
 */
export function checkModelPackages(modelsDir: string): string[] {
  const hint =
    'The bundled model is models/shapes-ddt-small (restore it with `git checkout -- models`) or set MODELS_DIR';
  if (!existsSync(modelsDir) || !statSync(modelsDir).isDirectory()) {
    throw new StartError(`missing model package: MODELS_DIR ${modelsDir} is not a directory. ${hint}.`);
  }
  const packages = readdirSync(modelsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(modelsDir, d.name, 'manifest.json')))
    .map((d) => d.name);
  if (packages.length === 0) {
    throw new StartError(
      `missing model package: no <name>/manifest.json in ${modelsDir}. ${hint}; to make one see README "The model".`,
    );
  }
  for (const name of packages) {
    for (const file of readdirSync(join(modelsDir, name)).filter((f) => f.endsWith('.onnx'))) {
      const path = join(modelsDir, name, file);
      if (statSync(path).size === 0 || startsWith(path, LFS_POINTER)) {
        throw new StartError(`model package ${name}: ${path} has no weights (empty or a Git LFS pointer).`);
      }
    }
  }
  return packages;
}

/** "host:port" -> parts; "[::1]:50051" keeps the brackets off the host. */
export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(i + 1)) };
}

/** Where a client on this machine reaches a server listening on `listen` (0.0.0.0 -> 127.0.0.1). */
export function localAddressOf(listen: string): string {
  const { host, port } = splitHostPort(listen);
  if (host === '0.0.0.0' || host === '') return `127.0.0.1:${port}`;
  if (host === '::') return `[::1]:${port}`;
  return listen;
}

/** Fails when something already accepts connections on `address` (an earlier `npm start`?). */
export async function checkPortFree(address: string, what: string, fix: string): Promise<void> {
  const { host, port } = splitHostPort(address);
  const inUse = await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1000);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
  if (inUse) throw new StartError(`${what}: ${address} is already in use. ${fix}`);
}

export interface WaitOptions {
  timeoutMs: number;
  /** Resolves when the process serving `address` has died: stop waiting at once. */
  exited?: Promise<unknown>;
  /** Called once per status change, e.g. to print "loading models". */
  onStatus?: (status: string) => void;
}

/**
 * Polls grpc.health.v1 for `ddt.v1.Inference` until SERVING. NOT_SERVING means the models are still
 * loading; connection errors are retried until the timeout, then reported with the last error.
 */
export async function waitForServing(client: InferenceClientOptions, options: WaitOptions): Promise<void> {
  const inference = createInferenceClient(client);
  const deadline = Date.now() + options.timeoutMs;
  let died = false;
  void options.exited?.then(() => {
    died = true;
  });
  let last = '';
  try {
    while (!died) {
      let status: string;
      try {
        status = await inference.checkHealth('ddt.v1.Inference', { timeoutMs: 2000 });
      } catch (err) {
        status = `unreachable (${(err as Error).message})`;
      }
      if (status === 'SERVING') return;
      if (status !== last) options.onStatus?.(status);
      last = status;
      if (Date.now() >= deadline) {
        throw new StartError(
          `the inference server at ${client.address} is not serving after ${Math.round(options.timeoutMs / 1000)} s: ${last}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new StartError(`the inference server stopped before it was ready; see the [inference] lines above`);
  } finally {
    inference.close();
  }
}

export interface InferenceTarget {
  addresses: readonly string[];
  token?: string;
  tls?: { caPath?: string };
}

/**
 * Waits up to `timeoutMs` for every server in `target` to serve; warns about those that do not and
 * fails only when none does (the bot round-robins over the healthy ones).
 */
export async function checkInferenceServers(
  target: InferenceTarget,
  timeoutMs: number,
  say: (line: string) => void,
): Promise<void> {
  const { addresses, token, tls } = target;
  const results = await Promise.allSettled(
    addresses.map((address) => waitForServing({ address, token, tls }, { timeoutMs })),
  );
  results.forEach((r, i) => {
    if (r.status === 'rejected') say(`warning: ${(r.reason as Error).message}`);
    else say(`inference server ${addresses[i]} is SERVING`);
  });
  if (results.every((r) => r.status === 'rejected')) {
    throw new StartError(
      `no inference server in INFERENCE_ADDRESS (${addresses.join(', ')}) is reachable and serving. ` +
        'Start one (`npm run start:inference`), or fix INFERENCE_ADDRESS / INFERENCE_TOKEN / INFERENCE_TLS.',
    );
  }
}
