"""A checkpoint split into parts under a size limit joins back to the same weights, without Adam's state."""

import torch

from checkpoint_parts import join, split


def test_split_parts_stay_under_the_limit_and_join_to_the_same_weights(tmp_path):
    model = {f"layer{i}.weight": torch.randn(64, 64) for i in range(5)}  # 16 KiB each
    torch.save({"model": model, "opt": {"state": 1}, "step": 7, "preset": "tiny"}, tmp_path / "llm.pt")
    parts = split(tmp_path / "llm.pt", tmp_path / "out", max_bytes=40_000)
    assert len(parts) == 3 and all(p.stat().st_size < 40_000 + 4_000 for p in parts)
    join(tmp_path / "back" / "llm.pt", list(reversed(parts)))
    back = torch.load(tmp_path / "back" / "llm.pt", weights_only=False)
    assert back["step"] == 7 and back["preset"] == "tiny" and "opt" not in back
    assert back["model"].keys() == model.keys()
    assert all(torch.equal(back["model"][k], v) for k, v in model.items())
