"""Shared training utilities: threads, checkpoints, logging."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import torch


def setup_torch(threads: int = 2) -> None:
    torch.set_num_threads(threads)
    # denormals made training steps 2.2x slower on these CPUs
    torch.set_flush_denormal(True)


def pick_device(name: str = "auto") -> torch.device:
    """auto: the first CUDA device when there is one, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: no CUDA device here")
    return device


WARMUP_STEPS = 200


def warmup(step: int, warm_from: int) -> float:
    """Linear learning-rate warm-up over WARMUP_STEPS from `warm_from`: training starts there, and so does a
    resumed run whose Adam state is fresh (slim checkpoints keep none), because a fresh Adam state takes
    sign-sized first steps."""
    return min(1.0, (step - warm_from + 1) / WARMUP_STEPS)


def decay_start(ck: dict | None, length: int, step: int) -> int | None:
    """First step of a learning-rate decay phase of `length` steps (None without one). A new phase starts
    here unless the checkpoint is inside an unfinished phase of the same length: a resume with another
    length once silently stretched an older phase instead (session 3)."""
    if not length:
        return None
    start = ck.get("decay_from") if ck else None
    same_phase = ck is not None and ck.get("decay_len") == length
    if start is None or not same_phase or step >= start + length:
        start = step
    return start


def decay_factor(step: int, start: int, length: int, floor: float) -> float:
    """Cosine from 1 at `start` down to `floor` at `start + length`."""
    frac = min(1.0, (step - start) / length)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * frac))


def save_checkpoint(path: Path, **state) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a killed session never leaves a half-written checkpoint


def load_checkpoint(path: Path):
    return torch.load(path, map_location="cpu", weights_only=False) if path.exists() else None


class Logger:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(path, "a")
        self.t0 = time.time()

    def log(self, **kv) -> None:
        kv["time"] = round(time.time() - self.t0, 1)
        line = json.dumps(kv)
        print(line, flush=True)
        self.f.write(line + "\n")
        self.f.flush()
