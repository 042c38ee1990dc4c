"""Caption refinement (Pipeline.refine_caption): phrase spans and swaps on token ids, and the refined caption
scoring at least as high as the one it started from."""

import random

from bench_reference import random_run
from ddt.language import CAPTION_INSTRUCTION, caption_phrase_classes
from ddt.llm import KVCacheLlama
from ddt.phrases import phrase_spans, phrase_variants
from ddt.pipeline import Pipeline
from ddt.presets import PRESETS, CaptionRerank


def test_spans_take_the_longest_phrase_and_do_not_overlap():
    classes = [[[1, 2], [3, 2]], [[2], [4]], [[5]]]
    assert phrase_spans([1, 2, 9, 2, 5, 3, 2], classes) == [(0, 2, 0), (3, 1, 1), (4, 1, 2), (5, 2, 0)]
    assert phrase_spans([9, 9], classes) == []


def test_variants_swap_one_phrase_for_each_other_of_its_class():
    classes = [[[1, 2], [3]], [[4], [5], [6]]]
    assert phrase_variants([1, 2, 0, 4], classes) == [[3, 0, 4], [1, 2, 0, 5], [1, 2, 0, 6]]
    assert phrase_variants([0, 0], classes) == []


def test_caption_classes_keep_the_article_with_its_colour():
    with_article, bare, shapes, plurals = caption_phrase_classes()
    assert "an orange" in with_article and "a red" in with_article and "red" in bare
    assert shapes == ("circle", "square", "triangle") and plurals == ("circles", "squares", "triangles")


def test_refined_caption_scores_at_least_the_reranked_one():
    tok, llm, vocab, _, _ = random_run(PRESETS["tiny"])
    pipe = Pipeline(tok, KVCacheLlama(llm), vocab)
    rng = random.Random(5)
    codes = [rng.randrange(tok.cfg.codebook_size) for _ in range(tok.cfg.k)]
    row = pipe._question_rows([codes], [CAPTION_INSTRUCTION])[0]
    rerank = CaptionRerank(0, 1.0, 0.5, 3, caption_phrase_classes())
    start = vocab.encode_text("a red circle at the top left and two blue squares at the center and right")
    before = pipe.caption_scores(row, codes, [start], 0.5)[0]
    refined = pipe.refine_caption(row, codes, start, before, rerank)
    after = pipe.caption_scores(row, codes, [refined], 0.5)[0]
    assert after >= before - 1e-6
    assert len(refined) == len(start)  # the swaps here keep the length
    # one round: the best-scoring variant (ties: the earlier) if it beats the start, else the start
    classes = [[vocab.encode_text(p) for p in c] for c in rerank.phrases]
    variants = phrase_variants(start, classes)
    scores = pipe.caption_scores(row, codes, variants, 0.5)
    best = max(range(len(variants)), key=lambda i: (scores[i], -i))
    one = pipe.refine_caption(row, codes, start, before, CaptionRerank(0, 1.0, 0.5, 1, rerank.phrases))
    assert one == (variants[best] if scores[best] > before else start)
    # the score is the sum of both directions
    t2i = pipe.code_log_likelihood([start], codes)[0]
    own = pipe._score_last([row + start + [vocab.id("<end>")]], len(start) + 1, 0, vocab.text_size)[0]
    assert abs(before - (t2i + 0.5 * own)) < 1e-4
