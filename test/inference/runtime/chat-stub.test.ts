/** DdtRuntime over a stub ModelBackend whose LLM follows a script: chat's image and text branches. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BatchedModel } from '../../../inference/runtime/batched-model.js';
import { DdtRuntime } from '../../../inference/runtime/ddt-runtime.js';
import type { LlmSession } from '../../../inference/runtime/llm-batch.js';
import { parseManifest } from '../../../inference/runtime/manifest.js';
import type { ModelBackend } from '../../../inference/runtime/model-backend.js';
import { imageNorm, sequenceVocab } from '../../../inference/runtime/model-parts.js';
import { Scheduler } from '../../../inference/runtime/scheduler.js';
import { loadTextTokenizer } from '../../../inference/runtime/text-tokenizer.js';
import { buildVocabMasks } from '../../../inference/runtime/vocab-masks.js';
import { ctx, params, solidImage } from './helpers.js';

const pkg = fileURLToPath(new URL('./fixtures/tiny-package', import.meta.url));
const manifest = parseManifest(JSON.parse(readFileSync(`${pkg}/manifest.json`, 'utf8')), 'manifest.json');
const Vsize = manifest.vocab.size;
const { assistant, boi, end } = manifest.vocab.special;
const RED = 9; // 'red' in the fixture tokenizer

/** Next-token script: `next(lastId)` gets a logit of 10, everything else 0. */
function scriptedBackend(next: (lastId: number) => number): ModelBackend {
  const logits = (last: number[]) => {
    const out = new Float32Array(last.length * Vsize);
    last.forEach((id, b) => {
      out[b * Vsize + next(id)] = 10;
    });
    return out;
  };
  const session: LlmSession = {
    prefill: async (ids, _m, _p, batch, seqLen) =>
      logits(Array.from({ length: batch }, (_, b) => Number(ids[b * seqLen + seqLen - 1]))),
    step: async (ids) => logits(Array.from(ids, Number)),
    keepRows: async () => {},
    release: () => {},
  };
  return {
    parallelism: 1,
    encode: async (_pixels, batch) => new BigInt64Array(batch * manifest.tokens.per_image).fill(3n),
    denoise: async (input) => new Float32Array(input.xT.length).fill(0.5),
    openLlm: () => session,
    close: async () => {},
  };
}

async function runtimeWith(next: (lastId: number) => number): Promise<DdtRuntime> {
  const s = manifest.vocab.special;
  const tokenizer = await loadTextTokenizer(`${pkg}/tokenizer.json`, Object.values(s), s.unk);
  const model = new BatchedModel(scriptedBackend(next), {
    maxBatch: 4,
    perImage: manifest.tokens.per_image,
    padId: s.pad,
  });
  const parts = {
    manifest,
    model,
    tokenizer,
    masks: buildVocabMasks(manifest.vocab, manifest.tokens.codebook_size),
    vocab: sequenceVocab(manifest),
    norm: imageNorm(manifest),
    captionPhrases: [],
  };
  return new DdtRuntime(parts, new Scheduler(4, 4));
}

const turns = [{ role: 'user' as const, parts: [{ kind: 'text' as const, text: 'red circle' }] }];

describe('chat branches', () => {
  it('answers with an image when the first token is <boi>', async () => {
    // after <assistant>: <boi>; then visual id offset + 2 forever (also after <boi>)
    const rt = await runtimeWith((last) => (last === assistant ? boi : manifest.vocab.visual_offset + 2));
    const answer = await rt.chat(turns, params({ guidanceScale: 1 }), ctx());
    expect(answer.finishReason).toBe('image');
    expect(answer.text).toBe('');
    expect(answer.image!.tokens).toEqual(new Array(manifest.tokens.per_image).fill(2));
    expect(answer.image!.image.data[0]).toBe(Math.round(0.75 * 255)); // x0 = 0.5 -> (0.5 * 0.5 + 0.5) * 255
  });

  it('streams a text answer until <end>', async () => {
    let n = 0;
    const rt = await runtimeWith(() => (n++ < 3 ? RED : end));
    const deltas: string[] = [];
    const answer = await rt.chat(turns, params(), ctx({ onTextDelta: (d) => deltas.push(d) }));
    expect(answer).toEqual({ text: 'red red red', finishReason: 'end' });
    expect(deltas).toEqual(['red', ' red', ' red']);
  });

  it('stops at max_new_text_tokens with finishReason length', async () => {
    const rt = await runtimeWith(() => RED);
    const answer = await rt.chat(turns, params(), ctx());
    expect(answer.finishReason).toBe('length');
    expect(answer.text.split(' ')).toHaveLength(manifest.generation.max_new_text_tokens);
  });

  it('never samples <boi> outside the first answer position, nor visual ids in text', async () => {
    let n = 0;
    // the script prefers <boi> after a word, then a visual id: both masked, so the best text id wins
    const rt = await runtimeWith((last) =>
      n++ === 0 ? RED : last === RED ? boi : manifest.vocab.visual_offset,
    );
    const steps: number[] = [];
    const answer = await rt.caption(
      solidImage(8, [10, 20, 30]),
      ctx({ onProgress: (e) => steps.push(e.step) }),
    );
    // with <boi> and visual ids masked every allowed logit ties at 0: greedy takes the lowest, <end> (2)
    expect(answer).toBe('red');
    expect(steps).toEqual([1]);
  });
});
