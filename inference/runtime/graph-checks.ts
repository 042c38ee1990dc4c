/** Checks the loaded graphs against the manifest: declared input/output names, float dtype and static dims. */
import { ModelPackageError } from './errors.js';
import { type GraphName, type Manifest, sampleShape } from './manifest.js';
import { type GraphInfo, type LoadResult, layerNames } from './worker-protocol.js';

interface Expected {
  inputs: string[];
  outputs: string[];
}

export function expectedNames(m: Manifest): Partial<Record<GraphName, Expected>> {
  const { encoder, denoiser, llm } = m.graphs;
  const L = llm.num_layers;
  const plain = (g: { inputs: Record<string, string>; outputs: Record<string, string> } | null) =>
    g ? { inputs: Object.values(g.inputs), outputs: Object.values(g.outputs) } : undefined;
  return {
    encoder: { inputs: Object.values(encoder.inputs), outputs: Object.values(encoder.outputs) },
    denoiser: { inputs: Object.values(denoiser.inputs), outputs: Object.values(denoiser.outputs) },
    llm: {
      inputs: [
        llm.inputs.input_ids,
        llm.inputs.attention_mask,
        llm.inputs.position_ids,
        ...layerNames(llm.inputs.past_key, L),
        ...layerNames(llm.inputs.past_value, L),
      ],
      outputs: [
        llm.outputs.logits,
        ...layerNames(llm.outputs.present_key, L),
        ...layerNames(llm.outputs.present_value, L),
      ],
    },
    renderer: plain(m.graphs.renderer),
    vae_encoder: plain(m.graphs.vae_encoder),
    vae_decoder: plain(m.graphs.vae_decoder),
  };
}

function checkNames(info: GraphInfo, want: Expected): void {
  for (const name of want.inputs) {
    if (!info.inputNames.includes(name)) {
      throw new ModelPackageError(
        info.file,
        `graph has no input "${name}" declared in manifest.json (inputs: ${info.inputNames.join(', ')})`,
      );
    }
  }
  for (const name of info.inputNames) {
    if (!want.inputs.includes(name)) {
      throw new ModelPackageError(
        info.file,
        `graph input "${name}" is not declared in manifest.json, the runtime cannot feed it`,
      );
    }
  }
  for (const name of want.outputs) {
    if (!info.outputNames.includes(name)) {
      throw new ModelPackageError(
        info.file,
        `graph has no output "${name}" declared in manifest.json (outputs: ${info.outputNames.join(', ')})`,
      );
    }
  }
}

/** Float inputs/outputs must be in the manifest's dtype: the runtime feeds and reads exactly that type. */
function checkFloatTypes(info: GraphInfo, dtype: Manifest['dtype']): void {
  for (const [name, type] of Object.entries(info.types)) {
    if ((type === 'float32' || type === 'float16') && type !== dtype) {
      throw new ModelPackageError(info.file, `"${name}" is ${type}, manifest.json dtype is ${dtype}`);
    }
  }
}

function checkDim(info: GraphInfo, value: string, axis: number, want: number, what: string): void {
  const dim = info.shapes[value]?.[axis];
  if (typeof dim === 'number' && dim > 0 && dim !== want) {
    throw new ModelPackageError(
      info.file,
      `"${value}" axis ${axis} is ${dim}, manifest.json says ${what} = ${want}`,
    );
  }
}

/** Throws ModelPackageError naming the graph file on the first mismatch. */
export function checkGraphs(m: Manifest, loaded: LoadResult): void {
  const want = expectedNames(m);
  for (const name of Object.keys(want) as GraphName[]) {
    const info = loaded[name];
    const expected = want[name];
    if (!expected) continue;
    if (!info) throw new ModelPackageError(m.graphs[name]!.file, 'graph was not loaded');
    checkNames(info, expected);
    checkFloatTypes(info, m.dtype);
  }
  const K = m.tokens.per_image;
  const g = m.graphs;
  // x_t, x0 and the encoder input are [B, C, h, w]: the latent when `latent` is set, else model pixels.
  const [C, side] = sampleShape(m);
  const what = m.latent ? ['latent.channels', 'latent.size'] : ['3 (RGB)', 'image.size'];
  checkDim(loaded.encoder, g.encoder.outputs.codes, 1, K, 'tokens.per_image');
  checkDim(loaded.denoiser, g.denoiser.inputs.codes, 1, K, 'tokens.per_image');
  for (const [info, value] of [
    [loaded.encoder, g.encoder.inputs.pixels],
    [loaded.denoiser, g.denoiser.inputs.x_t],
    [loaded.denoiser, g.denoiser.outputs.x0],
    ...(loaded.renderer && g.renderer ? [[loaded.renderer, g.renderer.outputs.x0]] : []),
    ...(loaded.vae_encoder && g.vae_encoder ? [[loaded.vae_encoder, g.vae_encoder.outputs.latent]] : []),
    ...(loaded.vae_decoder && g.vae_decoder ? [[loaded.vae_decoder, g.vae_decoder.inputs.latent]] : []),
  ] as [GraphInfo, string][]) {
    checkDim(info, value, 1, C, what[0]!);
    checkDim(info, value, 2, side, what[1]!);
  }
  if (loaded.renderer && g.renderer)
    checkDim(loaded.renderer, g.renderer.inputs.codes, 1, K, 'tokens.per_image');
  if (loaded.vae_encoder && g.vae_encoder)
    checkDim(loaded.vae_encoder, g.vae_encoder.inputs.pixels, 2, m.image.size, 'image.size');
  if (loaded.vae_decoder && g.vae_decoder)
    checkDim(loaded.vae_decoder, g.vae_decoder.outputs.pixels, 2, m.image.size, 'image.size');
  const llm = m.graphs.llm;
  checkDim(loaded.llm, llm.outputs.logits, 2, m.vocab.size, 'vocab.size');
  const key0 = layerNames(llm.inputs.past_key, 1)[0]!;
  checkDim(loaded.llm, key0, 1, llm.num_kv_heads, 'graphs.llm.num_kv_heads');
  checkDim(loaded.llm, key0, 3, llm.head_dim, 'graphs.llm.head_dim');
}
