/**
 * Model worker thread: owns the ONNX sessions of one package and the KV caches of its LLM batch
 * sessions (they never leave this thread). Started through worker-entry.mjs.
 */
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { createKvCache, type KvCache } from './kv-cache.js';
import type { GraphSession, OrtTensor } from './ort-backend.js';
import {
  emptyFloat,
  floatInput,
  int64Tensor,
  openGraph,
  ProviderUnavailableError,
  readFloat,
  readInt64,
} from './ort-backend.js';
import { distinctRows, takeRows } from './row-dedup.js';
import { logSoftmaxAt } from './token-sampler.js';
import { createGcHint } from './worker-gc.js';
import {
  type Envelope,
  type LoadRequest,
  type LoadResult,
  layerNames,
  type Reply,
  type ScoreRequest,
  type WorkerRequest,
} from './worker-protocol.js';

interface Loaded {
  req: LoadRequest;
  encoder: GraphSession;
  denoiser: GraphSession;
  denoiserWide: GraphSession | undefined; // SessionTuning.wideDenoiserThreads
  llm: GraphSession;
  renderer: GraphSession | undefined;
  vaeEncoder: GraphSession | undefined;
  vaeDecoder: GraphSession | undefined;
  pastKeys: string[];
  pastValues: string[];
  presentKeys: string[];
  presentValues: string[];
}

interface KvSession {
  kv: KvCache; // 2 * layers tensors [B, kv_heads, P, head_dim]: keys then values (kv-cache.ts)
}

let model: Loaded | undefined;
const kvSessions = new Map<number, KvSession>();
/** After a batch ends its KV copies are garbage: collect them (worker-gc.ts), at most once a second. */
const collectGarbage = createGcHint(1000);

/**
 * Lowers this thread's CPU priority before any session (and its ORT threads, which inherit it) exists.
 * On Linux, setpriority(PRIO_PROCESS, 0) acts on the calling thread only.
 */
function lowerPriority(niceness: number | undefined): void {
  if (!niceness || process.platform !== 'linux') return;
  setPriority(niceness);
}

async function load(req: LoadRequest): Promise<LoadResult> {
  lowerPriority(req.tuning?.niceness);
  const open = async (file: string, tuning = req.tuning) => {
    try {
      return await openGraph(join(req.dir, file), req.provider, tuning);
    } catch (err) {
      if (err instanceof ProviderUnavailableError) throw err;
      throw new Error(`${join(req.dir, file)}: cannot load ONNX graph: ${(err as Error).message}`);
    }
  };
  const g = req.graphs;
  const encoder = await open(g.encoder.file);
  const denoiser = await open(g.denoiser.file);
  const wideThreads = req.tuning?.wideDenoiserThreads ?? 0;
  const denoiserWide =
    wideThreads > 1
      ? await open(g.denoiser.file, {
          intraOpThreads: wideThreads,
          spinning: true,
          stopSpinningAfterRun: true,
        })
      : undefined;
  const llm = await open(g.llm.file);
  const renderer = g.renderer ? await open(g.renderer.file) : undefined;
  const vaeEncoder = g.vae_encoder ? await open(g.vae_encoder.file) : undefined;
  const vaeDecoder = g.vae_decoder ? await open(g.vae_decoder.file) : undefined;
  const { llm: spec } = req.graphs;
  model = {
    req,
    encoder,
    denoiser,
    denoiserWide,
    llm,
    renderer,
    vaeEncoder,
    vaeDecoder,
    pastKeys: layerNames(spec.inputs.past_key, spec.num_layers),
    pastValues: layerNames(spec.inputs.past_value, spec.num_layers),
    presentKeys: layerNames(spec.outputs.present_key, spec.num_layers),
    presentValues: layerNames(spec.outputs.present_value, spec.num_layers),
  };
  const info = (file: string, g: GraphSession) => ({
    file: join(req.dir, file),
    inputNames: [...g.inputNames],
    outputNames: [...g.outputNames],
    shapes: Object.fromEntries(Object.entries(g.shapes).map(([k, v]) => [k, [...v]])),
    types: { ...g.types },
  });
  return {
    encoder: info(g.encoder.file, encoder),
    denoiser: info(g.denoiser.file, denoiser),
    llm: info(g.llm.file, llm),
    ...(g.renderer && renderer ? { renderer: info(g.renderer.file, renderer) } : {}),
    ...(g.vae_encoder && vaeEncoder ? { vae_encoder: info(g.vae_encoder.file, vaeEncoder) } : {}),
    ...(g.vae_decoder && vaeDecoder ? { vae_decoder: info(g.vae_decoder.file, vaeDecoder) } : {}),
  };
}

