"""Split a training checkpoint into weights-only parts small enough to travel, and join them again.

The GPU machine hands back files of at most 16 MiB (.library/device), and a medium LLM checkpoint is ~41 MB of
weights (three times that with Adam's state, which a resumed run rebuilds after a warm-up):

    python training/checkpoint_parts.py split training/runs/medium/llm.pt "$OUT" --max-mb 15
    python training/checkpoint_parts.py join training/runs/medium/llm.pt llm.part*.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch


def split(checkpoint: Path, out_dir: Path, max_bytes: int) -> list[Path]:
    """Weights-only parts (the other entries, Adam's state excepted, go with the first part)."""
    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    meta = {k: v for k, v in ck.items() if k not in ("model", "opt")}
    groups: list[dict] = [{}]
    size = 0
    for name, tensor in ck["model"].items():
        n = tensor.numel() * tensor.element_size()
        if groups[-1] and size + n > max_bytes:
            groups.append({})
            size = 0
        groups[-1][name] = tensor.contiguous()
        size += n
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, group in enumerate(groups):
        path = out_dir / f"{checkpoint.stem}.part{i}.pt"
        torch.save({"part": i, "parts": len(groups), "model": group, **(meta if i == 0 else {})}, path)
        paths.append(path)
    return paths


def join(checkpoint: Path, parts: list[Path]) -> None:
    loaded = sorted((torch.load(p, map_location="cpu", weights_only=False) for p in parts), key=lambda c: c["part"])
    if not loaded or [c["part"] for c in loaded] != list(range(loaded[0]["parts"])):
        raise SystemExit(f"need every part of one checkpoint, got {[str(p) for p in parts]}")
    model = {k: v for c in loaded for k, v in c["model"].items()}
    meta = {k: v for k, v in loaded[0].items() if k not in ("part", "parts", "model")}
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    torch.save({**meta, "model": model}, checkpoint)


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("split")
    s.add_argument("checkpoint", type=Path)
    s.add_argument("out_dir", type=Path)
    s.add_argument("--max-mb", type=float, default=15)
    j = sub.add_parser("join")
    j.add_argument("checkpoint", type=Path)
    j.add_argument("parts", type=Path, nargs="+")
    args = ap.parse_args()
    if args.cmd == "split":
        for p in split(args.checkpoint, args.out_dir, int(args.max_mb * 2**20)):
            print(p)
    else:
        join(args.checkpoint, args.parts)


if __name__ == "__main__":
    main()
