/** The CLI against a real server on port 0 backed by the fake runtime: in-process, and once as a process. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../inference/cli/main.js';
import { FakeRuntime } from '../server/fake-runtime.js';
import { startTestServer, type TestServer } from '../server/helpers.js';
import { solidPng } from '../server/images.js';

describe('inference CLI', () => {
  let t: TestServer;
  let dir: string;
  let env: Record<string, string>;
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  beforeAll(async () => {
    t = await startTestServer(new Map([['fake', new FakeRuntime()]]), { INFERENCE_TOKEN: 'cli-token' });
    dir = await mkdtemp(join(tmpdir(), 'ddt-cli-'));
    env = { INFERENCE_ADDRESS: `127.0.0.1:${t.server.port}`, INFERENCE_TOKEN: 'cli-token' };
    await writeFile(join(dir, 'red.png'), await solidPng(50, 40, { r: 255, g: 0, b: 0 }));
  });
  afterAll(async () => {
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('imagine writes a PNG and prints its seed', async () => {
    const out = join(dir, 'circles.png');
    const r = await run('imagine', 'two', 'red', 'circles', '-o', out, '--seed', '9');
    expect(r.code).toBe(0);
    expect(r.out).toContain('seed=9');
    expect(await sharp(await readFile(out)).metadata()).toMatchObject({
      format: 'png',
      width: 32,
      height: 32,
    });
  });

  it('imagine -n 2 writes numbered files', async () => {
    const r = await run('imagine', 'squares', '-n', '2', '-o', join(dir, 'sq.webp'));
    expect(r.code).toBe(0);
    expect((await sharp(await readFile(join(dir, 'sq-2.webp'))).metadata()).format).toBe('webp');
  });

  it("edit writes the edited image and prints the model's plan when it sent one", async () => {
    const out = join(dir, 'edited.png');
    const r = await run('edit', join(dir, 'red.png'), 'make', 'it', 'blue', '-o', out);
    expect(r.code).toBe(0);
    expect(r.out).toContain('plan: after make it blue'); // the fake runtime plans its edits
    expect((await sharp(await readFile(out)).metadata()).format).toBe('png');
    const imagined = await run('imagine', 'two', 'red', 'circles', '-o', join(dir, 'c2.png'));
    expect(imagined.out).not.toContain('plan:'); // and not its generations
  });

  it('caption prints a caption of the given image', async () => {
    const r = await run('caption', join(dir, 'red.png'));
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain('255,0,0');
  });

  it('ask prints the answer, and the caption it was read off when the model sent one', async () => {
    const read = await run('ask', join(dir, 'red.png'), 'read', 'it:', 'what', 'colour?');
    expect(read).toMatchObject({ code: 0 });
    expect(read.out.split('\n')).toEqual([
      'answer to "read it: what colour?": 255,0,0',
      'caption: a caption of 255,0,0', // the fake runtime reads "read ..." questions off a caption
    ]);
    const direct = await run('ask', join(dir, 'red.png'), 'what', 'colour?');
    expect(direct.out).toBe('answer to "what colour?": 255,0,0');
  });

  it('reveal writes an animated WebP, or a GIF by extension', async () => {
    const webp = join(dir, 'reveal.webp');
    expect((await run('reveal', join(dir, 'red.png'), '-o', webp)).code).toBe(0);
    expect(await sharp(await readFile(webp), { animated: true }).metadata()).toMatchObject({
      format: 'webp',
      pages: 16,
    });
    const gif = join(dir, 'reveal.gif');
    expect((await run('reveal', join(dir, 'red.png'), '-o', gif)).code).toBe(0);
    expect(await sharp(await readFile(gif), { animated: true }).metadata()).toMatchObject({
      format: 'gif',
      pages: 16,
    });
  });

  it('prints the status and message of a refused request and exits 1', async () => {
    await writeFile(join(dir, 'fake.png'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    const r = await run('caption', join(dir, 'fake.png'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/INVALID_ARGUMENT: image is SVG/);
  });

  it('refuses a wrong token with UNAUTHENTICATED', async () => {
    env = { ...env, INFERENCE_TOKEN: 'wrong' };
    const r = await run('info');
    env = { ...env, INFERENCE_TOKEN: 'cli-token' };
    expect(r).toMatchObject({ code: 1 });
    expect(r.err).toContain('UNAUTHENTICATED');
  });

  it('runs as `npm run cli` does (tsx inference/cli/main.ts)', async () => {
    const out = join(dir, 'proc.png');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'inference/cli/main.ts', 'imagine', 'a blue square', '-o', out],
      { env: { ...process.env, ...env } },
    );
    expect(stdout).toContain(out);
    expect((await sharp(await readFile(out)).metadata()).format).toBe('png');
  });
});