function loaded(): Loaded {
  if (!model) throw new Error('worker: model not loaded');
  return model;
}

/** Last-position logits of every row: [B, S, V] -> [B, V]. Converts only those rows (float16: V per row). */
function lastLogits(logits: OrtTensor): Float32Array {
  const [B, S, V] = logits.dims as [number, number, number];
  const out = new Float32Array(B * V);
  for (let b = 0; b < B; b++) out.set(readFloat(logits, (b * S + S - 1) * V, (b * S + S) * V), b * V);
  return out;
}

/** [C, h, w] of denoiser/renderer/vae_decoder data: from the load request, else square RGB. */
function sampleDims(m: Loaded, perImage: number): number[] {
  return m.req.sampleShape ?? [3, Math.round(Math.sqrt(perImage / 3)), Math.round(Math.sqrt(perImage / 3))];
}

/** Runs a graph and returns one named output, or says which graph left it out. */
async function runFor(graph: GraphSession, what: string, feeds: Record<string, OrtTensor>, output: string) {
  const out = await graph.run(feeds);
  const t = out[output];
  if (!t) throw new Error(`${what} did not return ${output}`);
  return t;
}

/** Model pixels [B, 3, H, W] -> encoder input: the pixels, or the normalised latent (z - shift) * scale. */
async function encoderInput(m: Loaded, pixels: Float32Array, batch: number): Promise<OrtTensor> {
  const side = Math.round(Math.sqrt(pixels.length / batch / 3));
  const dims = [batch, 3, side, side];
  const { latent } = m.req;
  const g = m.req.graphs.vae_encoder;
  if (!latent || !g || !m.vaeEncoder) return floatInput(pixels, dims, m.req.dtype);
  const out = await runFor(
    m.vaeEncoder,
    'vae_encoder',
    { [g.inputs.pixels]: floatInput(pixels, dims, m.req.dtype) },
    g.outputs.latent,
  );
  const z = Float32Array.from(readFloat(out)); // [B, C, h, w]
  for (let i = 0; i < z.length; i++) z[i] = (z[i]! - latent.shift) * latent.scale;
  return floatInput(z, [...out.dims], m.req.dtype);
}

/** A cache in the package's KV convention (graphs.llm.kv_cache) holding these [B, H, P, D] tensors. */
function newKvCache(tensors: OrtTensor[]): KvCache {
  return createKvCache(loaded().req.graphs.llm.kv_cache, tensors);
}

function kvSession(sessionId: number): KvSession {
  const s = kvSessions.get(sessionId);
  if (!s) throw new Error(`unknown LLM session ${sessionId}`);
  return s;
}

/** runLlm for a prefill (empty past): identical rows (e.g. the unconditional row of every image) run once. */
async function prefillLlm(
  sessionId: number,
  ids: BigInt64Array,
  mask: BigInt64Array,
  positions: BigInt64Array,
  batch: number,
  seqLen: number,
): Promise<Float32Array> {
  const { keep, index } = distinctRows([ids, mask, positions], batch);
  if (keep.length === batch) return runLlm(sessionId, ids, mask, positions, batch, seqLen, undefined);
  const take = (a: BigInt64Array) => takeRows(a, keep, batch);
  const logits = await runLlm(
    sessionId,
    take(ids),
    take(mask),
    take(positions),
    keep.length,
    seqLen,
    undefined,
  );
  kvSessions.get(sessionId)!.kv.selectRows(index); // [U, ...] -> [B, ...]
  return takeRows(logits, index, keep.length); // [B, V]
}

