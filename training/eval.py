"""Evaluate a trained run on held-out compositions, scored by the classical detector.

    python training/eval.py --preset small --run training/runs/small --out models/shapes-ddt-small [--n 60]

Writes eval.json and reveal.png into --out (the model card is written from them by training/card.py).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import zlib
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ddt.common import setup_torch
from ddt.language import (
    CAPTION_INSTRUCTION, EDIT_KINDS, QUESTION_FAMILIES, T2I_CATEGORIES, parse_prompt, prompt_satisfied,
    sample_edit, sample_question,
)
from ddt.llm import KVCacheLlama
from ddt.pipeline import Pipeline, Sampling, seeds_for
from ddt.presets import PRESETS, CaptionRerank, ImageRerank, Preset, decode_steps
from ddt.tasks import build_sequence, eval_scene, sample_any_edit, t2i_prompt
from ddt.world import POSITIONS, Obj, Scene, detect, render
from export import caption_rerank_fields, image_rerank_fields, load_renderer, load_run
from ddt.llm_batches import SceneCodes, collate
from train_llm import weighted_loss


def eval_tokenizer(pipe: Pipeline, n: int, steps: int) -> dict:
    rng = random.Random(11)
    scenes = [eval_scene(rng) for _ in range(n)]
    imgs = [render(s, pipe.tok.cfg.image_size) for s in scenes]
    codes = pipe.encode(imgs)

    def exact_share(n_steps: int) -> float:
        recon = pipe.decode(codes, n_steps, seeds_for(5, n))
        return sum(detect(recon[i]) == scenes[i] for i in range(n)) / n

    exact = exact_share(steps)
    sampler = {}
    if steps == 0:  # the renderer decodes by default: the one-step sampler beside it, from the same noise seeds
        sampler["recon_exact_sampler"] = round(exact_share(1), 3)
    flat = Counter(c for cs in codes for c in cs)
    probs = np.array(list(flat.values()), dtype=np.float64) / sum(flat.values())
    perplexity = float(math.exp(-(probs * np.log(probs)).sum()))
    # progressive decoding: attributes recovered from the m coarsest codes
    curve = []
    K = pipe.K
    sub = min(n, 48)  # the curve decodes every image once per point: keep it affordable on 2 cores
    for m in sorted({1, 2, 3, 4, 6, 8, 10, 12, 14, K}):
        dec = pipe.decode(codes[:sub], steps, seeds_for(5, sub), keep=[m] * sub)
        pos = col = shp = cnt = 0
        total = 0
        for i, s in enumerate(scenes[:sub]):
            d = detect(dec[i]) or ()
            by_cell = {o.cell: o for o in d}
            cnt += len(d) == len(s)
            for o in s:
                total += 1
                got = by_cell.get(o.cell)
                pos += got is not None
                col += got is not None and got.colour == o.colour
                shp += got is not None and got.shape == o.shape
        curve.append({"kept": m, "count": round(cnt / sub, 3), "position": round(pos / total, 3),
                      "colour": round(col / total, 3), "shape": round(shp / total, 3)})
    return {"recon_exact": round(exact, 3), **sampler, "codes_used": len(flat),
            "codebook_perplexity": round(perplexity, 1), "progressive": curve}


def save_reveal(pipe: Pipeline, path: Path, steps: int) -> None:
    """Rows: scenes; columns: original, then decoding the 1, 2, ... K coarsest codes."""
    rng = random.Random(3)
    scenes = [eval_scene(rng) for _ in range(4)]
    imgs = [render(s, pipe.tok.cfg.image_size) for s in scenes]
    codes = pipe.encode(imgs)
    rows = []
    for i, c in enumerate(codes):
        frames = pipe.decode([c] * pipe.K, steps, [9] * pipe.K, keep=list(range(1, pipe.K + 1)))
        rows.append(np.concatenate([imgs[i], np.full_like(imgs[i][:, :4], 255)] + list(frames), axis=1))
    grid = np.concatenate(rows, axis=0)
    Image.fromarray(grid).resize((grid.shape[1] * 3, grid.shape[0] * 3), Image.NEAREST).save(path)


def t2i_eval_prompts(category: str, n: int, trained: bool = False) -> list[str]:
    """The category's n held-out prompt draws (or, with `trained`, n draws of prompts it trained on), the same
    on every run."""
    rng = random.Random(zlib.crc32(category.encode()) % 1000 + 17)  # not hash(): salted per process
    return [t2i_prompt(rng, train=trained, category=category)[0] for _ in range(n)]


def scene_of_layout(text: str) -> Scene | None:
    """The scene a layout (a plan or caption: every object with its positions) states; None when it does not
    parse or leaves an object unplaced."""
    spec = parse_prompt(text)
    if not spec or spec[1]:
        return None
    objs = [(cell, c, s) for c, s, n, cells in spec[0] for cell in cells]
    if any(len(cells) != n for _, _, n, cells in spec[0]) or len({cell for cell, _, _ in objs}) != len(objs):
        return None
    return tuple(sorted(Obj(cell, c, s) for cell, c, s in objs))


def eval_t2i(pipe: Pipeline, n: int, sp: Sampling, trained: bool = False,
             rerank: ImageRerank = ImageRerank(), plan: bool = False) -> dict:
    """Per category, the share of prompts whose image the detector finds right; with `plan`, images drawn from
    the model's own plan of each prompt (and `plan_valid`: the share of plans that satisfy their prompt)."""
    torch.manual_seed(0)  # the decoder's noise: the same figures on every run
    out, valid = {}, {}
    all_ok = []
    for cat in T2I_CATEGORIES:
        prompts = t2i_eval_prompts(cat, n, trained)
        asked = pipe.plans(prompts) if plan else prompts
        _, imgs = pipe.generate(asked, sp, seeds_for(100, n), True, rerank)
        ok = [prompt_satisfied(cat, p, detect(im)) for p, im in zip(prompts, imgs)]
        out[cat] = round(sum(ok) / n, 3)
        if plan:
            valid[cat] = round(sum(prompt_satisfied(cat, p, scene_of_layout(a)) for p, a in zip(prompts, asked)) / n, 3)
        all_ok += ok
    out["overall"] = round(sum(all_ok) / len(all_ok), 3)
    return out | ({"plan_valid": valid} if plan else {})


