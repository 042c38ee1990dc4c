/**
 * What a bigger batch saves per row of an LLM decode step: one step (one new token per row over a KV cache
 * of `past` positions, fed as the runtime feeds it) on a direct one-thread ORT session, at several batch
 * sizes. Batching concurrent requests can make their token steps cheaper per row by this much and no more,
 * which bounds what more clients gain once one request already fills the cores (suites/concurrency.ts).
 */
import { join } from 'node:path';
import type { Manifest } from '../../inference/runtime/index.js';
import { BUFFER_SLACK } from '../../inference/runtime/kv-cache.js';
import { floatInput, int64Tensor } from '../../inference/runtime/ort-backend.js';
import { type Feeds, openSession, timeRuns } from './ort-micro.js';

export interface StepRowCost {
  batch: number;
  past: number;
  msPerCall: number;
  msPerRow: number;
}

export async function llmStepRowCosts(
  packageDir: string,
  manifest: Manifest,
  batches: number[],
  past: number,
  repeats: number,
): Promise<StepRowCost[]> {
  const spec = manifest.graphs.llm;
  // the buffer convention reads a cache with free slots (masked) beyond the `past` real ones
  const slots = spec.kv_cache === 'buffer' ? past + BUFFER_SLACK : past;
  const session = await openSession(join(packageDir, spec.file), { intraOpNumThreads: 1 });
  const rows: StepRowCost[] = [];
  try {
    for (const B of batches) {
      const mask = new BigInt64Array(B * (slots + 1));
      for (let b = 0; b < B; b++) {
        mask.fill(1n, b * (slots + 1), b * (slots + 1) + past);
        mask[b * (slots + 1) + slots] = 1n;
      }
      const kvDims = [B, spec.num_kv_heads, slots, spec.head_dim];
      const kv = new Float32Array(B * spec.num_kv_heads * slots * spec.head_dim).fill(0.01);
      const feeds = (): Feeds => {
        const f: Feeds = {
          [spec.inputs.input_ids]: int64Tensor(
            BigInt64Array.from({ length: B }, (_, i) => BigInt(manifest.vocab.visual_offset + i)),
            [B, 1],
          ),
          [spec.inputs.attention_mask]: int64Tensor(mask, [B, slots + 1]),
          [spec.inputs.position_ids]: int64Tensor(new BigInt64Array(B).fill(BigInt(past)), [B, 1]),
        };
        for (let i = 0; i < spec.num_layers; i++) {
          f[spec.inputs.past_key.replace('{i}', String(i))] = floatInput(kv, kvDims, manifest.dtype);
          f[spec.inputs.past_value.replace('{i}', String(i))] = floatInput(kv, kvDims, manifest.dtype);
        }
        return f;
      };
      const ms = await timeRuns(session, feeds, repeats, 3);
      rows.push({ batch: B, past, msPerCall: ms, msPerRow: ms / B });
    }
  } finally {
    await session.release();
  }
  return rows;
}
