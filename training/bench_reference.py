"""PyTorch side of the pipeline benchmark (bench/, issue "Benchmarks"): a JSON-lines server over stdin/stdout.

The TypeScript bench starts it, waits for the "ready" line, then alternates its own runs with requests here, so
both sides run the same package, prompts, seeds, step counts and batch sizes on the same cores, one at a time.

    python training/bench_reference.py serve --run training/runs/small --preset small [--threads 2]
    python training/bench_reference.py serve --run random --preset tiny --export /tmp/pkg   # smoke / CI

`--run random` builds seeded random weights for the preset (no training run needed) and, with --export, writes
the matching model package first so the TypeScript side loads exactly the same weights.

Requests (one JSON object per line) and replies:
  {"op": "generate", "prompt": str, "count": B, "seed": "42", "steps": S, "guidance": g, "temperature": T,
   "top_k": k, "top_p": p, "repeat": R}
  {"op": "edit", "image": i, "instruction": str, ...same sampling fields...}
  ("plan" on generate: true; on edit: "image" or "caption": planned as the manifest's templates say,
   docs/model-package.md "Plans")
  {"op": "caption", "image": i, "count": B, "repeat": R}
  {"op": "flops", "batch": B, "prompt_len": S, "past": P}
  {"op": "quit"}
  -> {"ok": true, "seconds": [per repeat], "stages": {name: seconds per repeat, averaged}, "tokens"/"text": ...}
  -> {"ok": false, "error": str} on failure.
Times are measured here (time.perf_counter around the PyTorch calls), so pipe IPC is not charged to PyTorch.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ddt.pipeline as pipeline_mod  # noqa: E402
from ddt.common import setup_torch  # noqa: E402
from ddt.language import CAPTION_INSTRUCTION  # noqa: E402
from ddt.llm import KVCacheLlama, make_llm  # noqa: E402
from ddt.pipeline import Pipeline, Sampling, seeds_for  # noqa: E402
from ddt.presets import PRESETS, CaptionRerank, ImageRerank, decode_steps  # noqa: E402
from ddt.tokenizer_model import DDTTokenizer, Renderer  # noqa: E402
from ddt.vocab import Vocab, build_text_tokenizer  # noqa: E402
from ddt.world import Obj, make_scene, render  # noqa: E402

# Fixed inputs for Edit and Caption (rendered here, sent to the TypeScript side as raw RGB).
SCENES = [
    [Obj(0, "red", "circle"), Obj(4, "blue", "square")],
    [Obj(2, "green", "triangle"), Obj(6, "yellow", "circle"), Obj(8, "purple", "square")],
]


class StageTimer:
    """Accumulates wall time per stage by wrapping the reference pipeline's functions (no edits to them)."""

    def __init__(self):
        self.totals = defaultdict(float)
        self.counts = defaultdict(int)

    def wrap(self, name, fn):
        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.totals[name] += time.perf_counter() - t0
                self.counts[name] += 1

        return timed

    def reset(self):
        self.totals.clear()
        self.counts.clear()


def random_run(preset):
    """Seeded random weights for a preset: (tok, llm, vocab, ck_t, ck_l) like export.load_run."""
    torch.manual_seed(0)
    tok = DDTTokenizer(preset.tokenizer).eval()
    vocab = Vocab(build_text_tokenizer(), preset.tokenizer.codebook_size)
    llm = make_llm(preset.llm, vocab.size).eval()
    ck = {"step": 0, "seconds": 0}
    return tok, llm, vocab, ck, ck


def random_renderer(preset, tok: DDTTokenizer) -> tuple[Renderer | None, dict | None]:
    """A renderer with seeded random added blocks when the preset uses one, like export.load_renderer."""
    if not preset.use_renderer:
        return None, None
    torch.manual_seed(1)
    renderer = Renderer(tok.cfg, tok.fsq, extra_layers=1).eval()
    renderer.net.load_state_dict(tok.denoiser.state_dict(), strict=False)
    return renderer, {"step": 0, "seconds": 0}


