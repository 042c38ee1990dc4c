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
