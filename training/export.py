"""Export a trained run to a model package (docs/model-package.md) and check ONNX Runtime against PyTorch.

    python training/export.py --preset small --run training/runs/small --out models/shapes-ddt-small \
        [--golden test/fixtures/golden/shapes-ddt-small.json]
"""

from __future__ import annotations

import argparse
import base64
import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from ddt.common import load_checkpoint, setup_torch
from ddt.data import to_tensor
from ddt.language import (
    CAPTION_INSTRUCTION, PROMPT_INSTRUCTION, caption_edit_request, caption_question_request, edit_plan_request,
    plan_request,
)
from ddt.export_graphs import DenoiserGraph, LlamaGraph, RendererGraph
from ddt.llm import KVCacheLlama, make_llm
from ddt.pipeline import Pipeline, Sampling, seeds_for
from ddt.presets import PRESETS, CaptionRerank, ImageRerank, Preset, decode_steps
from ddt.rng import image_seed
from ddt.shared_weights import share_weights
from ddt.tasks import eval_scene, sample_any_edit, t2i_prompt
from ddt.tokenizer_model import DDTTokenizer, Renderer
from ddt.vocab import SPECIALS, Vocab, build_text_tokenizer
from ddt.world import Obj, make_scene, render

# opset 20 exports tanh-GELU as one Gelu node (17 spelled it as 9 element-wise nodes per use)
OPSET = 20
FORMAT_VERSION = 1
DECODER_WEIGHTS = "decoder.weights"  # external data of denoiser.onnx and renderer.onnx when there is a renderer


class EncoderGraph(torch.nn.Module):
    def __init__(self, tok: DDTTokenizer):
        super().__init__()
        self.tok = tok

    def forward(self, pixels):
        return self.tok.encode(pixels)


def load_run(run: Path, preset):
    tok = DDTTokenizer(preset.tokenizer)
    ck_t = load_checkpoint(run / "tokenizer.pt")
    tok.load_state_dict(ck_t["model"])
    vocab = Vocab(build_text_tokenizer(), preset.tokenizer.codebook_size)
    llm = make_llm(preset.llm, vocab.size)
    ck_l = load_checkpoint(run / "llm.pt")
    llm.load_state_dict(ck_l["model"])
    return tok.eval(), llm.eval(), vocab, ck_t, ck_l


def load_renderer(run: Path, tok: DDTTokenizer) -> tuple[Renderer | None, dict | None]:
    """The run's one-step renderer (renderer.pt, train_renderer.py) and its checkpoint, or (None, None). A slim
    checkpoint (`added_only`, slim_renderer) holds the added blocks alone, the rest being the decoder's. The
    added blocks' weights are rounded to float16 precision, as the slim checkpoint stores them, so the package,
    the golden files and the benchmark's reference all compute with the same weights."""
    ck = load_checkpoint(run / "renderer.pt")
    if not ck:
        return None, None
    renderer = Renderer(tok.cfg, tok.fsq, ck.get("extra_layers", 0))
    if ck.get("added_only"):
        renderer.load_slim(tok.denoiser.state_dict(), ck["model"])
    else:
        renderer.load_state_dict(ck["model"])
        if ck.get("tied_decoder"):
            # trained together with the denoising loss on one set of decoder weights (train_renderer.py
            # --denoise-weight): those weights are the package's denoiser too, and the graphs share them
            tok.denoiser.load_state_dict({k[len("net."):]: v for k, v in ck["model"].items()
                                          if k.startswith("net.") and not k.startswith(renderer.added_prefixes)})
    with torch.no_grad():
        for name, param in renderer.named_parameters():
            if name.startswith(renderer.added_prefixes):
                param.copy_(param.half().float())
    return renderer.eval(), ck


