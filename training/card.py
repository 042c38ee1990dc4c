"""Write MODEL_CARD.md for a package from its manifest, eval.json and parity.json.

    python training/card.py --out models/shapes-ddt-small --hardware "2 CPU cores (...)" [--notes "..."]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FLOORS = json.loads((Path(__file__).parent / "floors.json").read_text())


def round_trip_words(ev: dict) -> str:
    """How the package's round trip applies: to every image, or to planned edits' alone."""
    every, edits = ev.get("image_candidate_round_trip"), ev.get("edit_image_candidate_round_trip")
    edits = every if edits is None else edits
    if not (every or edits):
        return ""
    scope = "every candidate" if every and edits else "every candidate of an edit" if edits else (
        "every candidate but an edit's")
    source = ev.get("edit_image_candidate_source_weight")
    closeness = (f", an edit's minus {source} times its image's mean absolute difference (0-255) from the source image"
                 if source and edits else "")
    return f"; {scope} decoded and scored by the codes its image encodes back to{closeness}"


def caption_method(ev: dict) -> str:
    """How eval.json's captions were made (Pipeline.caption): greedy, reranked, refined."""
    if not ev.get("caption_candidates"):
        return " (greedy)"
    w = ev.get("caption_likelihood_weight", 0)
    score = "log p(image tokens | caption)" + (f" + {w} log p(caption | image)" if w else "")
    refine = ev.get("caption_refine")
    then = (f", then refined: up to {refine['rounds']} rounds of swapping one colour or shape for another while "
            "the score rises") if refine else ""
    return f" (the greedy caption and {ev['caption_candidates']} sampled, reranked by the model's own {score}{then})"


def mark(value: float, floor: float) -> str:
    return f"{value:.3f} ({'meets' if value >= floor else 'below'} the {floor:.2f} floor)"


def fmt_minutes(sec: float) -> str:
    return f"{sec / 60:.0f} min"


