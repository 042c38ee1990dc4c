/** BatchedModel over a stub backend: how batches are spread over the backend's parallel slots. */
import { describe, expect, it } from 'vitest';
import { BatchedModel } from '../../../inference/runtime/batched-model.js';
import type { RenderInput } from '../../../inference/runtime/diffusion.js';
import type { ModelBackend } from '../../../inference/runtime/model-backend.js';

const K = 2;
const PIXELS = 3; // x0 values per row

/** A backend whose renderer writes each row's first code into its pixels, recording every call's batch. */
function recordingBackend(parallelism: number) {
  const renderBatches: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const backend: ModelBackend = {
    parallelism,
    encode: async () => new BigInt64Array(0),
    denoise: async (input) => new Float32Array(input.xT.length),
    render: async (input: RenderInput) => {
      renderBatches.push(input.batch);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      const out = new Float32Array(input.batch * PIXELS);
      for (let b = 0; b < input.batch; b++)
        out.fill(Number(input.codes[b * K]), b * PIXELS, (b + 1) * PIXELS);
      return out;
    },
    openLlm: () => {
      throw new Error('not used');
    },
    close: async () => {},
  };
  return { backend, renderBatches, maxInFlight: () => maxInFlight };
}

function renderInput(firstCodes: number[]): RenderInput {
  return {
    codes: BigInt64Array.from(firstCodes.flatMap((c) => [BigInt(c), 0n])),
    mask: new Float32Array(firstCodes.length * K).fill(1),
    batch: firstCodes.length,
  };
}

describe('BatchedModel', () => {
  it('runs one large renderer call as row chunks on every slot at once, rows back in order', async () => {
    const rec = recordingBackend(2);
    const model = new BatchedModel(rec.backend, { maxBatch: 8, perImage: K, padId: 0 });
    const out = await model.render(renderInput([10, 11, 12, 13, 14]));
    expect(rec.renderBatches).toEqual([3, 2]);
    expect(rec.maxInFlight()).toBe(2);
    expect(Array.from(out)).toEqual([10, 11, 12, 13, 14].flatMap((c) => [c, c, c]));
  });

  it('keeps a one-row renderer call whole, and one slot gets the batch unsplit', async () => {
    const two = recordingBackend(2);
    await new BatchedModel(two.backend, { maxBatch: 8, perImage: K, padId: 0 }).render(renderInput([7]));
    expect(two.renderBatches).toEqual([1]);
    const one = recordingBackend(1);
    await new BatchedModel(one.backend, { maxBatch: 8, perImage: K, padId: 0 }).render(
      renderInput([1, 2, 3]),
    );
    expect(one.renderBatches).toEqual([3]);
  });
});
