"""Self-reranking on seeded random tiny weights. Captions (Pipeline.caption): the choice is the distinct
candidate with the highest log p(codes | caption), and 0 candidates is the greedy answer. Images
(Pipeline.generate): the distinct candidate codes with the highest log p(prompt | image)."""

import random
from dataclasses import replace

import torch

from bench_reference import random_run
from ddt.language import CAPTION_INSTRUCTION, PROMPT_INSTRUCTION
from ddt.llm import KVCacheLlama
from ddt.pipeline import Pipeline, Sampling
from ddt.presets import PRESETS, CaptionRerank, ImageRerank
from ddt.rng import candidate_seed


def distinct_candidates(pipe: Pipeline, prompt: str, sp: Sampling, seed: int, n: int) -> list[list[int]]:
    """A request's own codes and its n candidates sampled at temperature 1, distinct, in order (as
    Pipeline.generate draws them for ImageRerank(n, 1.0))."""
    v = pipe.vocab
    cond = [[v.id("<bos>"), v.id("<user>")] + v.encode_text(prompt) + [v.id("<assistant>"), v.id("<boi>")]]
    own = pipe.generate_image_codes(cond, [[v.id("<bos>"), v.id("<user>"), v.id("<assistant>"), v.id("<boi>")]],
                                    sp, [seed])
    sampled = pipe.generate_image_codes(cond * n, None, Sampling(temperature=1.0),
                                        [candidate_seed(seed, j) for j in range(1, n + 1)])
    return [list(t) for t in dict.fromkeys(tuple(c) for c in own + sampled)]


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
    assert pipe.caption([codes], CAPTION_INSTRUCTION, CaptionRerank(n, 1.0)) == [vocab.decode_text(best)]
    # the score is the teacher-forced log-probability of the K codes: a batch of one scores the same
    one = pipe.code_log_likelihood([distinct[0]], codes)[0]
    assert abs(one - scores[0]) < 1e-4 and one < 0
    assert torch.isfinite(torch.tensor(scores)).all()


def test_reranked_image_is_the_candidate_that_best_explains_the_prompt():
    tok, llm, vocab, _, _ = random_run(PRESETS["tiny"])
    pipe = Pipeline(tok, KVCacheLlama(llm), vocab)
    prompt, seed, n = "two red circles", 41, 5
    sp = Sampling(steps=1)
    plain, _ = pipe.generate([prompt], sp, [seed])
    cond = [[vocab.id("<bos>"), vocab.id("<user>")] + vocab.encode_text(prompt)
            + [vocab.id("<assistant>"), vocab.id("<boi>")]]
    sampled = pipe.generate_image_codes(cond * n, None, Sampling(temperature=1.0),
                                        [candidate_seed(seed, j) for j in range(1, n + 1)])
    distinct = [list(t) for t in dict.fromkeys(tuple(c) for c in plain + sampled)]
    assert len(distinct) > 1
    scores = pipe.prompt_log_likelihood(distinct, prompt)
    best = distinct[max(range(len(distinct)), key=lambda i: (scores[i], -i))]
    chosen, imgs = pipe.generate([prompt], sp, [seed], rerank=ImageRerank(n, 1.0))
    assert chosen == [best] and imgs.shape[0] == 1
    # with the forward direction added: log p(prompt | image) + w log p(image | prompt)
    fwd = pipe.image_log_likelihood(prompt, distinct)
    assert abs(fwd[1] - pipe.code_log_likelihood([vocab.encode_text(prompt)], distinct[1])[0]) < 1e-6
    mixed = [a + 0.5 * b for a, b in zip(scores, fwd)]
    want = distinct[max(range(len(distinct)), key=lambda i: (mixed[i], -i))]
    assert pipe.generate([prompt], sp, [seed], rerank=ImageRerank(n, 1.0, forward_weight=0.5))[0] == [want]
    # the score is the prompt's teacher-forced log-probability, token by token over the text ids
    answer = vocab.encode_text(prompt) + [vocab.id("<end>")]
    row = pipe._question_rows([distinct[0]], [PROMPT_INSTRUCTION])[0] + answer
    with torch.no_grad():
        logits = pipe.llm(torch.tensor([row]), torch.ones(1, len(row), dtype=torch.long),
                          torch.arange(len(row))[None], *pipe.llm.empty_past(1))[0][0]
    want = sum(torch.log_softmax(logits[len(row) - len(answer) - 1 + k, :vocab.text_size].double(), -1)[t].item()
               for k, t in enumerate(answer))
    assert abs(want - scores[0]) < 1e-4


def test_images_of_one_request_avoid_each_others_choice():
    tok, llm, vocab, _, _ = random_run(PRESETS["tiny"])
    pipe = Pipeline(tok, KVCacheLlama(llm), vocab)
    prompt, sp = "a blue square", Sampling(steps=1)
    seeds = [5, 6, 7]
    apart = [pipe.generate([prompt], sp, [s], rerank=ImageRerank(4, 1.0))[0][0] for s in seeds]
    together = pipe.generate([prompt] * 3, sp, seeds, rerank=ImageRerank(4, 1.0), per_request=3)[0]
    assert together[0] == apart[0]  # the first image is unaffected
    assert len({tuple(c) for c in together}) == 3