/** ScoreRequest: one forward pass over whole rows; position S-T-1+k predicts the row's token S-T+k. */
async function scoreLlm(req: ScoreRequest): Promise<Float64Array> {
  const m = loaded();
  const spec = m.req.graphs.llm;
  const { batch: B, seqLen: S } = req;
  const { mask, positions, kv } = req.prefix
    ? await sharedPrefix(req.prefix, req, B, S)
    : { mask: req.attentionMask, positions: req.positionIds, kv: undefined };
  const feeds = llmFeeds(req.inputIds, mask, positions, B, S, kv);
  const logits = (await m.llm.run(feeds))[spec.outputs.logits];
  if (!logits) throw new Error(`llm graph did not return ${spec.outputs.logits}`);
  const V = logits.dims[2]!;
  const sums = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const T = req.scored[b]!;
    for (let k = 0; k < T; k++) {
      const at = b * S + S - T - 1 + k;
      const target = Number(req.inputIds[at + 1]!);
      sums[b] =
        sums[b]! +
        logSoftmaxAt(readFloat(logits, at * V, (at + 1) * V), req.allowedFrom[b]!, req.allowedTo[b]!, target);
    }
  }
  return sums;
}

let scratchSessions = 0;

/**
 * A score request's shared prefix run once (one row), its cache repeated for the B rows, with the rows' mask
 * [B, P + S] and positions [B, S] counted on from the prefix.
 */
async function sharedPrefix(prefix: BigInt64Array, req: ScoreRequest, B: number, S: number) {
  const P = prefix.length;
  const id = Number.MIN_SAFE_INTEGER + scratchSessions++; // never a client's session id
  const ones = new BigInt64Array(P).fill(1n);
  await runLlm(
    id,
    prefix,
    ones,
    BigInt64Array.from({ length: P }, (_, j) => BigInt(j)),
    1,
    P,
    undefined,
  );
  const kv = kvSessions.get(id)!.kv;
  kvSessions.delete(id);
  kv.selectRows(new Array<number>(B).fill(0));
  const mask = new BigInt64Array(B * (P + S));
  const positions = new BigInt64Array(B * S);
  for (let b = 0; b < B; b++) {
    mask.fill(1n, b * (P + S), b * (P + S) + P);
    mask.set(req.attentionMask.subarray(b * S, (b + 1) * S), b * (P + S) + P);
    for (let j = 0; j < S; j++) positions[b * S + j] = req.positionIds[b * S + j]! + BigInt(P);
  }
  return { kv, mask, positions };
}

/** The LLM graph's inputs: ids / mask / positions [B, S], and the cache's past (an empty one without). */
function llmFeeds(
  ids: BigInt64Array,
  mask: BigInt64Array,
  positions: BigInt64Array,
  batch: number,
  seqLen: number,
  cache: KvCache | undefined,
): Record<string, OrtTensor> {
  const m = loaded();
  const spec = m.req.graphs.llm;
  const graphMask = cache ? cache.graphMask(mask, batch) : mask;
  const feeds: Record<string, OrtTensor> = {
    [spec.inputs.input_ids]: int64Tensor(ids, [batch, seqLen]),
    [spec.inputs.attention_mask]: int64Tensor(graphMask, [batch, graphMask.length / batch]),
    [spec.inputs.position_ids]: int64Tensor(positions, [batch, seqLen]),
  };
  const L = spec.num_layers;
  const emptyDims = [batch, spec.num_kv_heads, 0, spec.head_dim];
  const past = cache?.past();
  for (let i = 0; i < L; i++) {
    feeds[m.pastKeys[i]!] = past?.[i] ?? emptyFloat(emptyDims, m.req.dtype);
    feeds[m.pastValues[i]!] = past?.[L + i] ?? emptyFloat(emptyDims, m.req.dtype);
  }
  return feeds;
}

