"""The seeded RNG shared with the TypeScript runtime (byte-identical streams for golden parity).

SplitMix64; uniform = (next >> 11) * 2^-53; normal = Box-Muller with u1 = 1 - uniform, u2 = uniform,
sqrt(-2 ln u1) * cos(2 pi u2), one normal per two uniforms. Image i of a request uses seed + i; its
token sampler and its diffusion noise (seed ^ NOISE_SALT) have separate generators.
"""

from __future__ import annotations

import math

import numpy as np

MASK64 = (1 << 64) - 1
NOISE_SALT = 0xD1B54A32D192ED03


class SplitMix64:
    def __init__(self, seed: int):
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self) -> float:
        return (self.next() >> 11) * 2.0**-53

    def normal(self) -> float:
        u1 = 1.0 - self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def normals(self, shape) -> np.ndarray:
        n = int(np.prod(shape))
        return np.array([self.normal() for _ in range(n)], dtype=np.float32).reshape(shape)


def image_seed(seed: int, i: int) -> int:
    return (seed + i) & MASK64


def candidate_seed(seed: int, j: int) -> int:
    """Seed of candidate j (from 1) of the image with seed `seed` (Pipeline.generate); as rng.ts's
    seedForCandidate: multiplicative, so that consecutive image seeds do not share candidates."""
    return (seed * 0x9E3779B97F4A7C15 + j) & MASK64


def noise_generator(seed: int) -> SplitMix64:
    return SplitMix64(seed ^ NOISE_SALT)


def sample_from_probs(probs: np.ndarray, u: float) -> int:
    """Walk ids in ascending order until the cumulative probability exceeds u (as the runtime does)."""
    acc = 0.0
    last = 0
    for i, p in enumerate(probs.tolist()):
        if p <= 0:
            continue
        acc += p
        last = i
        if acc > u:
            return i
    return last


def process_logits(logits: np.ndarray, temperature: float, top_k: int, top_p: float) -> np.ndarray | None:
    """-> probabilities, or None for greedy (temperature 0). Masked entries must already be -inf."""
    if temperature <= 0:
        return None
    x = logits.astype(np.float64) / temperature
    if top_k and top_k < len(x):
        kth = np.sort(x)[::-1][top_k - 1]
        x = np.where(x >= kth, x, -np.inf)
    x = x - np.max(x)
    p = np.exp(x)
    p /= p.sum()
    if top_p < 1.0:
        order = sorted(range(len(p)), key=lambda i: (-p[i], i))
        keep, acc = [], 0.0
        for i in order:
            if p[i] <= 0:
                break
            keep.append(i)
            acc += p[i]
            if acc >= top_p:
                break
        q = np.zeros_like(p)
        q[keep] = p[keep]
        p = q / q.sum()
    return p