def slim_renderer(renderer: Renderer, ck: dict, tok: DDTTokenizer) -> dict:
    """The renderer's committed checkpoint: its added blocks alone in float16 when the rest is still the decoder
    (trained with --decoder-lr-scale 0, or tied to it), else every weight."""
    meta = {k: v for k, v in ck.items() if k not in ("model", "opt")}
    state = renderer.state_dict()
    decoder = tok.denoiser.state_dict()
    if all(torch.equal(state[f"net.{k}"], v) for k, v in decoder.items()):
        added = {k: v.half() for k, v in state.items() if k.startswith(renderer.added_prefixes)}
        return {**meta, "added_only": True, "model": added}
    return {**meta, "model": state}


def export_graphs(tok: DDTTokenizer, llm, out: Path, kv_cache: str = "buffer",
                  renderer: Renderer | None = None) -> dict:
    cfg = tok.cfg
    s, K = cfg.image_size, cfg.k
    enc = EncoderGraph(tok).eval()
    torch.onnx.export(enc, (torch.zeros(2, 3, s, s),), out / "encoder.onnx", input_names=["pixels"],
                      output_names=["codes"], dynamic_axes={"pixels": {0: "batch"}, "codes": {0: "batch"}},
                      opset_version=OPSET)
    den = DenoiserGraph(tok.denoiser).eval()  # same maths, fewer and larger nodes (ddt/export_graphs.py)
    args = (torch.zeros(2, 3, s, s), torch.full((2,), 0.5), torch.zeros(2, K, dtype=torch.long), torch.ones(2, K))
    torch.onnx.export(den, args, out / "denoiser.onnx", input_names=["x_t", "t", "codes", "mask"],
                      output_names=["x0"], opset_version=OPSET,
                      dynamic_axes={n: {0: "batch"} for n in ("x_t", "t", "codes", "mask", "x0")})
    if renderer is not None:
        ren = RendererGraph(DenoiserGraph(renderer.net)).eval()
        torch.onnx.export(ren, args[2:], out / "renderer.onnx", input_names=["codes", "mask"], output_names=["x0"],
                          opset_version=OPSET, dynamic_axes={n: {0: "batch"} for n in ("codes", "mask", "x0")})
        # the renderer's decoder blocks are the denoiser's: one copy of their weights for both graphs
        print(json.dumps(share_weights([out / "denoiser.onnx", out / "renderer.onnx"], DECODER_WEIGHTS)))
    else:
        (out / DECODER_WEIGHTS).unlink(missing_ok=True)
    wrap = LlamaGraph(KVCacheLlama(llm), kv_cache=kv_cache).eval()
    L = wrap.layers
    past = [torch.zeros(2, wrap.kv_heads, 3, wrap.head_dim) for _ in range(2 * L)]
    names_in = ["input_ids", "attention_mask", "position_ids"]
    names_past = [f"past_key_values.{i}.{kv}" for i in range(L) for kv in ("key", "value")]
    names_pres = [f"present.{i}.{kv}" for i in range(L) for kv in ("key", "value")]
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "total"},
           "position_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    dyn.update({n: {0: "batch", 2: "past"} for n in names_past})
    dyn.update({n: {0: "batch", 2: "total" if kv_cache == "append" else "seq"} for n in names_pres})
    ids = torch.ones(2, 2, dtype=torch.long)
    torch.onnx.export(wrap, (ids, torch.ones(2, 5, dtype=torch.long), torch.ones(2, 2, dtype=torch.long), *past),
                      out / "llm.onnx", input_names=names_in + names_past, output_names=["logits"] + names_pres,
                      dynamic_axes=dyn, opset_version=OPSET)
    for f in ("encoder.onnx", "denoiser.onnx", "llm.onnx"):
        onnx.checker.check_model(str(out / f))
    return {"num_layers": L, "num_kv_heads": wrap.kv_heads, "head_dim": wrap.head_dim, "kv_cache": kv_cache}


