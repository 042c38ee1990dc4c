"""Train the MLLM on the task mixture, with the DDT tokenizer's encoder frozen. Resumes from its checkpoint.

    python training/train_llm.py --preset small --run training/runs/small [--minutes 80] [--steps 6000]

On a GPU (`--device auto` picks CUDA when there is one) the steps run in bfloat16 autocast, and `--workers N`
processes draw and render the examples (the main process still encodes scenes, on the GPU).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ddt.common import (
    Logger, decay_factor, decay_start, load_checkpoint, pick_device, save_checkpoint, setup_torch, warmup,
)
from ddt.grow import deepen
from ddt.language import EDIT_KINDS, QUESTION_FAMILIES
from ddt.llm import make_llm
from ddt.llm_batches import SceneCodes, length_buckets
from ddt.presets import PRESETS
from ddt.tasks import EXAMPLES, TaskMix, parse_weights
from ddt.tokenizer_model import DDTTokenizer
from ddt.vocab import Vocab, build_text_tokenizer


def load_tokenizer(run: Path, preset) -> DDTTokenizer:
    tok = DDTTokenizer(preset.tokenizer)
    ck = load_checkpoint(run / "tokenizer.pt")
    assert ck, f"train the tokenizer first: {run / 'tokenizer.pt'} is missing"
    tok.load_state_dict(ck["model"])
    return tok.eval()


def weighted_loss(logits, labels, text_size: int, text_weight: float):
    """Cross-entropy where targets below `text_size` (words and specials: answers, captions, <end>) count
    `text_weight` times as much as image codes. A one-word VQA answer is ~2 of the ~750 target tokens of a
    batch next to 16 codes per generated image, so with weight 1 answers get almost no gradient."""
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100,
                         reduction="none")
    flat = labels.reshape(-1)
    w = torch.where(flat < text_size, text_weight, 1.0) * (flat != -100)
    return (ce * w).sum() / w.sum()


def schedule(step: int, total: int) -> float:
    """The main learning-rate schedule: cosine from 1 to 0.1 over `total` steps."""
    return decay_factor(step, 0, total, 0.1)


def rate_factor(step: int, schedule_total: int, decay_from: int | None, cooldown: int) -> float:
    """The learning rate over the preset's, warm-up aside: the main schedule, or in a cooldown the main
    schedule's value where the cooldown started, falling to 5 % of it. At the main schedule's floor the
    held-out scores swung by up to 0.06 between checkpoints 4000 steps apart (sessions 6-7); a cooldown
    anneals to one point instead of stopping at a random one."""
    if decay_from is None:
        return schedule(step, schedule_total)
    return schedule(decay_from, schedule_total) * decay_factor(step, decay_from, cooldown, 0.05)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--run", required=True)
    ap.add_argument("--minutes", type=float, default=1e9)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mix", default="", help="task weights to change, e.g. 'vqa=0.3,edit=0.1'")
    ap.add_argument("--edit-kinds", default="", help="edit kind weights to change (default 1 each), e.g. 'move=2'")
    ap.add_argument("--vqa-families", default="", help="VQA family weights to change (default 1 each), e.g. 'count=2'")
    ap.add_argument("--cooldown", type=int, default=0, metavar="N",
                    help="end with N steps whose learning rate falls from the schedule's value at their start "
                         "to 5 %% of it (kept across resumes)")
    ap.add_argument("--text-weight", type=float, default=1.0, help="loss weight of text targets against image codes")
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda[:N]")
    ap.add_argument("--workers", type=int, default=0,
                    help="processes drawing and rendering examples (0: in this process, reproducible)")
    ap.add_argument("--grow-from", default=None, metavar="LLM_PT",
                    help="start a new run from a trained checkpoint of an LLM with fewer layers (ddt/grow.py)")
    ap.add_argument("--lr", type=float, default=None,
                    help="with --cooldown: the learning rate the cooldown starts from, instead of the schedule's")
    ap.add_argument("--schedule-steps", type=int, default=None, metavar="N",
                    help="length of the main cosine schedule when it differs from --steps: past it the rate "
                         "holds at the schedule's floor (the bundled LLM ran 22000 -> 50000 there)")
    ap.add_argument("--stop-at", type=int, default=None, metavar="STEP",
                    help="end this invocation at STEP, keeping the cooldown phase for a later resume (the "
                         "bundled LLM changed its mixture inside two cooldowns; recipes/small.json)")
    return ap


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    setup_torch(args.threads)
    device = pick_device(args.device)
    p = PRESETS[args.preset]
    run = Path(args.run)
    tok = load_tokenizer(run, p).to(device)
    vocab = Vocab(build_text_tokenizer(), p.tokenizer.codebook_size)
    model = make_llm(p.llm, vocab.size).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=p.llm_lr, weight_decay=0.01, betas=(0.9, 0.98))
    total = args.steps or p.llm_steps
    step, seconds = 0, 0.0
    ck = load_checkpoint(run / "llm.pt")
    warm_from = 0
    if ck:
        model.load_state_dict(ck["model"])
        step, seconds = ck["step"], ck["seconds"]
        if "opt" in ck:  # slim checkpoints (training/checkpoints) carry no optimizer state
            opt.load_state_dict(ck["opt"])
        else:
            warm_from = step  # see common.warmup
        total = args.steps or ck.get("total", total)
        print(f"resumed at step {step}")
    elif args.grow_from:
        assert args.cooldown or args.steps, "--grow-from continues the source's step count: give --cooldown or --steps"
        src = load_checkpoint(Path(args.grow_from))
        placement = deepen(src["model"], model)
        step, seconds, warm_from = src["step"], src["seconds"], src["step"]  # fresh Adam: warm up again
        print(f"grown from {args.grow_from} at step {step}: layers {placement}")
    assert args.lr is None or args.cooldown, "--lr sets where a --cooldown starts"
    decay_from = decay_start(ck, args.cooldown, step)
    # the main schedule's length; a resumed cooldown keeps the one it started from
    in_phase = ck is not None and decay_from is not None and ck.get("decay_from") == decay_from
    schedule_total = args.schedule_steps or (ck.get("schedule_total", total) if in_phase else total)
    if decay_from is not None:
        total = decay_from + args.cooldown  # the run ends when its cooldown does
    log = Logger(run / "llm_log.jsonl")
    base = TaskMix()
    mix = TaskMix(parse_weights(args.mix, tuple(EXAMPLES), base.tasks),
                  parse_weights(args.vqa_families, QUESTION_FAMILIES, base.vqa_families),
                  parse_weights(args.edit_kinds, EDIT_KINDS, tuple((k, 1.0) for k in EDIT_KINDS)) if args.edit_kinds
                  else None)
    log.log(step=step, mix=dict(mix.tasks), vqa_families=dict(mix.vqa_families),
            edit_kinds=dict(mix.edit_kinds or ()), text_weight=args.text_weight,
            device=str(device), workers=args.workers)
    codes = SceneCodes(tok, device=device)
    rng = random.Random(step * 104729 + 7)
    t_start, last_save = time.time(), time.time()
    batches = length_buckets(rng, p.llm_batch, vocab, codes, mix, workers=args.workers)
    # bfloat16 on a GPU (the weights and Adam stay float32); float32 on the CPU, as every bundled model trained
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")

    def save():
        save_checkpoint(run / "llm.pt", model=model.state_dict(), opt=opt.state_dict(), step=step, seconds=seconds,
                        total=total, preset=p.name, decay_from=decay_from, decay_len=args.cooldown,
                        schedule_total=schedule_total)

    model.train()
    end = min(total, args.stop_at) if args.stop_at is not None else total
    while step < end and (time.time() - t_start) / 60 < args.minutes:
        t0 = time.time()
        if args.lr is None:
            lr = p.llm_lr * warmup(step, warm_from) * rate_factor(step, schedule_total, decay_from, args.cooldown)
        else:
            lr = args.lr * warmup(step, warm_from) * decay_factor(step, decay_from, args.cooldown, 0.05)
        for g in opt.param_groups:
            g["lr"] = lr
        ids, attn, labels = (t.to(device, non_blocking=True) for t in next(batches))
        with autocast:
            logits = model(input_ids=ids, attention_mask=attn).logits
        loss = weighted_loss(logits.float(), labels, vocab.text_size, args.text_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seconds += time.time() - t0
        if step % 25 == 0:
            log.log(step=step, loss=round(loss.item(), 4), lr=round(lr, 6), sec_per_step=round(seconds / step, 3))
        if time.time() - last_save > 120:
            save()
            last_save = time.time()
    save()


if __name__ == "__main__":
    main()
