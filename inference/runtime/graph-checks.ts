/** Checks the loaded graphs against the manifest: declared input/output names and static dims. */
import { ModelPackageError } from './errors.js';
import type { Manifest } from './manifest.js';
import { type GraphInfo, type LoadResult, layerNames } from './worker-protocol.js';

interface Expected {
  inputs: string[];
  outputs: string[];
}

export function expectedNames(m: Manifest): Record<'encoder' | 'denoiser' | 'llm', Expected> {
  const { encoder, denoiser, llm } = m.graphs;
  const L = llm.num_layers;
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
  checkNames(loaded.encoder, want.encoder);
  checkNames(loaded.denoiser, want.denoiser);
  checkNames(loaded.llm, want.llm);
  const K = m.tokens.per_image;
  checkDim(loaded.encoder, m.graphs.encoder.outputs.codes, 1, K, 'tokens.per_image');
  checkDim(loaded.denoiser, m.graphs.denoiser.inputs.codes, 1, K, 'tokens.per_image');
  checkDim(loaded.denoiser, m.graphs.denoiser.inputs.x_t, 2, m.image.size, 'image.size');
  checkDim(loaded.encoder, m.graphs.encoder.inputs.pixels, 2, m.image.size, 'image.size');
  const llm = m.graphs.llm;
  checkDim(loaded.llm, llm.outputs.logits, 2, m.vocab.size, 'vocab.size');
  const key0 = layerNames(llm.inputs.past_key, 1)[0]!;
  checkDim(loaded.llm, key0, 1, llm.num_kv_heads, 'graphs.llm.num_kv_heads');
  checkDim(loaded.llm, key0, 3, llm.head_dim, 'graphs.llm.head_dim');
}
