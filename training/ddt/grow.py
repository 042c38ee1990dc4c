"""Deepening a trained LLM without changing what it computes: the grown model keeps every trained layer and
gets new ones between them that start as the identity (their attention output and MLP down projections
zero, so each adds nothing to the residual stream until training moves them). Used to give the small
preset's LLM more layers without training again from scratch (train_llm.py --grow-from)."""

from __future__ import annotations

import torch
from transformers import LlamaForCausalLM


def spread_layers(old: int, new: int) -> list[int | None]:
    """For each of `new` layers, the index of the old layer it copies, or None for an added one; added layers
    are spread evenly, each after the old layers before it ([0, 1, None, 2, 3, None] for 4 -> 6)."""
    assert new >= old > 0, f"can only deepen: {old} -> {new} layers"
    added = new - old
    placement: list[int | None] = []
    for i in range(old):
        placement.append(i)
        # added layers due after old layer i: floor((i + 1) * added / old) - floor(i * added / old)
        placement += [None] * (((i + 1) * added) // old - (i * added) // old)
    return placement


def deepen(source: dict[str, torch.Tensor], model: LlamaForCausalLM) -> list[int | None]:
    """Load `source` (a state dict of the same LLM with fewer layers) into `model`; returns the placement."""
    old = 1 + max(int(k.split(".")[2]) for k in source if k.startswith("model.layers."))
    placement = spread_layers(old, model.config.num_hidden_layers)
    state = model.state_dict()
    for key, value in source.items():
        if not key.startswith("model.layers."):
            state[key] = value.clone()
    for new_index, old_index in enumerate(placement):
        prefix = f"model.layers.{new_index}."
        if old_index is None:
            state[prefix + "self_attn.o_proj.weight"].zero_()
            state[prefix + "mlp.down_proj.weight"].zero_()
            continue
        for key, value in source.items():
            if key.startswith(f"model.layers.{old_index}."):
                state[prefix + key.split(".", 3)[3]] = value.clone()
    model.load_state_dict(state)
    return placement
