/**
 * The benchmark harness at its smoke size (bench/lib/sizes.ts SMOKE): every suite runs end to end on a
 * tiny package and writes a report of the expected shape. Numbers are not checked (CI machines vary);
 * floors are benchmarks, not tests.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/lib/types.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = join(root, 'test', 'fixtures', 'models', 'tiny-ddt');
const python = join(process.env.PYTHON_VENV ?? join(root, '.venv'), 'bin', 'python');
const hasPython = existsSync(python);
const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run bench -- --smoke', () => {
  it('runs every suite and writes a structured report', async () => {
    const args = ['--import', 'tsx', 'bench/main.ts', '--smoke', '--quiet', '--package', pkg, '--out', out];
    if (!hasPython) args.push('--run', 'none'); // the PyTorch reference needs the training venv
    // asynchronously: a synchronous child blocks this worker's event loop, and vitest's 60 s RPC timeout
    // to the main process then fires as an unhandled error on a loaded machine (session 5)
    const res = await promisify(execFile)(process.execPath, args, {
      cwd: root,
      encoding: 'utf8',
      timeout: 90_000,
    })
      .then(() => ({ status: 0, stderr: '' }))
      .catch((err: { code?: number; stderr?: string }) => ({
        status: err.code ?? 1,
        stderr: err.stderr ?? String(err),
      }));
    expect(res.status, res.stderr).toBe(0);

    const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchReport;
    expect(report.smoke).toBe(true);
    expect(report.suites.map((s) => s.suite)).toEqual([
      'pipeline',
      'serving',
      'stages',
      'memory',
      'concurrency',
      'responsiveness',
      'bot',
    ]);
    for (const s of report.suites) {
      if (s.suite === 'pipeline' && !hasPython) continue;
      expect(s.skipped, `${s.suite}: ${s.skipped}`).toBeUndefined();
    }
    const data = Object.fromEntries(report.suites.map((s) => [s.suite, s.data])) as Record<
      string,
      Record<string, unknown>
    >;
    if (hasPython) {
      const rows = data.pipeline!.rows as { task: string; speedup: number; tsMsPerImage: number }[];
      expect(rows.map((r) => r.task).sort()).toEqual(['caption', 'edit', 'generate']);
      for (const r of rows) expect(r.speedup).toBeGreaterThan(0);
    }
    const serving = data.serving!.rows as { rpc: string; overheadPct: number }[];
    expect(serving.map((r) => r.rpc)).toEqual(['caption', 'generate']);
    const path = data.serving!.servingPath as { rpc: string; grpcMs: number; fixedCostMs: number }[];
    expect(path.map((r) => r.rpc)).toEqual(['caption', 'generate']);
    for (const r of path) expect(r.grpcMs).toBeGreaterThan(0);
    const graphs = data.stages!.graphs as { call: string; pureRunMs: number; mflops: number }[];
    expect(graphs.map((g) => g.call)).toEqual(['encode', 'llmPrefill', 'llmStep', 'denoise']);
    for (const g of graphs) expect(g.mflops).toBeGreaterThan(0);
    expect((data.stages!.peak as { large: { gflops: number } }).large.gflops).toBeGreaterThan(0);
    expect((data.memory!.samples as unknown[]).length).toBeGreaterThan(0);
    expect(data.memory!.peakRssMiB).toBeGreaterThan(0);
    const conc = data.concurrency!.rows as { rpc: string; clients: number; throughput: number }[];
    expect(conc.filter((r) => r.rpc === 'generate').map((r) => r.clients)).toEqual([1, 2]);
    for (const r of conc) expect(r.throughput).toBeGreaterThan(0);
    const alternating = data.concurrency!.alternating as { rpc: string; clients: number; nOver1: number }[];
    expect(alternating.map((r) => [r.rpc, r.clients])).toEqual([
      ['generate', 2],
      ['caption', 2],
    ]);
    for (const r of alternating) expect(r.nOver1).toBeGreaterThan(0);
    type Split = { rpc: string; nOver1: number; cores1: number; coreMs1: number; coreMsN: number };
    const plain = data.concurrency!.plainPackage as Split[];
    expect(plain.map((r) => r.rpc)).toEqual(['generate', 'caption']);
    // the server's CPU time was read: a window with requests in it used some
    for (const r of [...alternating, ...plain] as Split[]) {
      expect(r.nOver1).toBeGreaterThan(0);
      expect(r.cores1).toBeGreaterThan(0);
      expect(r.coreMs1).toBeGreaterThan(0);
      expect(r.coreMsN).toBeGreaterThan(0);
    }
    const steps = data.concurrency!.llmStepBatching as { batch: number; msPerRow: number }[];
    expect(steps.map((r) => r.batch)).toEqual([1, 4]);
    for (const r of steps) expect(r.msPerRow).toBeGreaterThan(0);
    const health = data.responsiveness!;
    expect((health.healthSaturatedSeparateProcess as { n: number; p99Ms: number }).p99Ms).toBeGreaterThan(0);
    expect((health.healthSaturatedFromLoadProcess as { p99Ms: number }).p99Ms).toBeGreaterThan(0);
    expect((data.bot!.ackMs as { n: number }).n).toBe(data.bot!.jobs);
    // every floor names its target and says pass or not
    for (const f of report.floors) {
      expect(f.target).toBeTruthy();
      expect(typeof f.pass).toBe('boolean');
    }
    expect(readFileSync(join(out, 'latest.md'), 'utf8')).toContain('### Floors');
  });
});
