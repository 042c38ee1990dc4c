"""Training batches for the MLLM: examples drawn from the task mixture, their scenes rendered and encoded by
the frozen DDT tokenizer, bucketed by length and collated.

Encoding is most of a batch's CPU time (3.5 ms per scene against 1 ms to render it, one thread). On a GPU the
encoder costs almost nothing and drawing and rendering become the limit, so `workers` processes can do those
while the main process encodes on the training device and collates."""

from __future__ import annotations

import multiprocessing as mp
import random
from collections.abc import Iterator

import numpy as np
import torch

from .data import to_tensor
from .tasks import TaskMix, build_sequence, sample_example
from .tokenizer_model import DDTTokenizer
from .vocab import Vocab
from .world import render, scene_key


class SceneCodes:
    """Scene -> K codes with the frozen encoder, batched and memoised (the encoder runs where it lives)."""

    def __init__(self, tok: DDTTokenizer, limit: int = 200_000, device: torch.device | None = None):
        self.tok, self.memo, self.limit = tok, {}, limit
        self.device = device or torch.device("cpu")

    def prime(self, scenes) -> None:
        self.prime_rendered({scene_key(s): s for s in scenes}, {})

    @torch.no_grad()
    def prime_rendered(self, scenes: dict, images: dict[str, np.ndarray]) -> None:
        """Encodes the scenes (by key) not remembered yet, using the rendered `images` where given."""
        if len(self.memo) > self.limit:
            # before choosing what to encode: clearing after it dropped codes this batch still needed (a run
            # died with a KeyError ~5,900 steps after a resume, session 5)
            self.memo.clear()
        todo = [k for k in scenes if k not in self.memo]
        if not todo:
            return
        size = self.tok.cfg.image_size
        pixels = to_tensor([images[k] if k in images else render(scenes[k], size) for k in todo])
        codes = self.tok.encode(pixels.to(self.device))
        for k, c in zip(todo, codes.tolist()):
            self.memo[k] = c

    def prime_examples(self, examples) -> None:
        """prime() with every scene the examples' turns show."""
        self.prime_rendered(scenes_of(examples), {})

    def __call__(self, scene) -> list[int]:
        return self.memo[scene_key(scene)]


def scenes_of(examples) -> dict:
    """Every scene the examples' turns show, by key."""
    return {scene_key(p): p for ex in examples for _, parts in ex for p in parts if not isinstance(p, str)}


def _draw_forever(seed: int, count: int, mix: TaskMix, size: int, out: mp.Queue) -> None:
    """Worker process: chunks of `count` examples with their scenes rendered, forever."""
    torch.set_num_threads(1)
    rng = random.Random(seed)
    while True:
        exs = [sample_example(rng, mix) for _ in range(count)]
        scenes = scenes_of(exs)
        out.put((exs, {k: render(s, size) for k, s in scenes.items()}))


def drawn_examples(rng: random.Random, count: int, mix: TaskMix, size: int, workers: int) -> Iterator:
    """(examples, rendered images by scene key) chunks: drawn here (workers 0, deterministic given rng), or
    by `workers` processes seeded from rng (their interleaving is not)."""
    if workers <= 0:
        while True:
            yield [sample_example(rng, mix) for _ in range(count)], {}
    ctx = mp.get_context("spawn")  # no fork after CUDA is initialised
    queue = ctx.Queue(maxsize=4 * workers)
    procs = [ctx.Process(target=_draw_forever, args=(rng.getrandbits(62), count, mix, size, queue), daemon=True)
             for _ in range(workers)]
    for p in procs:
        p.start()
    try:
        while True:
            yield queue.get()
    finally:
        for p in procs:
            p.terminate()


def length_buckets(rng, n, vocab: Vocab, codes: SceneCodes, mix: TaskMix, pool: int = 4, workers: int = 0):
    """Yield batches of n sequences of similar length: padding a 28-token prompt to an 80-token chat wasted
    about half of every step."""
    for exs, images in drawn_examples(rng, n * pool, mix, codes.tok.cfg.image_size, workers):
        codes.prime_rendered(scenes_of(exs), images)
        seqs = sorted((build_sequence(vocab, ex, codes) for ex in exs), key=lambda s: len(s[0]))
        batches = [seqs[i * n:(i + 1) * n] for i in range(pool)]
        rng.shuffle(batches)
        for b in batches:
            yield collate(b)


def collate(seqs):
    n = len(seqs)
    L = max(len(s) for s, _ in seqs)
    ids = torch.zeros(n, L, dtype=torch.long)
    labels = torch.full((n, L), -100, dtype=torch.long)
    attn = torch.zeros(n, L, dtype=torch.long)
    for i, (s, m) in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        attn[i, : len(s)] = 1
        lab = torch.tensor([t if k else -100 for t, k in zip(s, m)])
        labels[i, : len(s) - 1] = lab[1:]  # predict token i+1 at position i
    return ids, attn, labels