def build(out: Path, hardware: str, notes: str) -> str:
    m = json.loads((out / "manifest.json").read_text())
    ev = json.loads((out / "eval.json").read_text()) if (out / "eval.json").exists() else {}
    par = json.loads((out / "parity.json").read_text()) if (out / "parity.json").exists() else {}
    tr = m["training"]
    tk = ev.get("tokenizer", {})
    lines = [
        f"# Model card: {m['name']}",
        "",
        m["description"],
        "",
        "## What it is",
        f"- DDT tokenizer: ViT encoder with {m['tokens']['per_image']} learnable queries -> finite scalar quantiser "
        f"(8x8x8 levels, codebook {m['tokens']['codebook_size']}); diffusion decoder (DiT on "
        f"{m['image']['size']}x{m['image']['size']} pixels, x0-prediction, rectified flow) that sees code indices "
        f"j < k(t), k(t) = {m['schedule']['knots']} (more codes as noise grows), plus a preview head fed to the "
        "denoiser as extra channels. Trained end to end with the denoising loss.",
        *([f"- One-step renderer (`graphs.renderer`, the default decode: `sampler.use_renderer`): the decoder's "
           f"network at t = 1 on zeros (no noise), with {tr.get('renderer_extra_layers', 0)} blocks added, fine-tuned "
           "on the frozen codes (training/train_renderer.py); requests that ask for steps >= 1 use the sampler."]
          if m["graphs"].get("renderer") else []),
        f"- MLLM: Hugging Face `LlamaForCausalLM` ({m['graphs']['llm']['num_layers']} layers, "
        f"{m['graphs']['llm']['num_kv_heads']} KV heads x {m['graphs']['llm']['head_dim']}), vocabulary "
        f"{m['vocab']['size']} = {m['vocab']['text_size']} word-level text tokens and specials + "
        f"{m['tokens']['codebook_size']} codes. Image tokens are generated coarse-to-fine (code index K-1 first), "
        "so a prefix of a generation is a decodable preview. Condition dropout (10 %) trains the unconditional "
        "branch for classifier-free guidance.",
        "- Data: the procedural shapes world (training/ddt/world.py), mixture of text-to-image, captioning, VQA, "
        "editing, 2-3 turn chat, the inverse of text-to-image (an image in, a prompt that draws it out; "
        "it ranks candidate images) and plans (a prompt in, a layout that satisfies it out; an edit in, the "
        "edited image's caption out: images are drawn from them) and questions answered in text after the "
        "image's caption (the caption and a question in, the answer out). Compositions whose text (prompts) or scene (captions, VQA, edits) hashes into "
        "the held-out 10 % are never trained on; every acceptance figure below is measured on them.",
        "",
        "## Training",
        f"- Hardware: {hardware}.",
        f"- Tokenizer: {tr['tokenizer_steps']} steps, {fmt_minutes(tr['tokenizer_seconds'])}; "
        f"LLM: {tr['llm_steps']} steps, {fmt_minutes(tr['llm_seconds'])}"
        + (f"; renderer: {tr['renderer_steps']} steps, {fmt_minutes(tr['renderer_seconds'])}" if "renderer_steps" in tr
           else "") + " (compute time, single process).",
        "- Reproduce from scratch: `bash training/retrain.sh`. For a preset with a recipe "
        "(`training/recipes/<preset>.json`) it replays the recorded training phases in order (`training/replay.py`; "
        "`--plan` lists them with the time left), then exports, evaluates and writes this card; the README gives "
        "the time and how the replay differs from the sessions.",
        "",
        "## Measured quality (held-out compositions, classical detector)",
    ]
    if ev:
        sp = ev["sampling"]
        lines.append(f"Sampling for images: temperature {sp['temperature']}, guidance {sp['guidance']}, "
                     + (f"{sp['steps']} decoder step{'s' if sp['steps'] != 1 else ''}" if sp["steps"]
                        else "the one-step renderer")
                     + f"; text greedy. n = {ev['n_per_category']} per category.")
        lines.append("")
        if "t2i" in ev:
            t = ev["t2i"]
            how = (f" (each image the best of its own tokens and {ev['image_candidates']} sampled at temperature "
                   f"{ev['image_candidate_temperature']}, by the model's own log p(prompt | image)"
                   + (f" + {ev['image_candidate_forward_weight']} log p(image | prompt)"
                      if ev.get("image_candidate_forward_weight") else "")
                   + (f"; for edits + {ev['image_candidate_caption_weight']} log p(caption | image) asked as its caption"
                      if ev.get("image_candidate_caption_weight") else "")
                   + round_trip_words(ev) + ")"
                   if ev.get("image_candidates") else "")
            if ev.get("plan"):
                how += (", drawn from the model's own plan of each prompt (a layout: every object with its cell, "
                        "docs/model-package.md, \"Plans\")")
            lines.append(f"- Text-to-image fully right: overall {mark(t['overall'], FLOORS['t2i_overall'])}{how}")
            distinct = ev.get("t2i_distinct_prompts", {})
            for k, v in t.items():
                if k not in ("overall", "plan_valid"):
                    d = distinct.get(k)
                    of = f" (over {d} distinct held-out prompt{'s' if d != 1 else ''})" if d else ""
                    lines.append(f"  - {k}: {mark(v, FLOORS['t2i_category'])}{of}")
            if "plan_valid" in t:
                lines.append("  - plans that satisfy their prompt (the layout alone): " + ", ".join(
                    f"{k} {v:.3f}" for k, v in t["plan_valid"].items()))
        if "t2i_without_reranking" in ev:
            t = ev["t2i_without_reranking"]
            lines.append(f"- The same without reranking (the request's own tokens): overall {t['overall']:.3f}; "
                         + ", ".join(f"{k} {v:.3f}" for k, v in t.items() if k not in ("overall", "plan_valid")))
        if "t2i_unplanned" in ev:
            t = ev["t2i_unplanned"]
            lines.append(f"- The same drawn from the prompt itself (no plan), reranked: overall {t['overall']:.3f}; "
                         + ", ".join(f"{k} {v:.3f}" for k, v in t.items() if k not in ("overall", "plan_valid")))
        if "t2i_trained" in ev:
            t, d = ev["t2i_trained"], ev.get("t2i_trained_distinct_prompts", {})
            lines.append("- Not acceptance, for comparing checkpoints: text-to-image on prompts it trained on, "
                         f"overall {t['overall']:.3f}; " + ", ".join(
                             f"{k} {v:.3f} ({d[k]} prompts)" if k in d else f"{k} {v:.3f}"
                             for k, v in t.items() if k not in ("overall", "plan_valid")))
        if "caption_exact" in ev:
            how = caption_method(ev)
            lines.append(f"- Captions fully right: {mark(ev['caption_exact'], FLOORS['caption'])}{how}")
            if "caption_by_objects" in ev:
                lines.append("  - by objects in the image: " + ", ".join(
                    f"{k}: {v['exact']} (n = {v['n']})" for k, v in ev["caption_by_objects"].items()))
        if "vqa" in ev:
            how = (" (answered in text after the model's own caption of the image, as the runtime does with "
                   "prompting.answer_template)") if ev.get("answer_by_caption") else ""
            lines.append(f"- VQA accuracy per family{how}:")
            for k, v in ev["vqa"].items():
                lines.append(f"  - {k}: {mark(v, FLOORS['vqa_family'])}")
            if "vqa_direct" in ev:
                lines.append("  - the same weights answering from the image directly (no caption): " + ", ".join(
                    f"{k} {v:.3f}" for k, v in ev["vqa_direct"].items()))
        if "edit" in ev:
            e = ev["edit"]
            how = (f" (drawn from the model's own caption of the edited image; that caption right for "
                   f"{e['plan_exact']:.3f})") if "plan_exact" in e else ""
            lines.append(f"- Edits exactly right: {mark(e['edit_exact'], FLOORS['edit'])}{how}")
        if "heldout_loss" in ev:
            lines.append("- Held-out cross-entropy of the answers (nats per token; smoother than the accuracies "
                         "for comparing checkpoints): " + ", ".join(f"{k} {v}" for k, v in ev["heldout_loss"].items()))
        if tk:
            lines.append(f"- Tokenizer encode -> decode reproduces the detected scene: "
                         f"{mark(tk['recon_exact'], FLOORS['recon'])}"
                         + (f" (decoded by the renderer; by the sampler in one step: {tk['recon_exact_sampler']:.3f})"
                            if "recon_exact_sampler" in tk else ""))
            lines.append(f"- Codebook usage: {tk['codes_used']} of {m['tokens']['codebook_size']} codes seen on "
                         f"held-out images, perplexity {tk['codebook_perplexity']}.")
            lines += ["", "### Progressive decoding (attribute accuracy vs coarsest codes kept)", "",
                      "| codes kept | count | position | colour | shape |", "|---|---|---|---|---|"]
            for row in tk["progressive"]:
                lines.append(f"| {row['kept']} | {row['count']} | {row['position']} | {row['colour']} | "
                             f"{row['shape']} |")
            lines += ["", "![reveal](reveal.png)", "",
                      "Each row: the original, then decoding the 1, 2, ..., K coarsest codes (reveal.png)."]
    else:
        lines.append("Not evaluated yet.")
    if par:
        lines += ["", "## Export check (ONNX Runtime vs PyTorch)", "", "```json", json.dumps(par, indent=1), "```"]
    if notes:
        lines += ["", "## Notes", "", notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--hardware", default="2 CPU cores (shared), no GPU")
    ap.add_argument("--notes", default="")
    args = ap.parse_args()
    out = Path(args.out)
    (out / "MODEL_CARD.md").write_text(build(out, args.hardware, args.notes))


if __name__ == "__main__":
    main()
