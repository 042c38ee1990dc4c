/**
 * `npm start` (scripts/start.ts) as a newcomer runs it: without DISCORD_TOKEN it starts the inference
 * server on the bundled model, the local Discord and the bot, prints the page's address, and /imagine
 * typed on that page gets an image back. Bad configurations stop it at once with a message.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkModelPackages, localAddressOf, StartError } from '../../scripts/start/preflight.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function runStart(env: Record<string, string>, args: string[] = []): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', ...args], {
    cwd: ROOT,
    // No DISCORD_TOKEN: the local mode (an empty value counts as unset, and a .env file cannot override it).
    env: { ...process.env, DISCORD_TOKEN: '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (d) => {
    text += d;
  });
  child.stderr.on('data', (d) => {
    text += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

async function waitForOutput(run: Run, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = run.output().match(pattern);
    if (m) return m;
    if (run.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${pattern} in output:\n${run.output()}`);
}

describe('preflight checks', () => {
  it('names a missing model directory, an empty one and weights that are Git LFS pointers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'models-'));
    expect(() => checkModelPackages(join(dir, 'nope'))).toThrow(
      /missing model package: MODELS_DIR .* is not a directory/,
    );
    expect(() => checkModelPackages(dir)).toThrow(/no <name>\/manifest.json/);
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'manifest.json'), '{}');
    writeFileSync(join(dir, 'm', 'llm.onnx'), 'version https://git-lfs.github.com/spec/v1\noid sha256:00\n');
    expect(() => checkModelPackages(dir)).toThrow(StartError);
    expect(() => checkModelPackages(dir)).toThrow(/llm.onnx has no weights/);
    expect(checkModelPackages(join(ROOT, 'models'))).toContain('shapes-ddt-small');
  });

  it('connects locally to a server that listens on every interface', () => {
    expect(localAddressOf('0.0.0.0:50051')).toBe('127.0.0.1:50051');
    expect(localAddressOf('[::]:50051')).toBe('[::1]:50051');
    expect(localAddressOf('10.0.0.5:7000')).toBe('10.0.0.5:7000');
  });
});

describe('npm start', () => {
  const runs: Run[] = [];
  afterAll(async () => {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });

  it('stops at once, naming the problem, when the model package is missing', async () => {
    const run = runStart({ MODELS_DIR: join(tmpdir(), 'no-such-models-dir') });
    runs.push(run);
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(
      /error: missing model package: MODELS_DIR .*no-such-models-dir is not a directory/,
    );
  });

  it('stops at once on an invalid setting, naming the variable', async () => {
    const run = runStart({ INFERENCE_LISTEN: 'not-an-address' });
    runs.push(run);
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/INFERENCE_LISTEN: expected host:port/);
  });

  it('runs the system on the local Discord: the page answers /imagine with an image; Ctrl+C stops all', async () => {
    const [grpcPort, pagePort] = [await freePort(), await freePort()];
    const run = runStart({ INFERENCE_LISTEN: `127.0.0.1:${grpcPort}` }, ['--port', String(pagePort)]);
    runs.push(run);
    const [, pageUrl] = await waitForOutput(run, /Open {2}(http:\/\/\S+\/) {2}in your browser/, 150_000);
    expect(pageUrl).toBe(`http://127.0.0.1:${pagePort}/`);

    const api = `${pageUrl}app/api`;
    type Snapshot = {
      bot: { id: string };
      users: { id: string }[];
      channels: { id: string; type: number }[];
      messages: { author: { id: string }; attachments: { url: string; content_type?: string }[] }[];
      gatewayConnected: boolean;
    };
    const snapshot = async () => (await (await fetch(`${api}/state`)).json()) as Snapshot;
    const state = await snapshot();
    expect(state.gatewayConnected).toBe(true);
    const user = state.users[0]!.id;
    const channel = state.channels.find((c) => c.type === 0)!.id;
    const sent = await fetch(`${api}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, channel, text: '/imagine two red circles' }),
    });
    expect(sent.status).toBe(200);

    let imageUrl: string | undefined;
    for (let i = 0; i < 120 && !imageUrl; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const s = await snapshot();
      imageUrl = s.messages
        .filter((m) => m.author.id === s.bot.id)
        .flatMap((m) => m.attachments)
        .find((a) => a.content_type === 'image/png')?.url;
    }
    expect(imageUrl, run.output()).toBeDefined();
    const png = Buffer.from(await (await fetch(imageUrl!)).arrayBuffer());
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    // Everything it started is gone: the gRPC port and the page's port are free again.
    await expect(fetch(pageUrl!)).rejects.toThrow();
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(grpcPort, '127.0.0.1', () => resolve());
    });
    await new Promise((r) => probe.close(r));
  }, 200_000);
});
