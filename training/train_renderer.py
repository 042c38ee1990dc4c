"""Fine-tune the one-step renderer (ddt/tokenizer_model.py, Renderer) on the frozen tokenizer's codes.

The renderer starts as a copy of the decoder at t = 1 (plus `--extra-layers` blocks that start as the identity)
and learns codes -> image directly, with the encoder (and so every code the LLM was trained on) unchanged.
With `--denoise-weight` the decoder's weights are not copied but tied: the renderer's decoder blocks are the
denoiser's own, trained by both losses (the tokenizer's denoising loss keeps every t > 0 working), so the
package's denoiser.onnx and renderer.onnx still share one set of them. Resumes from its last checkpoint;
trains on CUDA when there is a GPU (`--device auto`, not yet run on one).

    python training/train_renderer.py --preset small --run training/runs/small --steps 2400 --decay 2400 \
        --extra-layers 4 --lr 3e-4 --decoder-lr-scale 0.1 --denoise-weight 1
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch

from ddt.common import (
    Logger, decay_factor, decay_start, load_checkpoint, pick_device, save_checkpoint, setup_torch, warmup,
)
from ddt.data import scene_image, to_tensor, to_uint8
from ddt.presets import PRESETS
from ddt.tasks import held_out
from ddt.tokenizer_model import DDTTokenizer, Denoiser, Renderer, keep_mask, sample
from ddt.world import detect, random_scene, render, scene_key
from train_llm import load_tokenizer

# held-out scenes of their own: the acceptance figure (eval.py, rng 11) is not used to choose steps
VALIDATION_SEED = 4321


def training_batch(rng: random.Random, batch: int, size: int) -> torch.Tensor:
    """Scenes outside the held-out split, on white or a normalised pale background (as the encoder sees them)."""
    scenes = []
    while len(scenes) < batch:
        s = random_scene(rng)
        if not held_out(scene_key(s)):
            scenes.append(s)
    return to_tensor([scene_image(s, size, rng) for s in scenes])


def validation_scenes(n: int) -> list:
    rng = random.Random(VALIDATION_SEED)
    out = []
    while len(out) < n:
        s = random_scene(rng)
        if held_out(scene_key(s)):
            out.append(s)
    return out


@torch.no_grad()
def recon_exact(tok: DDTTokenizer, scenes: list, decode) -> float:
    """Share of scenes that encode -> `decode(codes)` (x0, every code kept) back to the same detected scene."""
    x = to_tensor([render(s, tok.cfg.image_size) for s in scenes]).to(tok.fsq.table.device)
    imgs = to_uint8(decode(tok.encode(x)).clamp(-1, 1).cpu())
    return sum(detect(imgs[i]) == scenes[i] for i in range(len(scenes))) / len(scenes)


def rendered(renderer: Renderer):
    """The renderer as recon_exact's decode."""
    return lambda codes: renderer(codes, torch.ones(codes.shape, device=codes.device))


def one_step_sampler(tok: DDTTokenizer, seed: int = 5):
    """The decoder's one-step sampler (small's default without a renderer) as recon_exact's decode."""
    def decode(codes):
        s = tok.cfg.image_size
        noise = torch.randn((len(codes), 3, s, s), generator=torch.Generator().manual_seed(seed)).to(codes.device)
        keep = torch.full((len(codes),), tok.cfg.k, device=codes.device)
        return sample(tok.denoiser, codes, keep, 1, noise, tok.cfg.knots)
    return decode


def renderer_loss(tok: DDTTokenizer, renderer: Renderer, x: torch.Tensor, gen: torch.Generator,
                  partial_frac: float, partial_weight: float) -> torch.Tensor:
    """MSE of the rendered x0. Some samples keep only the m coarsest codes (previews, partial decodes), their
    error weighted down: a partial decode's error is ~50x a full one's, and unweighted it pulled the full
    reconstructions away from the decoder's (held-out agreement 0.935 -> 0.89 in 1,000 steps, measured)."""
    B, K = x.shape[0], tok.cfg.k
    with torch.no_grad():
        codes = tok.encode(x)
    m = torch.randint(1, K + 1, (B,), generator=gen).to(x.device)
    partial = (torch.rand(B, generator=gen) < partial_frac).to(x.device)
    keep = torch.where(partial, m, torch.full_like(m, K))
    per_image = (renderer(codes, keep_mask(keep, K)) - x).pow(2).mean(dim=(1, 2, 3))
    weight = torch.where(partial, partial_weight, 1.0)
    return (per_image * weight).sum() / weight.sum()