def t2i_distinct_prompts(n: int, trained: bool = False) -> dict:
    """How many different prompts each category's n draws hold: the held-out prompt sets of the small
    categories are tiny (one prompt for "single", two for "colour"), and greedy decoding answers a repeated
    prompt the same way, so a category's score moves in steps of 1 / (distinct prompts), not 1 / n."""
    return {cat: len(set(t2i_eval_prompts(cat, n, trained))) for cat in T2I_CATEGORIES}


def caption_matches(text: str, scene: Scene) -> bool:
    return scene_of_layout(text) == scene


def eval_understanding(pipe: Pipeline, n: int, caption_rerank: CaptionRerank, by_caption: bool = False) -> dict:
    """Captions fully right, and VQA per family; with `by_caption`, questions answered in text after the
    model's caption of the image (`vqa`, as the runtime does with prompting.answer_template) and from the image
    directly (`vqa_direct`)."""
    rng = random.Random(23)
    scenes = [eval_scene(rng) for _ in range(n)]
    codes = pipe.encode([render(s, pipe.tok.cfg.image_size) for s in scenes])
    caps = pipe.caption(codes, CAPTION_INSTRUCTION, caption_rerank)
    right = [caption_matches(c, s) for c, s in zip(caps, scenes)]
    res = {"caption_exact": round(sum(right) / n, 3)}
    by_objects: dict[int, list[bool]] = {}
    for ok, s in zip(right, scenes):
        by_objects.setdefault(len(s), []).append(ok)
    # where captions fail: grouping and counting get harder with every object
    res["caption_by_objects"] = {str(k): {"n": len(v), "exact": round(sum(v) / len(v), 3)}
                                 for k, v in sorted(by_objects.items())}
    vqa, direct = {}, {}
    for fam in QUESTION_FAMILIES:
        qa = [sample_question(rng, s, fam) for s in scenes]
        score = lambda answers: round(sum(a == want for a, (_, want) in zip(answers, qa)) / n, 3)  # noqa: E731
        direct[fam] = score(pipe.answer(codes, [q for q, _ in qa]))
        if by_caption:
            vqa[fam] = score(pipe.answers_by_caption(caps, [q for q, _ in qa]))
    res["vqa"] = vqa if by_caption else direct
    if by_caption:
        res["vqa_direct"] = direct
    res["caption_examples"] = [{"truth": render_caption(s), "model": c} for s, c in list(zip(scenes, caps))[:3]]
    return res


def render_caption(scene: Scene) -> str:
    from ddt.language import caption

    return caption(scene)


