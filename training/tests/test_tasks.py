import random

import pytest
import torch

from ddt.language import QUESTION_FAMILIES
from ddt.tasks import EXAMPLES, TaskMix, parse_weights, sample_example
from train_llm import weighted_loss


def test_parse_weights_replaces_named_weights_and_refuses_unknown_names():
    base = TaskMix().vqa_families
    got = dict(parse_weights("count=3, where=0.5", QUESTION_FAMILIES, base))
    assert got == {"count": 3.0, "colour": 1.0, "shape": 1.0, "where": 0.5, "exists": 1.0}
    with pytest.raises(ValueError, match="unknown name 'cnt'"):
        parse_weights("cnt=2", QUESTION_FAMILIES, base)


def test_task_mix_draws_in_proportion_to_its_weights():
    rng = random.Random(1)
    mix = TaskMix(vqa_families=parse_weights("count=4", QUESTION_FAMILIES, TaskMix().vqa_families))
    draws = [mix.family(rng) for _ in range(8000)]
    assert abs(draws.count("count") / len(draws) - 0.5) < 0.03  # 4 of 8
    only_vqa = TaskMix(tasks=parse_weights("t2i=0,caption=0,edit=0,chat=0", tuple(EXAMPLES), TaskMix().tasks))
    for _ in range(50):
        turns = sample_example(rng, only_vqa)
        assert len(turns) == 2 and isinstance(turns[1][1][0], str)  # a question and its one answer


def test_weighted_loss_scales_text_targets_only():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 10)
    labels = torch.tensor([[1, 7, -100], [8, 2, 9]])  # ids < 5 are "text", the rest "image codes"
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, 10), labels.reshape(-1), ignore_index=-100,
                                           reduction="none")
    assert torch.allclose(weighted_loss(logits, labels, 5, 1.0), ce[labels.reshape(-1) != -100].mean())
    text = ce[[0, 4]].sum()
    image = ce[[1, 3, 5]].sum()
    assert torch.allclose(weighted_loss(logits, labels, 5, 3.0), (3 * text + image) / (3 * 2 + 3))


def test_scene_codes_keep_every_code_a_batch_needs_when_the_memo_is_cleared():
    from types import SimpleNamespace

    from ddt.world import random_scene, scene_key
    from ddt.llm_batches import SceneCodes

    encoded = []
    fake_tokenizer = SimpleNamespace(cfg=SimpleNamespace(image_size=32),
                                     encode=lambda x: encoded.append(len(x)) or torch.zeros(len(x), 4, dtype=torch.long))
    rng = random.Random(5)
    scenes = list({scene_key(s): s for s in (random_scene(rng) for _ in range(20))}.values())[:5]
    assert len(scenes) == 5
    codes = SceneCodes(fake_tokenizer, limit=3)
    codes.prime(scenes[:4])  # the memo now holds more than its limit
    codes.prime([scenes[0], scenes[4]])  # one remembered scene, one new: the memo is cleared first
    assert codes(scenes[0]) == [0, 0, 0, 0] and codes(scenes[4]) == [0, 0, 0, 0]
    assert encoded == [4, 2]


def test_batches_drawn_by_worker_processes_are_whole_examples_with_their_scenes_codes():
    from bench_reference import random_run
    from ddt.llm_batches import SceneCodes, length_buckets
    from ddt.presets import PRESETS
    from ddt.vocab import Vocab, build_text_tokenizer

    tok = random_run(PRESETS["tiny"])[0].eval()
    vocab = Vocab(build_text_tokenizer(), tok.cfg.codebook_size)
    codes = SceneCodes(tok)
    batches = length_buckets(random.Random(3), 8, vocab, codes, TaskMix(), pool=2, workers=2)
    seen = [next(batches) for _ in range(6)]
    batches.close()  # stops the workers
    for ids, attn, labels in seen:
        assert ids.shape == attn.shape == labels.shape and ids.shape[0] == 8
        lengths = attn.sum(1)
        assert (lengths > 0).all() and (ids[:, 0] == vocab.id("<bos>")).all()
        # every target is the next id of its row, inside the row
        for row, lab, n in zip(ids, labels, lengths):
            learn = lab != -100
            assert learn.any() and torch.equal(lab[learn], row[1:][learn[:-1]])
            assert not learn[n - 1:].any()
    assert len(codes.memo) > 0  # the rendered scenes were encoded here