def check_parity(tok: DDTTokenizer, llm, out: Path, kv_cache: str = "buffer",
                 renderer: Renderer | None = None) -> dict:
    """Max |ORT - torch| for each graph, including an empty KV cache and a cached step. The references are the
    training modules, so this also checks the restructured export graphs (ddt/export_graphs.py)."""
    so = ort.SessionOptions()
    res = {}
    cfg = tok.cfg
    x = to_tensor([render(make_scene([Obj(0, "red", "circle"), Obj(4, "blue", "square")]), cfg.image_size)])
    enc = ort.InferenceSession(str(out / "encoder.onnx"), so)
    codes = enc.run(None, {"pixels": x.numpy()})[0]
    res["encoder_codes_equal"] = bool((codes == tok.encode(x).numpy()).all())
    den = ort.InferenceSession(str(out / "denoiser.onnx"), so)
    g = torch.Generator().manual_seed(0)
    xt = torch.randn(3, 3, cfg.image_size, cfg.image_size, generator=g)
    t = torch.tensor([0.9, 0.5, 0.1])
    c = torch.randint(0, cfg.codebook_size, (3, cfg.k), generator=g)
    m = (torch.rand(3, cfg.k, generator=g) > 0.3).float()
    ref = tok.denoiser(xt, t, c, m).detach().numpy()
    got = den.run(None, {"x_t": xt.numpy(), "t": t.numpy(), "codes": c.numpy(), "mask": m.numpy()})[0]
    res["denoiser_max_diff"] = float(np.abs(ref - got).max())
    if renderer is not None:
        ren = ort.InferenceSession(str(out / "renderer.onnx"), so)
        ref = renderer(c, m).detach().numpy()
        got = ren.run(None, {"codes": c.numpy(), "mask": m.numpy()})[0]
        res["renderer_max_diff"] = float(np.abs(ref - got).max())
    wrap = KVCacheLlama(llm).eval()
    sess = ort.InferenceSession(str(out / "llm.onnx"), so)
    ids = torch.randint(8, 60, (2, 7), generator=g)
    attn = torch.ones(2, 7, dtype=torch.long)
    attn[1, :2] = 0
    pos = torch.clamp(torch.cumsum(attn, 1) - 1, min=0)
    with torch.no_grad():
        hf = llm(input_ids=ids[:1], attention_mask=attn[:1]).logits.numpy()
        full = wrap(ids, attn, pos, *wrap.empty_past(2))
    feeds = {"input_ids": ids.numpy(), "attention_mask": attn.numpy(), "position_ids": pos.numpy()}
    for i in range(wrap.layers):
        for j, kv in enumerate(("key", "value")):
            feeds[f"past_key_values.{i}.{kv}"] = np.zeros((2, wrap.kv_heads, 0, wrap.head_dim), np.float32)
    outs = sess.run(None, feeds)
    res["llm_vs_hf_max_diff"] = float(np.abs(full[0][:1].numpy() - hf).max())
    res["llm_empty_cache_max_diff"] = float(np.abs(outs[0] - full[0].numpy()).max())
    # cached step: feed the first 6 tokens, then the 7th with the cache
    feeds6 = dict(feeds, input_ids=ids[:, :6].numpy(), attention_mask=attn[:, :6].numpy(),
                  position_ids=pos[:, :6].numpy())
    outs6 = sess.run(None, feeds6)
    step = {"input_ids": ids[:, 6:].numpy(), "attention_mask": attn.numpy(), "position_ids": pos[:, 6:].numpy()}
    past6 = outs6[1:]
    if kv_cache == "buffer":  # 6 cached slots and 3 free ones holding garbage that the mask must hide
        past6 = [np.concatenate([t, np.full((*t.shape[:2], 3, t.shape[3]), 1e3, np.float32)], axis=2) for t in past6]
        step["attention_mask"] = np.concatenate([attn[:, :6].numpy(), np.zeros((2, 3), np.int64),
                                                 attn[:, 6:].numpy()], axis=1)
    for i in range(wrap.layers):
        step[f"past_key_values.{i}.key"] = past6[2 * i]
        step[f"past_key_values.{i}.value"] = past6[2 * i + 1]
    outs7 = sess.run(None, step)
    res["llm_cached_step_max_diff"] = float(np.abs(outs7[0][:, -1] - full[0][:, -1].numpy()).max())
    return res


