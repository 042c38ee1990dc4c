/**
 * `inference/main.ts` as a process: a broken model package stops start-up with the file named and a
 * non-zero exit; a good one reaches SERVING and SIGTERM shuts down cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceClient } from '../../../inference/client/client.js';
import { findModelsDir } from './model-dir.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const found = findModelsDir();

function startMain(env: Record<string, string>): {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'inference/main.ts'], {
    cwd: repo,
    env: {
      ...process.env,
      INFERENCE_LISTEN: '127.0.0.1:0',
      METRICS_LISTEN: '',
      INFERENCE_TOKEN: '',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => err, exit };
}

describe.skipIf(!found)('inference/main.ts start-up', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ddt-main-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  const copyPackage = async (name: string) => {
    const dir = join(work, name);
    await cp(join(found!.dir, found!.pkg), join(dir, found!.pkg), { recursive: true });
    return dir;
  };

  it('exits non-zero naming manifest.json when it is corrupt', async () => {
    const dir = await copyPackage('bad-manifest');
    await writeFile(join(dir, found!.pkg, 'manifest.json'), '{ "format": "ddt-model-package", ');
    const run = startMain({ MODELS_DIR: dir });
    expect(await run.exit).not.toBe(0);
    expect(run.stderr()).toMatch(/error: invalid model package .*manifest\.json/);
  });

  it('exits non-zero naming the ONNX file when a graph is corrupt', async () => {
    const dir = await copyPackage('bad-graph');
    await writeFile(join(dir, found!.pkg, 'encoder.onnx'), Buffer.from('not an onnx graph'));
    const run = startMain({ MODELS_DIR: dir });
    expect(await run.exit).not.toBe(0);
    expect(run.stderr()).toMatch(/error: invalid model package .*encoder\.onnx/);
  });

  it('exits non-zero with the variable named when the configuration is invalid', async () => {
    const run = startMain({ EXECUTION_PROVIDER: 'tpu' });
    expect(await run.exit).not.toBe(0);
    expect(run.stderr()).toMatch(/EXECUTION_PROVIDER/);
  });

  it('serves a good package, then shuts down on SIGTERM with exit 0', async () => {
    const run = startMain({ MODELS_DIR: found!.dir });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /"msg":"listening".*?"port":(\d+)/.exec(run.stderr());
        if (m) {
          clearInterval(timer);
          resolve(Number(m[1]));
        }
      }, 50);
      run.exit.then(() => reject(new Error(`exited early: ${run.stderr()}`)));
    });
    const client = createInferenceClient({ address: `127.0.0.1:${port}` });
    try {
      let status = await client.checkHealth('');
      for (let i = 0; i < 200 && status !== 'SERVING'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = await client.checkHealth('');
      }
      expect(status).toBe('SERVING');
      expect((await client.getModelInfo()).models.length).toBeGreaterThan(0);
    } finally {
      client.close();
      run.child.kill('SIGTERM');
    }
    expect(await run.exit).toBe(0);
    expect(run.stderr()).toContain('"msg":"stopped"');
  });
});