def test_plans_come_from_held_in_prompts_and_edit_plans_caption_the_edited_scene():
    from ddt.language import GEN_VERBS, PLAN_INSTRUCTION, caption, edit_plan_request
    from ddt.tasks import held_out

    rng = random.Random(3)
    for _ in range(200):
        (_, [asked]), (_, [plan]) = EXAMPLES["plan"](rng, TaskMix())
        prompt = asked.removeprefix(PLAN_INSTRUCTION + " ")
        for verb in GEN_VERBS:
            prompt = prompt.removeprefix(verb + " ")
        assert not held_out(prompt), prompt
        (_, [scene, question]), (_, [after_caption]) = EXAMPLES["edit_plan"](rng, TaskMix())
        assert isinstance(scene, tuple) and question.endswith(edit_plan_request("").strip())
        assert after_caption != caption(scene)  # every edit changes the scene


def test_caption_t2i_draws_busy_held_in_scenes_from_their_caption_or_writes_it():
    from ddt.language import PROMPT_INSTRUCTION, caption
    from ddt.tasks import held_out
    from ddt.world import scene_key

    rng, kinds = random.Random(5), set()
    for _ in range(100):
        (user, parts), (assistant, [out]) = EXAMPLES["caption_t2i"](rng, TaskMix())
        scene = out if isinstance(out, tuple) else parts[0]
        assert len(scene) in (3, 4) and not held_out(scene_key(scene))
        if isinstance(out, tuple):
            assert parts == [caption(scene)]
        else:
            assert parts == [scene, PROMPT_INSTRUCTION] and out == caption(scene)
        kinds.add(isinstance(out, tuple))
    assert kinds == {True, False}


def test_caption_vqa_asks_after_the_scene_caption_and_answers_as_vqa_does():
    from ddt.language import caption, sample_question
    from ddt.tasks import example_caption_vqa, train_scene

    for seed in range(30):
        (user, [asked]), (assistant, [answer]) = example_caption_vqa(random.Random(seed), TaskMix())
        rng = random.Random(seed)  # the same draws: the scene, then its family and question
        scene = train_scene(rng)
        question, want = sample_question(rng, scene, TaskMix().family(rng))
        assert (user, assistant) == ("user", "assistant")
        assert asked == f"{caption(scene)} {question}" and answer == want


def test_edit_kinds_weights_the_edits_drawn_and_none_keeps_the_uniform_draws():
    from ddt.language import EDIT_KINDS
    from ddt.tasks import sample_any_edit, train_scene

    scene = train_scene(random.Random(1), 2)
    a, b = random.Random(9), random.Random(9)
    uniform = tuple((k, 1.0) for k in EDIT_KINDS)
    # None draws as rng.choice did (eval sets made with it stay the same); the weighted draw is another stream
    assert [sample_any_edit(a, scene) for _ in range(20)] == [
        sample_edit_by_choice(b, scene) for _ in range(20)]
    only_moves = tuple((k, 1.0 if k == "move" else 0.0) for k in EDIT_KINDS)
    rng = random.Random(4)
    assert all(sample_any_edit(rng, scene, only_moves)[0].startswith("move") for _ in range(30))
    assert {sample_any_edit(rng, scene, uniform)[0].split()[0] for _ in range(60)} == {"make", "remove", "add", "move"}


def sample_edit_by_choice(rng: random.Random, scene):
    from ddt.language import EDIT_KINDS, sample_edit

    while True:
        e = sample_edit(rng, scene, rng.choice(EDIT_KINDS))
        if e is not None:
            return e