def write_manifest(out: Path, name: str, preset, vocab: Vocab, llm_shape: dict, ck_t, ck_l, defaults: dict,
                   ck_r: dict | None = None):
    """ck_r: the renderer's checkpoint when the package has renderer.onnx (export_graphs with a renderer)."""
    tcfg = preset.tokenizer
    renderer = {"file": "renderer.onnx", "inputs": {"codes": "codes", "mask": "mask"}, "outputs": {"x0": "x0"}}
    manifest = {
        "format": "ddt-model-package",
        "format_version": FORMAT_VERSION,
        "name": name,
        "description": "Small DDT-LLaMA trained on the procedural shapes world (32x32): captions, VQA, "
                       "text-to-image, editing and chat.",
        "capabilities": ["caption", "ask", "generate", "edit", "chat", "blend", "encode", "decode"],
        "dtype": "float32",
        "image": {"size": tcfg.image_size, "mean": [0.5] * 3, "std": [0.5] * 3, "background": "normalize_white"},
        "latent": None,
        "tokens": {"per_image": tcfg.k, "codebook_size": tcfg.codebook_size, "order": "coarse_to_fine"},
        "schedule": {"type": "piecewise_linear", "knots": tcfg.knots},
        "sampler": {"type": "rectified_flow_x0", "steps": preset.sampler_steps, "min_steps": 1, "max_steps": 50,
                    "use_renderer": bool(ck_r) and preset.use_renderer},
        "vocab": {"size": vocab.size, "text_size": vocab.text_size, "visual_offset": vocab.text_size,
                  "special": {s.strip("<>"): vocab.id(s) for s in SPECIALS}},
        "prompting": {"caption_instruction": CAPTION_INSTRUCTION, "prompt_instruction": PROMPT_INSTRUCTION,
                      **plan_templates(preset), "max_prompt_tokens": 64, "max_sequence": 512},
        "generation": defaults,
        "graphs": {
            "encoder": {"file": "encoder.onnx", "inputs": {"pixels": "pixels"}, "outputs": {"codes": "codes"}},
            "denoiser": {"file": "denoiser.onnx",
                         "inputs": {"x_t": "x_t", "t": "t", "codes": "codes", "mask": "mask"},
                         "outputs": {"x0": "x0"}},
            "llm": {"file": "llm.onnx", **llm_shape,
                    "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask",
                               "position_ids": "position_ids", "past_key": "past_key_values.{i}.key",
                               "past_value": "past_key_values.{i}.value"},
                    "outputs": {"logits": "logits", "present_key": "present.{i}.key",
                                "present_value": "present.{i}.value"}},
            "renderer": renderer if ck_r else None, "vae_encoder": None, "vae_decoder": None,
        },
        "tokenizer": "tokenizer.json",
        "training": {"preset": preset.name, "tokenizer_steps": ck_t["step"], "tokenizer_seconds": round(ck_t["seconds"]),
                     "llm_steps": ck_l["step"], "llm_seconds": round(ck_l["seconds"]),
                     **({"renderer_steps": ck_r["step"], "renderer_seconds": round(ck_r["seconds"]),
                         "renderer_extra_layers": ck_r.get("extra_layers", 0)} if ck_r else {})},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    vocab.text.save(str(out / "tokenizer.json"))
    return manifest


