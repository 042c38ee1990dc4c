import torch

from ddt.grow import deepen, spread_layers
from ddt.llm import make_llm
from ddt.presets import LLMConfig


def test_added_layers_are_spread_between_the_old_ones():
    assert spread_layers(4, 6) == [0, 1, None, 2, 3, None]
    assert spread_layers(4, 8) == [0, None, 1, None, 2, None, 3, None]
    assert spread_layers(2, 2) == [0, 1]


def test_a_deepened_llm_computes_what_the_shallow_one_did_and_can_still_learn():
    torch.manual_seed(0)
    small = make_llm(LLMConfig(hidden=32, layers=2, heads=2, kv_heads=2, intermediate=64), 50).eval()
    deep = make_llm(LLMConfig(hidden=32, layers=3, heads=2, kv_heads=2, intermediate=64), 50).eval()
    assert deepen(small.state_dict(), deep) == [0, 1, None]
    ids = torch.randint(0, 50, (2, 7))
    with torch.no_grad():
        torch.testing.assert_close(deep(input_ids=ids).logits, small(input_ids=ids).logits)
    deep(input_ids=ids).logits.square().mean().backward()
    assert deep.model.layers[2].self_attn.o_proj.weight.grad.abs().sum() > 0
