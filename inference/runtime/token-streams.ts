/**
 * Decode streams (llm-batch.ts) for the two kinds of output: K image tokens, or text until <end>.
 * Each holds its own request state: generator, tokens so far, callbacks, cancellation.
 */

import type { JobControl } from './job-control.js';
import type { DecodeStream } from './llm-batch.js';
import type { SplitMix64 } from './rng.js';
import { applyGuidance, sampleToken, type TokenSamplingParams } from './token-sampler.js';

export interface ImageStreamOptions {
  cond: number[];
  uncond: number[] | null; // null = no guidance
  guidanceScale: number;
  perImage: number; // K
  visualMask: Uint8Array; // [V]
  visualOffset: number;
  sampling: TokenSamplingParams;
  rng: SplitMix64; // token generator of this image
  job: JobControl;
  /** After each token: the visual ids (minus offset = codes in emission order) so far. */
  onToken?: (emitted: number[]) => void;
}

/** Samples exactly K visual tokens after <boi>. `emitted` holds codes in emission order. */
export class ImageTokenStream implements DecodeStream {
  readonly rows: number[][];
  readonly emitted: number[] = [];

  constructor(private readonly o: ImageStreamOptions) {
    this.rows = o.uncond ? [o.cond, o.uncond] : [o.cond];
  }

  stopReason(): Error | undefined {
    return this.o.job.stopped;
  }

  advance(logits: Float32Array[]): number | null {
    const o = this.o;
    o.job.throwIfStopped();
    o.job.steps++;
    const [cond, uncond] = logits as [Float32Array, Float32Array | undefined];
    const guided = uncond ? applyGuidance(cond, uncond, o.guidanceScale) : cond;
    const u = o.rng.uniform();
    const id = sampleToken(guided, o.visualMask, o.sampling, u);
    this.emitted.push(id - o.visualOffset);
    o.onToken?.(this.emitted);
    o.job.throwIfStopped(); // a callback may have cancelled: do not spend another step
    return this.emitted.length >= o.perImage ? null : id;
  }
}

export interface TextStreamOptions {
  row: number[];
  firstMask: Uint8Array; // [V] allowed for the first answer token (chat: text + <boi>)
  textMask: Uint8Array; // [V]
  endId: number;
  boiId: number;
  maxNewTokens: number;
  sampling: TokenSamplingParams;
  rng: SplitMix64;
  job: JobControl;
  onToken?: (ids: number[]) => void;
}

export type TextFinish = 'end' | 'length' | 'image';

/** Text answer until <end> (not included) or maxNewTokens; a first <boi> ends with 'image'. */
export class TextStream implements DecodeStream {
  readonly rows: number[][];
  readonly ids: number[] = [];
  finish: TextFinish | undefined;

  constructor(private readonly o: TextStreamOptions) {
    this.rows = [o.row];
  }

  stopReason(): Error | undefined {
    return this.o.job.stopped;
  }

  advance(logits: Float32Array[]): number | null {
    const o = this.o;
    o.job.throwIfStopped();
    o.job.steps++;
    const mask = this.ids.length === 0 ? o.firstMask : o.textMask;
    const id = sampleToken(logits[0]!, mask, o.sampling, o.rng.uniform());
    if (id === o.endId) {
      this.finish = 'end';
      return null;
    }
    if (id === o.boiId && this.ids.length === 0) {
      this.finish = 'image';
      return null;
    }
    this.ids.push(id);
    o.onToken?.(this.ids);
    o.job.throwIfStopped();
    if (this.ids.length >= o.maxNewTokens) {
      this.finish = 'length';
      return null;
    }
    return id;
  }
}