def plan_templates(preset: Preset) -> dict:
    """The manifest's prompting.plan_template and edit_plan_template (docs/model-package.md, "Plans") and
    answer_template ("Answers by caption"), as far as the preset plans."""
    out = {"plan_template": plan_request("{prompt}")} if preset.plan else {}
    if preset.edit_plan == "image":
        out["edit_plan_template"] = edit_plan_request("{instruction}")
    elif preset.edit_plan == "caption":
        out["edit_plan_template"] = caption_edit_request("{caption}", "{instruction}")
    if preset.answer_by_caption:
        out["answer_template"] = caption_question_request("{caption}", "{question}")
    return out


def asked_for(pipe: Pipeline, preset: Preset, prompt: str) -> tuple[str, dict]:
    """What the images of a text-to-image request are drawn from: the model's plan when the preset plans
    (and the golden field that records it), else the prompt."""
    if not preset.plan:
        return prompt, {}
    plan = pipe.plans([prompt])[0]
    return plan, {"plan": plan}


def reranked_caption_cases(pipe: Pipeline, preset: Preset, want: int = 2, tries: int = 60) -> list[dict]:
    """Held-out scenes whose caption differs from the greedy one, and as many again whose refined caption
    differs from the reranked one (so a runtime that skipped or mis-ordered the reranking or the refinement
    would fail on them), with the greedy, reranked (unrefined) and final captions."""
    cr = preset.caption_rerank
    if cr.candidates <= 0 and cr.refine_rounds <= 0:
        return []
    rng = random.Random(23)
    size = pipe.tok.cfg.image_size
    reranked, refined = [], []
    for _ in range(tries):
        img = render(eval_scene(rng), size)
        codes = pipe.encode([img])
        greedy = pipe.caption(codes, CAPTION_INSTRUCTION)[0]
        unrefined = pipe.caption(codes, CAPTION_INSTRUCTION, replace(cr, refine_rounds=0))[0]
        chosen = pipe.caption(codes, CAPTION_INSTRUCTION, cr)[0]
        case = {"pixels": img, "greedy": greedy, "reranked": unrefined, "text": chosen}
        if chosen != unrefined and len(refined) < want:
            refined.append(case)
        elif chosen != greedy and len(reranked) < want:
            reranked.append(case)
        if len(reranked) == want and (len(refined) == want or not cr.refine_rounds):
            break
    return reranked + refined


def caption_rerank_fields(rerank: CaptionRerank) -> dict:
    """The manifest's generation.caption_* fields (also eval.json's)."""
    out = {"caption_candidates": rerank.candidates, "caption_candidate_temperature": rerank.temperature,
           "caption_likelihood_weight": rerank.likelihood_weight}
    if rerank.refine_rounds:
        out["caption_refine"] = {"rounds": rerank.refine_rounds, "phrases": [list(c) for c in rerank.phrases]}
    return out


def image_rerank_fields(rerank: ImageRerank) -> dict:
    """The manifest's generation.image_candidate* fields (also eval.json's)."""
    return {"image_candidates": rerank.candidates, "image_candidate_temperature": rerank.temperature,
            "image_candidate_forward_weight": rerank.forward_weight,
            "image_candidate_round_trip": rerank.round_trip, "image_candidate_caption_weight": rerank.caption_weight,
            "edit_image_candidate_round_trip": rerank.edit_round_trip,
            "edit_image_candidate_source_weight": rerank.source_weight}


def reranked_image_cases(pipe: Pipeline, preset: Preset, guidance: float, want: int = 2,
                         tries: int = 40) -> list[dict]:
    """Held-out prompts whose reranked image differs from the request's own codes, with both code lists."""
    if preset.image_rerank.candidates <= 0:
        return []
    rng = random.Random(29)
    sp = Sampling(temperature=0.0, guidance=guidance, steps=decode_steps(preset, pipe.renderer is not None))
    cases = []
    for i in range(tries):
        prompt = t2i_prompt(rng, train=False, category="relation")[0]
        seed = image_seed(300, i)
        asked, plan = asked_for(pipe, preset, prompt)
        own = pipe.generate([asked], sp, [seed])[0][0]
        chosen = pipe.generate([asked], sp, [seed], rerank=preset.image_rerank)[0][0]
        if chosen != own:
            cases.append({"prompt": prompt, "seed": str(seed), "own": own, "tokens": chosen, **plan})
            if len(cases) == want:
                break
    return cases