def test_round_trip_scores_what_each_candidate_image_encodes_back_to():
    tok, llm, vocab, _, _ = random_run(PRESETS["tiny"])
    pipe = Pipeline(tok, KVCacheLlama(llm), vocab)
    plan, seed, n = "a red circle at the top left", 17, 5
    sp = Sampling(steps=1)
    rerank = ImageRerank(n, 1.0, forward_weight=0.5, round_trip=True, caption_weight=0.7)
    distinct = distinct_candidates(pipe, plan, sp, seed, n)
    assert len(distinct) > 1
    noise = pipe.noise(1, [seed])
    imgs = pipe.decode(distinct, 1, noise=noise.expand(len(distinct), -1, -1, -1))
    back = pipe.encode(list(imgs))
    assert back != distinct  # random weights: the round trip changes the codes that are scored
    score = [a + 0.7 * b + 0.5 * c for a, b, c in zip(
        pipe.prompt_log_likelihood(back, plan), pipe.prompt_log_likelihood(back, plan, CAPTION_INSTRUCTION),
        pipe.image_log_likelihood(plan, back))]
    best = max(range(len(distinct)), key=lambda i: (score[i], -i))
    chosen, out = pipe.generate([plan], sp, [seed], rerank=rerank, captioned=True)
    assert chosen == [distinct[best]]
    assert (out[0] == imgs[best]).all()  # the result is the chosen candidate's image, not decoded again
    # not a caption (a text-to-image prompt or plan): no caption term
    plain = [a + 0.5 * c for a, c in zip(pipe.prompt_log_likelihood(back, plan), pipe.image_log_likelihood(plan, back))]
    want = max(range(len(distinct)), key=lambda i: (plain[i], -i))
    assert pipe.generate([plan], sp, [seed], rerank=rerank)[0] == [distinct[want]]


def test_edit_round_trip_applies_to_captioned_requests_alone():
    assert [ImageRerank(edit_round_trip=e).round_trip_for(c) for e in (None, True, False) for c in (False, True)] == [
        False, False, False, True, False, False]
    assert [ImageRerank(round_trip=True, edit_round_trip=e).round_trip_for(True) for e in (None, True, False)] == [
        True, True, False]
    tok, llm, vocab, _, _ = random_run(PRESETS["tiny"])
    pipe = Pipeline(tok, KVCacheLlama(llm), vocab)
    plan, sp = "a red circle at the top left", Sampling(steps=1)
    both = ImageRerank(5, 1.0, forward_weight=0.5, round_trip=True, caption_weight=0.7)
    edits = replace(both, round_trip=False, edit_round_trip=True)
    none = replace(both, round_trip=False)
    # a seed whose candidates the round trip ranks differently, so that the comparisons below tell them apart
    seed = next(s for s in range(40) if pipe.generate([plan], sp, [s], rerank=both, captioned=True)[0]
                != pipe.generate([plan], sp, [s], rerank=none, captioned=True)[0])
    for captioned, same_as in ((True, both), (False, none)):
        got = pipe.generate([plan], sp, [seed], rerank=edits, captioned=captioned)
        want = pipe.generate([plan], sp, [seed], rerank=same_as, captioned=captioned)
        assert got[0] == want[0] and (got[1] == want[1]).all()


def test_source_term_prefers_the_candidate_closest_to_the_edits_source():
    import numpy as np

    from ddt.pipeline import source_distance

    white = np.full((4, 4, 3), 255, np.uint8)
    pale = np.full((4, 4, 3), 230, np.uint8)
    assert source_distance(white, pale) == 0.0  # the source's pale background is normalised, as the encoder's
    grey = white.copy()
    grey[0, 0] = (155, 255, 55)
    assert source_distance(grey, white) == (100 + 200) / 48
    tok, llm, vocab, _, _ = random_run(PRESETS["tiny"])
    pipe = Pipeline(tok, KVCacheLlama(llm), vocab)
    plan, sp, seed, n = "a red circle at the top left", Sampling(steps=1), 17, 5
    rerank = ImageRerank(n, 1.0, forward_weight=0.5, round_trip=True, caption_weight=0.7)
    plain, imgs = pipe.generate([plan], sp, [seed], rerank=rerank, captioned=True)
    # every distinct candidate's image, as the round trip decodes it from the image's noise
    distinct = distinct_candidates(pipe, plan, sp, seed, n)
    decoded = pipe.decode(distinct, 1, noise=pipe.noise(1, [seed]).expand(len(distinct), -1, -1, -1))
    # a source equal to a candidate that the other scores do not pick: with a large weight that candidate wins
    other = next(i for i, c in enumerate(distinct) if c != plain[0])
    near = replace(rerank, source_weight=1e6)
    assert pipe.generate([plan], sp, [seed], rerank=near, captioned=True, sources=[decoded[other]])[0] == [
        distinct[other]]
    # no effect without a source, without the round trip, or on a request that is not an edit's
    assert pipe.generate([plan], sp, [seed], rerank=near, captioned=True)[0] == plain
    assert pipe.generate([plan], sp, [seed], rerank=replace(near, round_trip=False), captioned=True,
                         sources=[decoded[other]])[0] == pipe.generate(
        [plan], sp, [seed], rerank=replace(rerank, round_trip=False), captioned=True)[0]
    assert pipe.generate([plan], sp, [seed], rerank=near, sources=[decoded[other]])[0] == pipe.generate(
        [plan], sp, [seed], rerank=rerank)[0]