def build(args):
    preset = PRESETS[args.preset]
    if args.run == "random":
        tok, llm, vocab, ck_t, ck_l = random_run(preset)
        renderer, ck_r = random_renderer(preset, tok)
    else:
        from export import load_renderer, load_run

        tok, llm, vocab, ck_t, ck_l = load_run(Path(args.run), preset)
        renderer, ck_r = load_renderer(Path(args.run), tok)
    exported = None
    if args.export:
        from export import export_graphs, write_manifest

        out = Path(args.export)
        out.mkdir(parents=True, exist_ok=True)
        shape = export_graphs(tok, llm, out, renderer=renderer)
        defaults = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "guidance_scale": preset.guidance_scale,
                    "text_temperature": 0.0, "max_new_text_tokens": 48}
        write_manifest(out, out.name, preset, vocab, shape, ck_t, ck_l, defaults, ck_r)
        exported = str(out)
    return Pipeline(tok, KVCacheLlama(llm), vocab, renderer), preset, exported


def instrument(pipe: Pipeline, timer: StageTimer) -> None:
    pipe._run = timer.wrap("prefill", pipe._run)
    pipe._step = timer.wrap("token_step", pipe._step)
    pipe.tok.encode = timer.wrap("encode", pipe.tok.encode)
    pipe.decode = timer.wrap("decode_total", pipe.decode)  # noise + diffusion + to_uint8
    pipeline_mod.sample = timer.wrap("diffusion", pipeline_mod.sample)


def sampling(req, preset, default_steps: int) -> Sampling:
    """default_steps: the package's (presets.decode_steps), for requests that leave steps out."""
    return Sampling(temperature=float(req.get("temperature", 1.0)), top_k=int(req.get("top_k", 0)),
                    top_p=float(req.get("top_p", 1.0)), guidance=float(req.get("guidance", preset.guidance_scale)),
                    steps=int(req.get("steps", default_steps)))


def image_rerank(req) -> ImageRerank:
    """The package's image reranking, as the bench sends it (generation.image_candidate_*)."""
    return ImageRerank(int(req.get("image_candidates", 0)), float(req.get("image_temperature", 0.7)),
                       float(req.get("image_forward_weight", 0.0)), bool(req.get("image_round_trip", False)),
                       float(req.get("image_caption_weight", 0.0)), req.get("image_edit_round_trip"),
                       float(req.get("image_edit_source_weight", 0.0)))


def caption_rerank(req) -> CaptionRerank:
    """The package's caption reranking and refinement, as the bench sends it (generation.caption_*)."""
    refine = req.get("caption_refine") or {}
    return CaptionRerank(int(req.get("caption_candidates", 0)), float(req.get("caption_temperature", 1.0)),
                         float(req.get("caption_likelihood_weight", 0.0)), int(refine.get("rounds", 0)),
                         tuple(tuple(c) for c in refine.get("phrases", ())))


def run_repeated(req, timer: StageTimer, fn):
    """Runs fn() `repeat` times; returns seconds per repeat, mean stage seconds per repeat, last result."""
    repeat = int(req.get("repeat", 1))
    seconds, result = [], None
    timer.reset()
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t0)
    stages = {k: v / repeat for k, v in timer.totals.items()}
    calls = {k: v / repeat for k, v in timer.counts.items()}
    return seconds, stages, calls, result


def flops(pipe: Pipeline, req) -> dict:
    """FLOPs counted by torch's FlopCounterMode (matmuls, convs, attention) for one call of each graph."""
    from torch.utils.flop_counter import FlopCounterMode

    B, S, P = int(req.get("batch", 1)), int(req.get("prompt_len", 8)), int(req.get("past", 24))
    cfg = pipe.tok.cfg
    s, K = cfg.image_size, cfg.k
    out = {}

    def count(name, fn):
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            fn()
        out[name] = int(fc.get_total_flops())

    x = torch.zeros(B, 3, s, s)
    codes = torch.zeros(B, K, dtype=torch.long)
    count("encoder", lambda: pipe.tok.encode(x))
    count("denoiser", lambda: pipe.tok.denoiser(x, torch.full((B,), 0.5), codes, torch.ones(B, K)))
    ids = torch.ones(B, S, dtype=torch.long)
    pos = torch.arange(S).repeat(B, 1)
    count("llm_prefill", lambda: pipe.llm(ids, torch.ones(B, S, dtype=torch.long), pos, *pipe.llm.empty_past(B)))
    past = [torch.zeros(B, pipe.llm.kv_heads, P, pipe.llm.head_dim) for _ in range(2 * pipe.llm.layers)]
    count("llm_step", lambda: pipe.llm(torch.ones(B, 1, dtype=torch.long), torch.ones(B, P + 1, dtype=torch.long),
                                       torch.full((B, 1), P), *past))
    return {"batch": B, "prompt_len": S, "past": P, "flops": out}