def planned_edit_case(pipe: Pipeline, preset: Preset, sp: Sampling, codes: list[int], image: np.ndarray) -> dict:
    """An edit of the golden scene (`image`, its `codes`): the model's caption of the edited image and the image
    drawn from it."""
    instruction = "make the blue square red"
    plan = pipe.edit_plans([codes], [instruction], preset.edit_plan, preset.caption_rerank)[0]
    seed = image_seed(400, 0)
    tokens = pipe.generate([plan], sp, [seed], rerank=preset.image_rerank, captioned=True, sources=[image])[0][0]
    return {"instruction": instruction, "seed": str(seed), "plan": plan, "tokens": tokens}


def source_edit_cases(pipe: Pipeline, preset: Preset, sp: Sampling, want: int = 1, tries: int = 40) -> list[dict]:
    """Planned edits of held-out scenes whose image the source term (ImageRerank.source_weight) chose differently
    from the scores without it: the source pixels, the plan, the image's codes with and without the term."""
    rerank = preset.image_rerank
    if not (preset.edit_plan and rerank.candidates and rerank.round_trip_for(True) and rerank.source_weight):
        return []
    rng = random.Random(37)
    cases = []
    for i in range(tries):
        scene = eval_scene(rng)
        instruction = sample_any_edit(rng, scene)[0]
        img = render(scene, pipe.tok.cfg.image_size)
        plan = pipe.edit_plans(pipe.encode([img]), [instruction], preset.edit_plan, preset.caption_rerank)[0]
        seed = image_seed(500, i)
        draw = lambda r: pipe.generate([plan], sp, [seed], rerank=r, captioned=True, sources=[img])[0][0]  # noqa: E731
        tokens, without = draw(rerank), draw(replace(rerank, source_weight=0.0))
        if tokens != without:
            cases.append({"pixels": img, "instruction": instruction, "seed": str(seed), "plan": plan,
                          "tokens": tokens, "without_source": without})
            if len(cases) == want:
                break
    return cases


