/**
 * Client of training/bench_reference.py: the PyTorch reference pipeline in a Python subprocess, driven
 * over stdin/stdout JSON lines, one request at a time (so it never overlaps the TypeScript runs).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RgbImage } from '../../inference/runtime/api.js';

export interface ReferenceReady {
  preset: string;
  torch: string;
  threads: number;
  exported: string | null;
  image_size: number;
  tokens_per_image: number;
  caption_instruction: string;
  sampler_steps: number;
  guidance_scale: number;
  images: string[]; // base64 RGB
}

export interface ReferenceTiming {
  seconds: number[]; // per repeat, measured inside Python
  stages: Record<string, number>; // mean seconds per repeat
  calls: Record<string, number>; // mean calls per repeat
  tokens?: number[][];
  text?: string[];
}

export interface ReferenceOptions {
  repoRoot: string;
  python: string;
  run: string; // run directory or 'random'
  preset: string;
  threads: number;
  exportTo?: string;
  startTimeoutMs?: number;
}

export class Reference {
  private readonly waiters: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] =
    [];
  private readonly stderr: string[] = [];
  private exited: Error | undefined;
  ready!: ReferenceReady;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return; // stray prints from libraries
      const msg = JSON.parse(line) as Record<string, unknown>;
      this.waiters.shift()?.resolve(msg);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.stderr.push(line);
      if (this.stderr.length > 40) this.stderr.shift();
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(
        `reference process exited (${code ?? signal}):\n${this.stderr.slice(-15).join('\n')}`,
      );
      for (const w of this.waiters.splice(0)) w.reject(this.exited);
    });
  }

  static async start(opts: ReferenceOptions): Promise<Reference> {
    const args = [
      join(opts.repoRoot, 'training', 'bench_reference.py'),
      'serve',
      '--run',
      opts.run,
      '--preset',
      opts.preset,
      '--threads',
      String(opts.threads),
      ...(opts.exportTo ? ['--export', opts.exportTo] : []),
    ];
    const child = spawn(opts.python, args, {
      cwd: opts.repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    const ref = new Reference(child);
    const ready = await withTimeout(ref.next(), opts.startTimeoutMs ?? 180_000, 'reference start-up');
    if (ready.ok !== true) throw new Error(`reference failed to start: ${String(ready.error)}`);
    ref.ready = ready as unknown as ReferenceReady;
    return ref;
  }

  /** The fixed input pictures, as runtime images. */
  images(): RgbImage[] {
    const s = this.ready.image_size;
    return this.ready.images.map((b64) => ({
      width: s,
      height: s,
      data: new Uint8Array(Buffer.from(b64, 'base64')),
    }));
  }

  async request<T = ReferenceTiming>(req: Record<string, unknown>): Promise<T> {
    const reply = this.next();
    this.child.stdin!.write(`${JSON.stringify(req)}\n`);
    const msg = await reply;
    if (msg.ok !== true) throw new Error(`reference ${String(req.op)} failed: ${String(msg.error)}`);
    return msg as T;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end(`${JSON.stringify({ op: 'quit' })}\n`);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }

  private next(): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
}

export function withTimeout<T>(p: Promise<T>, msLimit: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${msLimit} ms`)), msLimit);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