def tie_decoder(renderer: Renderer, denoiser: Denoiser) -> None:
    """Make the renderer's decoder weights the very tensors of `denoiser`: one set of weights trained by both
    losses, so the package's denoiser.onnx and renderer.onnx still share them (ddt/shared_weights.py)."""
    net = renderer.net
    for name, child in denoiser.named_children():
        if name == "blocks":
            for i, block in enumerate(child):
                net.blocks[i] = block
        else:
            setattr(net, name, child)
    for name, param in denoiser.named_parameters(recurse=False):
        setattr(net, name, param)


def load_renderer(run: Path, tok: DDTTokenizer, extra_layers: int, tied: bool,
                  init_slim: Path | None = None) -> tuple[Renderer, dict | None]:
    """The run's renderer (renderer.pt), or a fresh copy of its decoder with `extra_layers` identity blocks, or
    (`init_slim`, a committed slim checkpoint) the decoder with the slim checkpoint's added blocks.
    Tied (a checkpoint's `tied_decoder`, else `tied`): its decoder weights are tok.denoiser's, updated in place."""
    ck = load_checkpoint(run / "renderer.pt")
    if ck and ck.get("added_only"):
        raise SystemExit(f"{run / 'renderer.pt'} is a slim checkpoint (its added blocks alone, no optimiser state): "
                         "train a renderer in a run without it, from its tokenizer.pt (--init-slim starts from it)")
    slim = None if ck else load_checkpoint(init_slim) if init_slim else None
    if init_slim and not ck and not (slim and slim.get("added_only")):
        raise SystemExit(f"--init-slim {init_slim}: not a slim renderer checkpoint")
    layers = ck.get("extra_layers", 0) if ck else slim["extra_layers"] if slim else extra_layers
    renderer = Renderer(tok.cfg, tok.fsq, layers)
    if ck.get("tied_decoder", False) if ck else tied:
        tie_decoder(renderer, tok.denoiser)
    if ck:
        renderer.load_state_dict(ck["model"])
    elif slim:  # the added blocks as committed; the rest is the run's decoder, which the slim one was cut from
        renderer.load_slim(tok.denoiser.state_dict(), slim["model"])
    else:
        renderer.net.load_state_dict(tok.denoiser.state_dict(), strict=False)
    return renderer, ck


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--run", required=True, help="a run directory holding tokenizer.pt; renderer.pt is written there")
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--minutes", type=float, default=1e9, help="stop after this much wall time")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda[:N]")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--decay", type=int, default=0, metavar="N",
                    help="cosine learning-rate decay over N steps from this phase's first step (kept across resumes)")
    ap.add_argument("--extra-layers", type=int, default=0,
                    help="blocks added to the decoder's (identity at the start; read from the checkpoint on resume)")
    ap.add_argument("--decoder-lr-scale", type=float, default=1.0,
                    help="learning-rate multiplier of the weights that came from the decoder")
    ap.add_argument("--init-slim", type=Path, default=None, metavar="RENDERER_PT",
                    help="a new run starts from this slim renderer.pt's added blocks (e.g. the committed one; "
                         "copy the tokenizer.pt it was exported with into the run), with a fresh optimiser")
    ap.add_argument("--batch", type=int, default=None, help="default: the preset's tokenizer batch")
    ap.add_argument("--partial", type=float, default=0.25, help="share of samples that keep only some codes")
    ap.add_argument("--partial-weight", type=float, default=0.05, help="their loss weight (full: 1)")
    ap.add_argument("--denoise-weight", type=float, default=0.0,
                    help="above 0: the decoder's weights stay the denoiser's (tied), also trained by the tokenizer's "
                         "denoising loss at this weight, so steps > 0 keep working and the package shares them")
    ap.add_argument("--denoise-batch", type=int, default=16, help="images a step for the denoising loss")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-n", type=int, default=200)
    return ap


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    setup_torch(args.threads)
    p = PRESETS[args.preset]
    run = Path(args.run)
    if args.denoise_weight > 0 and args.decoder_lr_scale == 0:
        raise SystemExit("--denoise-weight trains the decoder's weights: give --decoder-lr-scale above 0")
    tok = load_tokenizer(run, p)
    tok.requires_grad_(False)  # fixed codes: the LLM's data stays valid
    renderer, ck = load_renderer(run, tok, args.extra_layers, args.denoise_weight > 0, args.init_slim)
    tied = renderer.net.blocks[0] is tok.denoiser.blocks[0]
    if tied and args.denoise_weight == 0:
        raise SystemExit("this renderer's decoder is tied to the denoiser: resume it with --denoise-weight above 0")
    device = pick_device(args.device)
    tok.to(device)
    renderer.to(device)
    step, seconds = (ck["step"], ck["seconds"]) if ck else (0, 0.0)
    # the decoder's own weights move slower than the new blocks: at the full rate they drifted from a
    # plateaued decoder (held-out agreement swung 0.905-0.96 around its 0.935, measured)
    renderer.requires_grad_(True)  # a tied decoder's weights came in frozen with the tokenizer's
    new = {id(param) for b in list(renderer.net.blocks)[tok.cfg.dec_layers:] for param in b.parameters()}
    if args.decoder_lr_scale == 0:  # the decoder's weights stay as they are: no gradients for them at all
        for param in renderer.parameters():
            param.requires_grad_(id(param) in new)
    params = list(renderer.parameters())
    groups = [{"params": [q for q in params if id(q) in new], "scale": 1.0},
              {"params": [q for q in params if id(q) not in new and q.requires_grad], "scale": args.decoder_lr_scale}]
    opt = torch.optim.AdamW([g for g in groups if g["params"]], lr=args.lr, weight_decay=0.0)
    # Adam's state fits only the same parameter groups: another --decoder-lr-scale starts it afresh (warmed up)
    fresh_opt = not (ck and "opt" in ck and ck.get("decoder_lr_scale") == args.decoder_lr_scale)
    if not fresh_opt:
        opt.load_state_dict(ck["opt"])
    warm_from = step if fresh_opt else 0
    decay_from = decay_start(ck, args.decay, step)
    total = args.steps if decay_from is None else min(args.steps, decay_from + args.decay)
    log = Logger(run / "renderer_log.jsonl")
    rng = random.Random(step * 7919 + 3)
    gen = torch.Generator().manual_seed(step + 17)
    val = validation_scenes(args.eval_n)
    batch = args.batch or p.tok_batch

    def evaluate():
        extra = {"sampler_exact": recon_exact(tok, val, one_step_sampler(tok))} if tied else {}
        log.log(step=step, recon_exact=recon_exact(tok, val, rendered(renderer.eval())), **extra)

    if step == 0:
        evaluate()
    renderer.train()
    t_start = last_save = time.time()

    def save():
        save_checkpoint(run / "renderer.pt", model=renderer.state_dict(), opt=opt.state_dict(), step=step,
                        seconds=seconds, extra_layers=renderer.extra_layers, decoder_lr_scale=args.decoder_lr_scale,
                        tied_decoder=tied, denoise_weight=args.denoise_weight,
                        preset=p.name, decay_from=decay_from, decay_len=args.decay)

    while step < total and (time.time() - t_start) / 60 < args.minutes:
        t0 = time.time()
        lr = args.lr * warmup(step, warm_from)
        if decay_from is not None:
            lr *= decay_factor(step, decay_from, args.decay, 0.05)
        for g in opt.param_groups:
            g["lr"] = lr * g["scale"]
        x = training_batch(rng, batch, p.tokenizer.image_size).to(device)
        loss = renderer_loss(tok, renderer, x, gen, args.partial, args.partial_weight)
        if tied:
            loss = loss + args.denoise_weight * tok.loss(x[: args.denoise_batch], gen)[0]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(renderer.parameters(), 1.0)
        opt.step()
        step += 1
        seconds += time.time() - t0
        if step % 25 == 0:
            log.log(step=step, loss=round(loss.item(), 5), lr=lr, sec_per_step=round(seconds / step, 3))
        if step % args.eval_every == 0 or step == total:
            evaluate()
            renderer.train()
        if time.time() - last_save > 120 or step == total:
            save()
            last_save = time.time()
    save()


if __name__ == "__main__":
    main()