def eval_edits(pipe: Pipeline, n: int, sp: Sampling, rerank: ImageRerank = ImageRerank(), plan: str = "",
               caption_rerank: CaptionRerank = CaptionRerank()) -> dict:
    """Edits exactly right (the detector's scene of the result is the edited scene); with `plan` ("image" or
    "caption", Pipeline.edit_plans), the image is drawn from the model's caption of the edited image (and
    `plan_exact`: the share of those captions that are right)."""
    torch.manual_seed(1)
    rng = random.Random(31)
    items = []
    while len(items) < n:
        s = eval_scene(rng)
        e = sample_edit(rng, s, EDIT_KINDS[len(items) % len(EDIT_KINDS)])
        if e:
            items.append((s, e[0], e[1]))
    sources = [render(s, pipe.tok.cfg.image_size) for s, _, _ in items]
    codes = pipe.encode(sources)
    instructions = [ins for _, ins, _ in items]
    extra = {}
    if plan:
        targets = pipe.edit_plans(codes, instructions, plan, caption_rerank)
        extra["plan_exact"] = round(sum(scene_of_layout(t) == after for t, (_, _, after) in zip(targets, items)) / n, 3)
        _, imgs = pipe.generate(targets, sp, seeds_for(200, n), True, rerank, captioned=True, sources=sources)
    else:
        _, imgs = pipe.edit(codes, instructions, sp, seeds_for(200, n), fast_noise=True)
    exact, per_kind = 0, Counter()
    for (s, ins, after), im in zip(items, imgs):
        ok = detect(im) == after
        exact += ok
        per_kind[ins.split()[0]] += ok
    return {"edit_exact": round(exact / n, 3), "by_verb_correct": dict(per_kind), "n": n} | extra