def handle(pipe: Pipeline, preset, timer: StageTimer, images, req) -> dict:
    op = req["op"]
    sp = sampling(req, preset, decode_steps(preset, pipe.renderer is not None))
    count = int(req.get("count", 1))
    seed = int(req.get("seed", "42"))
    if op == "generate":
        prompt = req["prompt"]

        def generate():
            # a planned request (manifest prompting.plan_template): the model's plan first, then its images
            asked = pipe.plans([prompt])[0] if req.get("plan") else prompt
            return pipe.generate([asked] * count, sp, seeds_for(seed, count), rerank=image_rerank(req),
                                 per_request=count)

        seconds, stages, calls, (codes, _) = run_repeated(req, timer, generate)
        return {"seconds": seconds, "stages": stages, "calls": calls, "tokens": codes}
    if op == "edit":
        img = images[int(req["image"])]
        ins = req["instruction"]

        def edit():
            c = pipe.encode([img])[0]
            if req.get("plan"):  # prompting.edit_plan_template: the edited image's caption, then its images
                plan = pipe.edit_plans([c], [ins], req["plan"], caption_rerank(req))[0]
                return pipe.generate([plan] * count, sp, seeds_for(seed, count), rerank=image_rerank(req),
                                     per_request=count, captioned=True, sources=[img] * count)
            return pipe.edit([c] * count, [ins] * count, sp, seeds_for(seed, count))

        seconds, stages, calls, (codes, _) = run_repeated(req, timer, edit)
        return {"seconds": seconds, "stages": stages, "calls": calls, "tokens": codes}
    if op == "caption":
        img = images[int(req["image"])]

        def caption():
            codes = pipe.encode([img] * count)
            # the package's caption settings, sent by the TypeScript side
            return pipe.caption(codes, CAPTION_INSTRUCTION, caption_rerank(req))

        seconds, stages, calls, texts = run_repeated(req, timer, caption)
        return {"seconds": seconds, "stages": stages, "calls": calls, "text": texts}
    if op == "flops":
        return flops(pipe, req)
    raise ValueError(f"unknown op {op!r}")


def serve(args) -> None:
    setup_torch(args.threads)  # torch.set_num_threads(threads) + flush denormals, as in training
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries only protocol lines
        pipe, preset, exported = build(args)
    timer = StageTimer()
    instrument(pipe, timer)
    size = pipe.tok.cfg.image_size
    images = [render(make_scene(objs), size) for objs in SCENES]
    ready = {
        "ok": True, "op": "ready", "preset": preset.name, "torch": torch.__version__,
        "threads": torch.get_num_threads(), "exported": exported, "image_size": size, "tokens_per_image": pipe.K,
        "caption_instruction": CAPTION_INSTRUCTION, "sampler_steps": decode_steps(preset, pipe.renderer is not None),
        "guidance_scale": preset.guidance_scale,
        "images": [base64.b64encode(np.ascontiguousarray(im).tobytes()).decode() for im in images],
    }
    out.write(json.dumps(ready) + "\n")
    out.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if req.get("op") == "quit":
                break
            with contextlib.redirect_stdout(sys.stderr):
                reply = {"ok": True, **handle(pipe, preset, timer, images, req)}
        except Exception as err:  # the bench reports it; keep serving
            reply = {"ok": False, "error": f"{type(err).__name__}: {err}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="JSON-lines reference server on stdin/stdout")
    s.add_argument("--run", required=True, help="training run directory, or 'random' for seeded random weights")
    s.add_argument("--preset", required=True, choices=sorted(PRESETS))
    s.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    s.add_argument("--export", default=None, help="also export the weights as a model package to this directory")
    args = ap.parse_args()
    if args.cmd == "serve":
        serve(args)


if __name__ == "__main__":
    main()
