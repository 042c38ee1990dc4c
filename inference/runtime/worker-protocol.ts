/** Messages between the main thread (worker-client.ts) and a model worker (worker.ts). Typed arrays are transferred. */
import type { Manifest } from './manifest.js';

export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';

/** ORT thread settings of every session of a package (bench/ measures the variants, see BENCHMARKS.md). */
export interface SessionTuning {
  intraOpThreads?: number; // default: ORT's choice (one per core)
  /**
   * Intra-op threads busy-wait for work between runs (ORT's own default). Default here: false. Spinning pools
   * of the three sessions compete with each other and with the JS threads for the cores when LLM and
   * denoiser steps interleave, or anything else runs; measured several times slower on 2 shared cores.
   */
  spinning?: boolean;
  /** With spinning: the pool stops spinning when a run ends (it spins only between the nodes of a run). */
  stopSpinningAfterRun?: boolean;
  /**
   * Also open a second denoiser session with this many intra-op threads (spinning only within a run), for
   * one-row denoiser calls made while every other worker is idle: a single image's steps then use all
   * cores instead of one. 0 or unset: none.
   */
  wideDenoiserThreads?: number;
  /**
   * Linux niceness (0-19) of the worker thread and of the ORT threads it starts. Model steps are throughput
   * work; the main thread (gRPC: health checks, cancellations, stream events, sampling) should get a core
   * as soon as it wakes. 0 or unset: unchanged. Ignored on other platforms, where it would apply to the
   * whole process.
   */
  niceness?: number;
}

export interface LoadRequest {
  op: 'load';
  dir: string;
  provider: ExecutionProvider;
  dtype: Manifest['dtype'];
  graphs: Manifest['graphs'];
  // Optional so that older callers (bench/) still load pixel-space packages unchanged.
  latent?: Manifest['latent']; // set: encode runs vae_encoder + normalisation first, vaeDecode is available
  sampleShape?: [number, number, number]; // [C, h, w] of x_t / x0; default [3, side, side] from the data
  tuning?: SessionTuning;
}

export interface GraphInfo {
  file: string;
  inputNames: string[];
  outputNames: string[];
  shapes: Record<string, (number | string)[]>;
  types: Record<string, string>;
}

/** Info of every graph the worker opened (the optional ones only when the manifest declares them). */
export type LoadResult = Record<'encoder' | 'denoiser' | 'llm', GraphInfo> &
  Partial<Record<'renderer' | 'vae_encoder' | 'vae_decoder', GraphInfo>>;

/** Model pixels -> codes; for latent packages vae_encoder and (z - shift) * scale run first, in the worker. */
export interface EncodeRequest {
  op: 'encode';
  pixels: Float32Array; // [B, 3, H, W]
  batch: number;
}

/** One-step renderer: codes + mask -> x0 [B, C, h, w] (all kept codes visible, no noise). */
export interface RenderRequest {
  op: 'render';
  codes: BigInt64Array; // [B, K]
  mask: Float32Array; // [B, K]
  batch: number;
}

/** Normalised latent -> model pixels: z / scale + shift, then vae_decoder. */
export interface VaeDecodeRequest {
  op: 'vaeDecode';
  latent: Float32Array; // [B, C, h, w]
  batch: number;
}

export interface DenoiseRequest {
  op: 'denoise';
  xT: Float32Array; // [B, C, H, W]
  t: Float32Array; // [B]
  codes: BigInt64Array; // [B, K]
  mask: Float32Array; // [B, K]
  batch: number;
  wide?: boolean; // run on the wide denoiser session (SessionTuning.wideDenoiserThreads) if the worker has one
}

/** First LLM call of a batch session (empty past, P = 0). Returns last-position logits [B, V]. */
export interface PrefillRequest {
  op: 'llmPrefill';
  sessionId: number;
  inputIds: BigInt64Array; // [B, S]
  attentionMask: BigInt64Array; // [B, S]
  positionIds: BigInt64Array; // [B, S]
  batch: number;
  seqLen: number;
}

/** One decoding step with the session's KV cache. Returns logits [B, V]. */
export interface StepRequest {
  op: 'llmStep';
  sessionId: number;
  inputIds: BigInt64Array; // [B, 1]
  attentionMask: BigInt64Array; // [B, P + 1]
  positionIds: BigInt64Array; // [B, 1]
  batch: number;
}

/**
 * New rows joining a running session: prefilled alone (empty past), then appended to the session's KV cache
 * with both caches left-padded to the longer length. Returns the new rows' last-position logits [B, V].
 */
export interface JoinRequest extends Omit<PrefillRequest, 'op'> {
  op: 'llmJoin';
}

/** Keep only these rows (ascending) of the session's KV cache, and drop its first `dropColumns` positions. */
export interface KeepRowsRequest {
  op: 'llmKeepRows';
  sessionId: number;
  rows: number[];
  dropColumns?: number; // left padding shared by every kept row
}

/**
 * Log-probability of each row's last `scored[b]` tokens given what precedes them, each under a softmax over
 * the ids [allowedFrom[b], allowedTo[b]): one forward pass with an empty past, no session kept. Per row, so
 * that rows scored differently (caption candidates, image candidates) share one pass. Returns [B] sums.
 */
export interface ScoreRequest {
  op: 'llmScore';
  inputIds: BigInt64Array; // [B, S], left-padded
  attentionMask: BigInt64Array; // [B, S]
  positionIds: BigInt64Array; // [B, S]
  batch: number;
  seqLen: number;
  scored: Int32Array; // [B]
  allowedFrom: Int32Array; // [B]
  allowedTo: Int32Array; // [B]
  /**
   * Ids every row follows (P): run once, its KV cache shared by the rows, whose positions (positionIds)
   * count from the end of it. A row's first scored token may then be its first id.
   */
  prefix?: BigInt64Array;
}

export interface ReleaseRequest {
  op: 'llmRelease';
  sessionId: number;
}

export type WorkerRequest =
  | LoadRequest
  | EncodeRequest
  | DenoiseRequest
  | RenderRequest
  | VaeDecodeRequest
  | PrefillRequest
  | StepRequest
  | JoinRequest
  | KeepRowsRequest
  | ScoreRequest
  | ReleaseRequest;

export interface WorkerResults {
  load: LoadResult;
  encode: BigInt64Array; // [B, K]
  denoise: Float32Array; // [B, C, H, W]
  render: Float32Array; // [B, C, h, w]
  vaeDecode: Float32Array; // [B, 3, H, W]
  llmPrefill: Float32Array; // [B, V]
  llmStep: Float32Array; // [B, V]
  llmJoin: Float32Array; // [B, V] of the joining rows
  llmKeepRows: null;
  llmScore: Float64Array; // [B]
  llmRelease: null;
}

export type Envelope = { id: number; request: WorkerRequest };
export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; message: string };

/** Expands a `{i}` name template for layers 0..n-1. */
export function layerNames(template: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => template.replace('{i}', String(i)));
}