@torch.no_grad()
def eval_loss(pipe: Pipeline, n: int) -> dict:
    """Held-out cross-entropy of the answers (image codes or words) per task. Greedy accuracies swing a lot
    between nearby checkpoints (text-to-image 0.72 vs 0.54 at similar losses); these move smoothly, so they
    are the figures to compare checkpoints of one run by."""
    rng = random.Random(11)
    codes = SceneCodes(pipe.tok)
    sets: dict[str, list] = {"t2i": [], "caption": [], "vqa": [], "edit": []}
    for cat in T2I_CATEGORIES:
        for _ in range(max(1, n // len(T2I_CATEGORIES))):
            prompt, scene = t2i_prompt(rng, train=False, category=cat)
            sets["t2i"].append([("user", [prompt]), ("assistant", [scene])])
    for i in range(n):
        scene = eval_scene(rng)
        sets["caption"].append([("user", [scene, CAPTION_INSTRUCTION]), ("assistant", [render_caption(scene)])])
        q, a = sample_question(rng, scene, QUESTION_FAMILIES[i % len(QUESTION_FAMILIES)])
        sets["vqa"].append([("user", [scene, q]), ("assistant", [a])])
        instr, after = sample_any_edit(rng, scene)
        sets["edit"].append([("user", [scene, instr]), ("assistant", [after])])
    out = {}
    for name, examples in sets.items():
        codes.prime_examples(examples)
        ids, attn, labels = collate([build_sequence(pipe.vocab, ex, codes) for ex in examples])
        logits = pipe.llm.m(input_ids=ids, attention_mask=attn).logits
        out[name] = round(weighted_loss(logits, labels, pipe.vocab.text_size, 1.0).item(), 4)  # plain mean CE
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--run", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--guidance", type=float, default=None, help="default: the preset's")
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--steps", type=int, default=None,
                    help="decoder steps, 0 = the renderer (default: the package's, presets.decode_steps)")
    ap.add_argument("--image-candidates", type=int, default=None, help="default: the preset's")
    ap.add_argument("--image-temperature", type=float, default=None, help="default: the preset's")
    ap.add_argument("--image-forward-weight", type=float, default=None, help="default: the preset's")
    ap.add_argument("--image-round-trip", choices=("preset", "on", "off"), default="preset",
                    help="candidates scored by what their decoded image encodes back to (default: the preset's)")
    ap.add_argument("--edit-round-trip", choices=("preset", "on", "off", "same"), default="preset",
                    help="the round trip for planned edits alone (same: as --image-round-trip; default: the preset's)")
    ap.add_argument("--image-caption-weight", type=float, default=None,
                    help="weight of log p(caption | image) asked as a caption, for planned edits (default: the preset's)")
    ap.add_argument("--image-source-weight", type=float, default=None,
                    help="weight of the closeness to the source image, for planned edits (default: the preset's)")
    ap.add_argument("--plan", choices=("preset", "on", "off"), default="preset",
                    help="text-to-image and edits drawn from the model's own plan (default: as the preset says)")
    ap.add_argument("--edit-plan", choices=("preset", "image", "caption", "off"), default="preset",
                    help="how edits are planned (default: as the preset says; --plan off: not planned)")
    ap.add_argument("--caption-candidates", type=int, default=None, help="default: the preset's")
    ap.add_argument("--caption-weight", type=float, default=None,
                    help="weight of log p(caption | image) in a caption's score (default: the preset's)")
    ap.add_argument("--caption-refine-rounds", type=int, default=None, help="default: the preset's")
    ap.add_argument("--answer-by-caption", choices=("preset", "on", "off"), default="preset",
                    help="VQA answered in text after the model's caption (default: as the preset says)")
    ap.add_argument("--only", default="tokenizer,t2i,t2i_trained,understanding,edit,loss")
    ap.add_argument("--threads", type=int, default=2, help="1 when other jobs share the cores (2 threads thrash)")
    args = ap.parse_args()
    setup_torch(args.threads)
    preset = PRESETS[args.preset]
    tok, llm, vocab, ck_t, ck_l = load_run(Path(args.run), preset)
    renderer, ck_r = load_renderer(Path(args.run), tok)
    pipe = Pipeline(tok, KVCacheLlama(llm), vocab, renderer)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    steps = args.steps if args.steps is not None else decode_steps(preset, renderer is not None)
    guidance = args.guidance if args.guidance is not None else preset.guidance_scale
    sp = Sampling(temperature=args.temperature, guidance=guidance, steps=steps)
    parts = args.only.split(",")
    res: dict = {"n_per_category": args.n, "sampling": sp.__dict__, "positions": list(POSITIONS)}
    if "tokenizer" in parts:
        res["tokenizer"] = eval_tokenizer(pipe, max(args.n * 2, 50), steps)
        save_reveal(pipe, out / "reveal.png", steps)
    given = lambda flag, default: default if flag is None else flag  # noqa: E731
    pr = preset.image_rerank
    rerank = ImageRerank(given(args.image_candidates, pr.candidates), given(args.image_temperature, pr.temperature),
                         given(args.image_forward_weight, pr.forward_weight),
                         pr.round_trip if args.image_round_trip == "preset" else args.image_round_trip == "on",
                         given(args.image_caption_weight, pr.caption_weight),
                         pr.edit_round_trip if args.edit_round_trip == "preset" else {"on": True, "off": False}.get(
                             args.edit_round_trip),
                         given(args.image_source_weight, pr.source_weight))
    res.update(image_rerank_fields(rerank))
    cr = preset.caption_rerank
    caption_rerank = replace(cr, candidates=given(args.caption_candidates, cr.candidates),
                             likelihood_weight=given(args.caption_weight, cr.likelihood_weight),
                             refine_rounds=given(args.caption_refine_rounds, cr.refine_rounds))
    plan = preset.plan if args.plan == "preset" else args.plan == "on"
    res["plan"] = plan
    if "t2i" in parts:
        res["t2i"] = eval_t2i(pipe, args.n, sp, False, rerank, plan)
        res["t2i_distinct_prompts"] = t2i_distinct_prompts(args.n)
        if rerank.candidates:  # what the reranking adds: the request's own codes alone
            res["t2i_without_reranking"] = eval_t2i(pipe, args.n, sp, plan=plan)
        if plan:  # what planning adds: drawn from the prompt itself, reranked
            res["t2i_unplanned"] = eval_t2i(pipe, args.n, sp, False, rerank)
    if "t2i_trained" in parts:
        # Not acceptance: the same categories on prompts the model trained on. Their sets are large where the
        # held-out ones are tiny, so they show whether a checkpoint draws a category better in general.
        res["t2i_trained"] = eval_t2i(pipe, args.n, sp, True, rerank, plan)
        res["t2i_trained_distinct_prompts"] = t2i_distinct_prompts(args.n, trained=True)
    if "understanding" in parts:
        by_caption = preset.answer_by_caption if args.answer_by_caption == "preset" else args.answer_by_caption == "on"
        res.update(eval_understanding(pipe, args.n, caption_rerank, by_caption))
        res["answer_by_caption"] = by_caption
        res.update(caption_rerank_fields(caption_rerank))
    if "edit" in parts:
        edit_plan = "" if not plan else preset.edit_plan if args.edit_plan == "preset" else (
            "" if args.edit_plan == "off" else args.edit_plan)
        res["edit_plan"] = edit_plan
        res["edit"] = eval_edits(pipe, args.n, sp, rerank if edit_plan else ImageRerank(), edit_plan, caption_rerank)
        if edit_plan:  # what planning adds, and the rate of edits in chats (not planned)
            res["edit_unplanned"] = eval_edits(pipe, args.n, sp)
    if "loss" in parts:
        res["heldout_loss"] = eval_loss(pipe, max(args.n * 2, 10))
    res["training"] = {"tokenizer_steps": ck_t["step"], "tokenizer_seconds": round(ck_t["seconds"]),
                       "llm_steps": ck_l["step"], "llm_seconds": round(ck_l["seconds"]),
                       **({"renderer_steps": ck_r["step"], "renderer_seconds": round(ck_r["seconds"])}
                          if ck_r else {})}
    print(json.dumps(res, indent=1))
    (out / "eval.json").write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
