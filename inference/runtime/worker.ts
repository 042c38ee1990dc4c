/**
 * Model worker thread: owns the ONNX sessions of one package and the KV caches of its LLM batch
 * sessions (they never leave this thread). Started through worker-entry.mjs.
 */
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { GraphSession, OrtTensor } from './ort-backend.js';
import {
  emptyFloat,
  floatInput,
  int64Tensor,
  openGraph,
  ProviderUnavailableError,
  readFloat,
  readInt64,
  selectRows,
} from './ort-backend.js';
import {
  type Envelope,
  type LoadRequest,
  type LoadResult,
  layerNames,
  type Reply,
  type WorkerRequest,
} from './worker-protocol.js';

interface Loaded {
  req: LoadRequest;
  encoder: GraphSession;
  denoiser: GraphSession;
  llm: GraphSession;
  pastKeys: string[];
  pastValues: string[];
  presentKeys: string[];
  presentValues: string[];
}

interface KvSession {
  kv: OrtTensor[]; // 2 * layers tensors [B, kv_heads, P, head_dim]: keys then values
}

let model: Loaded | undefined;
const kvSessions = new Map<number, KvSession>();

async function load(req: LoadRequest): Promise<LoadResult> {
  const open = async (file: string) => {
    try {
      return await openGraph(join(req.dir, file), req.provider, req.tuning);
    } catch (err) {
      if (err instanceof ProviderUnavailableError) throw err;
      throw new Error(`${join(req.dir, file)}: cannot load ONNX graph: ${(err as Error).message}`);
    }
  };
  const encoder = await open(req.graphs.encoder.file);
  const denoiser = await open(req.graphs.denoiser.file);
  const llm = await open(req.graphs.llm.file);
  const { llm: spec } = req.graphs;
  model = {
    req,
    encoder,
    denoiser,
    llm,
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
  });
  return {
    encoder: info(req.graphs.encoder.file, encoder),
    denoiser: info(req.graphs.denoiser.file, denoiser),
    llm: info(req.graphs.llm.file, llm),
  };
}

function loaded(): Loaded {
  if (!model) throw new Error('worker: model not loaded');
  return model;
}

/** Last-position logits of every row: [B, S, V] -> [B, V]. */
function lastLogits(logits: OrtTensor): Float32Array {
  const [B, S, V] = logits.dims as [number, number, number];
  const all = readFloat(logits);
  const out = new Float32Array(B * V);
  for (let b = 0; b < B; b++) out.set(all.subarray((b * S + S - 1) * V, (b * S + S) * V), b * V);
  return out;
}

async function runLlm(
  sessionId: number,
  ids: BigInt64Array,
  mask: BigInt64Array,
  positions: BigInt64Array,
  batch: number,
  seqLen: number,
  past: OrtTensor[] | undefined,
): Promise<Float32Array> {
  const m = loaded();
  const spec = m.req.graphs.llm;
  const feeds: Record<string, OrtTensor> = {
    [spec.inputs.input_ids]: int64Tensor(ids, [batch, seqLen]),
    [spec.inputs.attention_mask]: int64Tensor(mask, [batch, mask.length / batch]),
    [spec.inputs.position_ids]: int64Tensor(positions, [batch, seqLen]),
  };
  const L = spec.num_layers;
  const emptyDims = [batch, spec.num_kv_heads, 0, spec.head_dim];
  for (let i = 0; i < L; i++) {
    feeds[m.pastKeys[i]!] = past?.[i] ?? emptyFloat(emptyDims, m.req.dtype);
    feeds[m.pastValues[i]!] = past?.[L + i] ?? emptyFloat(emptyDims, m.req.dtype);
  }
  const out = await m.llm.run(feeds);
  const kv = [...m.presentKeys, ...m.presentValues].map((name) => {
    const t = out[name];
    if (!t) throw new Error(`llm graph did not return ${name}`);
    return t;
  });
  kvSessions.set(sessionId, { kv });
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
      const plane = req.pixels.length / req.batch / 3;
      const side = Math.round(Math.sqrt(plane));
      const out = await m.encoder.run({
        [g.inputs.pixels]: floatInput(req.pixels, [req.batch, 3, side, side], m.req.dtype),
      });
      const codes = out[g.outputs.codes];
      if (!codes) throw new Error(`encoder did not return ${g.outputs.codes}`);
      return BigInt64Array.from(readInt64(codes));
    }
    case 'denoise': {
      const m = loaded();
      const g = m.req.graphs.denoiser;
      const K = req.codes.length / req.batch;
      const perImage = req.xT.length / req.batch;
      const side = Math.round(Math.sqrt(perImage / 3));
      const dtype = m.req.dtype;
      const out = await m.denoiser.run({
        [g.inputs.x_t]: floatInput(req.xT, [req.batch, 3, side, side], dtype),
        [g.inputs.t]: floatInput(req.t, [req.batch], dtype),
        [g.inputs.codes]: int64Tensor(req.codes, [req.batch, K]),
        [g.inputs.mask]: floatInput(req.mask, [req.batch, K], dtype),
      });
      const x0 = out[g.outputs.x0];
      if (!x0) throw new Error(`denoiser did not return ${g.outputs.x0}`);
      return Float32Array.from(readFloat(x0));
    }
    case 'llmPrefill':
      kvSessions.delete(req.sessionId);
      return runLlm(
        req.sessionId,
        req.inputIds,
        req.attentionMask,
        req.positionIds,
        req.batch,
        req.seqLen,
        undefined,
      );
    case 'llmStep': {
      const s = kvSessions.get(req.sessionId);
      if (!s) throw new Error(`unknown LLM session ${req.sessionId}`);
      return runLlm(req.sessionId, req.inputIds, req.attentionMask, req.positionIds, req.batch, 1, s.kv);
    }
    case 'llmKeepRows': {
      const s = kvSessions.get(req.sessionId);
      if (!s) throw new Error(`unknown LLM session ${req.sessionId}`);
      s.kv = s.kv.map((t) => selectRows(t, req.rows));
      return null;
    }
    case 'llmRelease':
      kvSessions.delete(req.sessionId);
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
