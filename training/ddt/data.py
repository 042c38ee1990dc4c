"""Batches of rendered scenes as model tensors."""

from __future__ import annotations

import random

import numpy as np
import torch

from .world import Scene, normalize_background, random_background, random_scene, render


def to_tensor(imgs: list[np.ndarray]) -> torch.Tensor:
    """uint8 [H, W, 3] images -> float [B, 3, H, W] in [-1, 1] (mean 0.5, std 0.5)."""
    arr = np.stack(imgs).astype(np.float32) / 255.0
    return torch.from_numpy((arr - 0.5) / 0.5).permute(0, 3, 1, 2).contiguous()


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float [B, 3, H, W] in [-1, 1] -> uint8 [B, H, W, 3], rounding half to even as the runtime does."""
    v = ((x.clamp(-1, 1) * 0.5 + 0.5) * 255.0).permute(0, 2, 3, 1).numpy()
    return np.clip(np.rint(v), 0, 255).astype(np.uint8)


def scene_image(scene: Scene, size: int, rng: random.Random | None = None) -> np.ndarray:
    """Render on white, or on a pale tint that is then normalised the way the server does."""
    if rng is None:
        return render(scene, size)
    return normalize_background(render(scene, size, random_background(rng)))


def image_batch(rng: random.Random, batch: int, size: int) -> tuple[torch.Tensor, list[Scene]]:
    scenes = [random_scene(rng) for _ in range(batch)]
    return to_tensor([scene_image(s, size, rng) for s in scenes]), scenes
