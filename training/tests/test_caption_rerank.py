"""Captions by self-reranking (Pipeline.caption), on seeded random tiny weights: the choice is the distinct
candidate with the highest log p(codes | caption), and 0 candidates is the greedy answer."""

import random

import torch

from bench_reference import random_run
from ddt.language import CAPTION_INSTRUCTION
from ddt.llm import KVCacheLlama
from ddt.pipeline import Pipeline
from ddt.presets import PRESETS


def test_reranked_caption_is_the_most_likely_candidate():
    tok, llm, vocab, _, _ = random_run(PRESETS["tiny"])
    pipe = Pipeline(tok, KVCacheLlama(llm), vocab)
    rng = random.Random(3)
    codes = [rng.randrange(tok.cfg.codebook_size) for _ in range(tok.cfg.k)]
    assert pipe.caption([codes], CAPTION_INSTRUCTION) == pipe.answer([codes], [CAPTION_INSTRUCTION])
    n = 6
    row = pipe._question_rows([codes], [CAPTION_INSTRUCTION])[0]
    greedy = pipe.generate_text([row])
    sampled = pipe.generate_text([row] * n, temperature=1.0, seeds=list(range(1, n + 1)))
    distinct = [list(t) for t in dict.fromkeys(tuple(x) for x in greedy + sampled)]
    assert len(distinct) > 1  # random weights at temperature 1: the candidates differ
    scores = pipe.code_log_likelihood(distinct, codes)
    best = distinct[max(range(len(distinct)), key=lambda i: (scores[i], -i))]
    assert pipe.caption([codes], CAPTION_INSTRUCTION, n, 1.0) == [vocab.decode_text(best)]
    # the score is the teacher-forced log-probability of the K codes: a batch of one scores the same
    one = pipe.code_log_likelihood([distinct[0]], codes)[0]
    assert abs(one - scores[0]) < 1e-4 and one < 0
    assert torch.isfinite(torch.tensor(scores)).all()