async function runLlm(
  sessionId: number,
  ids: BigInt64Array,
  mask: BigInt64Array,
  positions: BigInt64Array,
  batch: number,
  seqLen: number,
  cache: KvCache | undefined,
): Promise<Float32Array> {
  const m = loaded();
  const spec = m.req.graphs.llm;
  const out = await m.llm.run(llmFeeds(ids, mask, positions, batch, seqLen, cache));
  const presents = [...m.presentKeys, ...m.presentValues].map((name) => {
    const t = out[name];
    if (!t) throw new Error(`llm graph did not return ${name}`);
    return t;
  });
  if (cache) cache.update(presents, seqLen);
  else kvSessions.set(sessionId, { kv: newKvCache(presents) });
  const logits = out[spec.outputs.logits];
  if (!logits) throw new Error(`llm graph did not return ${spec.outputs.logits}`);
  return lastLogits(logits);
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'load':
      return load(req);
    case 'encode': {
      const m = loaded();
      const g = m.req.graphs.encoder;
      const input = await encoderInput(m, req.pixels, req.batch);
      const codes = await runFor(m.encoder, 'encoder', { [g.inputs.pixels]: input }, g.outputs.codes);
      return BigInt64Array.from(readInt64(codes));
    }
    case 'denoise': {
      const m = loaded();
      const g = m.req.graphs.denoiser;
      const K = req.codes.length / req.batch;
      const dtype = m.req.dtype;
      const feeds = {
        [g.inputs.x_t]: floatInput(req.xT, [req.batch, ...sampleDims(m, req.xT.length / req.batch)], dtype),
        [g.inputs.t]: floatInput(req.t, [req.batch], dtype),
        [g.inputs.codes]: int64Tensor(req.codes, [req.batch, K]),
        [g.inputs.mask]: floatInput(req.mask, [req.batch, K], dtype),
      };
      const session = (req.wide && m.denoiserWide) || m.denoiser;
      return Float32Array.from(readFloat(await runFor(session, 'denoiser', feeds, g.outputs.x0)));
    }
    case 'render': {
      const m = loaded();
      const g = m.req.graphs.renderer;
      if (!g || !m.renderer) throw new Error('this package has no renderer graph');
      const K = req.codes.length / req.batch;
      const feeds = {
        [g.inputs.codes]: int64Tensor(req.codes, [req.batch, K]),
        [g.inputs.mask]: floatInput(req.mask, [req.batch, K], m.req.dtype),
      };
      return Float32Array.from(readFloat(await runFor(m.renderer, 'renderer', feeds, g.outputs.x0)));
    }
    case 'vaeDecode': {
      const m = loaded();
      const g = m.req.graphs.vae_decoder;
      const { latent } = m.req;
      if (!g || !m.vaeDecoder || !latent) throw new Error('this package has no vae_decoder graph');
      const z = new Float32Array(req.latent.length); // undo the normalisation: z / scale + shift
      for (let i = 0; i < z.length; i++) z[i] = req.latent[i]! / latent.scale + latent.shift;
      const dims = [req.batch, ...sampleDims(m, z.length / req.batch)];
      const feeds = { [g.inputs.latent]: floatInput(z, dims, m.req.dtype) };
      return Float32Array.from(readFloat(await runFor(m.vaeDecoder, 'vae_decoder', feeds, g.outputs.pixels)));
    }
    case 'llmPrefill':
      kvSessions.delete(req.sessionId);
      return prefillLlm(
        req.sessionId,
        req.inputIds,
        req.attentionMask,
        req.positionIds,
        req.batch,
        req.seqLen,
      );
    case 'llmStep': {
      const s = kvSession(req.sessionId);
      return runLlm(req.sessionId, req.inputIds, req.attentionMask, req.positionIds, req.batch, 1, s.kv);
    }
    case 'llmJoin': {
      const s = kvSession(req.sessionId);
      const joinId = -req.sessionId; // a scratch session for the new rows' prefill
      const logits = await prefillLlm(
        joinId,
        req.inputIds,
        req.attentionMask,
        req.positionIds,
        req.batch,
        req.seqLen,
      );
      const added = kvSessions.get(joinId)!;
      kvSessions.delete(joinId);
      s.kv.appendRows(added.kv);
      return logits;
    }
    case 'llmKeepRows': {
      kvSession(req.sessionId).kv.keepRows(req.rows, req.dropColumns ?? 0);
      return null;
    }
    case 'llmScore':
      return scoreLlm(req);
    case 'llmRelease':
      kvSessions.delete(req.sessionId);
      collectGarbage();
      return null;
  }
}

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
port.on('message', (env: Envelope) => {
  handle(env.request).then(
    (result) => {
      const transfer = ArrayBuffer.isView(result) ? [result.buffer as ArrayBuffer] : [];
      port.postMessage({ id: env.id, ok: true, result } satisfies Reply, transfer);
    },
    (err: unknown) => {
      port.postMessage({
        id: env.id,
        ok: false,
        message: (err as Error).message ?? String(err),
      } satisfies Reply);
    },
  );
});