def write_golden(pipe: Pipeline, path: Path, preset: Preset, guidance: float) -> None:
    """Fixed inputs and the Python reference's outputs, for the TypeScript parity tests."""
    steps = decode_steps(preset, pipe.renderer is not None)
    size = pipe.tok.cfg.image_size
    prompts = ["two red circles", "a blue square at the top left", "a green triangle to the left of a purple square"]
    seeds = seeds_for(42, len(prompts))
    sp = Sampling(temperature=0.0, guidance=guidance, steps=steps)
    asked = [asked_for(pipe, preset, p) for p in prompts]
    codes, imgs = pipe.generate([a for a, _ in asked], sp, seeds, rerank=preset.image_rerank)
    scene = make_scene([Obj(0, "red", "circle"), Obj(4, "blue", "square"), Obj(8, "yellow", "triangle")])
    img = render(scene, size)
    enc = pipe.encode([img])[0]
    cap = pipe.caption([enc], CAPTION_INSTRUCTION, preset.caption_rerank)[0]
    question = "how many circles are there"
    if preset.answer_by_caption:  # read off the caption above, as the runtime does
        ask = {"answer": pipe.answers_by_caption([cap], [question])[0], "caption": cap}
    else:
        ask = {"answer": pipe.answer([enc], [question])[0]}
    keep_img = pipe.decode([enc], steps, [7], keep=[4])[0]
    b64 = lambda a: base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()  # noqa: E731
    golden = {
        "about": "Python reference outputs (training/export.py). Pixels are base64 uint8 RGB, row-major.",
        "image_size": size,
        "generate": [{"prompt": p, "seed": str(sd), "guidance_scale": guidance, "temperature": 0.0, "steps": steps,
                      "tokens": c, "pixels": b64(im), **a[1]} for p, sd, c, im, a in zip(prompts, seeds, codes, imgs, asked)],
        **({"edit_planned": planned_edit_case(pipe, preset, sp, enc, img)} if preset.edit_plan else {}),
        "edit_planned_source": [{**c, "pixels": b64(c["pixels"])} for c in source_edit_cases(pipe, preset, sp)],
        "encode": {"scene": "red circle top left, blue square center, yellow triangle bottom right",
                   "pixels": b64(img), "tokens": enc},
        "caption": {"tokens": enc, "text": cap},
        "caption_reranked": [{**c, "pixels": b64(c["pixels"])} for c in reranked_caption_cases(pipe, preset)],
        "generate_reranked": reranked_image_cases(pipe, preset, guidance),
        "ask": {"tokens": enc, "question": question, **ask},
        "decode_keep": {"tokens": enc, "keep": 4, "seed": "7", "steps": steps, "pixels": b64(keep_img)},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(golden) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--run", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default=None)
    ap.add_argument("--golden", default=None)
    ap.add_argument("--guidance", type=float, default=None)
    ap.add_argument("--temperature", type=float, default=0.0, help="image tokens (0 = greedy, the measured best)")
    ap.add_argument("--top-k", type=int, default=0)
    ap.add_argument("--kv-cache", choices=("buffer", "append"), default="buffer",
                    help="LLM KV-cache convention (ddt/export_graphs.py): buffer (new keys/values out, written in "
                         "place by the runtime) or append (the Hugging Face convention: the whole cache out)")
    ap.add_argument("--slim-dir", default=None,
                    help="also write weights-only checkpoints here (committed, so a later session can resume)")
    args = ap.parse_args()
    setup_torch()
    random.seed(0)
    preset = PRESETS[args.preset]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tok, llm, vocab, ck_t, ck_l = load_run(Path(args.run), preset)
    renderer, ck_r = load_renderer(Path(args.run), tok)
    shape = export_graphs(tok, llm, out, args.kv_cache, renderer)
    guidance = args.guidance if args.guidance is not None else preset.guidance_scale
    defaults = {"temperature": args.temperature, "top_k": args.top_k, "top_p": 1.0, "guidance_scale": guidance,
                "text_temperature": 0.0, "max_new_text_tokens": 48,
                **caption_rerank_fields(preset.caption_rerank),
                **image_rerank_fields(preset.image_rerank)}
    write_manifest(out, args.name or out.name, preset, vocab, shape, ck_t, ck_l, defaults, ck_r)
    if renderer is None:  # a package re-exported without one must not keep an old renderer file
        (out / "renderer.onnx").unlink(missing_ok=True)
    parity = check_parity(tok, llm, out, args.kv_cache, renderer)
    print(json.dumps(parity))
    assert parity["encoder_codes_equal"], parity
    assert max(v for k, v in parity.items() if k.endswith("diff")) < 1e-3, parity
    (out / "parity.json").write_text(json.dumps(parity, indent=2) + "\n")
    if args.slim_dir:
        slim = Path(args.slim_dir)
        slim.mkdir(parents=True, exist_ok=True)
        if ck_r and ck_r.get("tied_decoder"):  # the denoiser trained on with the renderer: its weights now
            ck_t = {**ck_t, "model": tok.state_dict(), "decoder_from_renderer_step": ck_r["step"]}
        for name, ck in (("tokenizer.pt", ck_t), ("llm.pt", ck_l)):
            torch.save({k: v for k, v in ck.items() if k != "opt"}, slim / name)
        if renderer is not None:
            torch.save(slim_renderer(renderer, ck_r, tok), slim / "renderer.pt")
    if args.golden:
        write_golden(Pipeline(tok, KVCacheLlama(llm), vocab, renderer), Path(args.golden), preset, guidance)


if __name__ == "__main__":
    main()
