"""The recipe replay (replay.py): the bundled model's recipe is complete and every stage's options parse, and
a tiny recipe really trains stage after stage, keeps a cooldown phase across a change of mixture, holds the
main schedule's floor, and skips what is done when run again."""

import json
from pathlib import Path

import pytest

import replay
from ddt.common import load_checkpoint
from ddt.tasks import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]


def test_small_recipe_ends_at_the_bundled_checkpoints(tmp_path):
    preset, rates, stages = replay.load_recipe(ROOT / "recipes" / "small.json")
    assert preset == "small" and set(rates) == {"tokenizer", "llm", "renderer"}
    for st in stages:
        argv = replay.stage_argv(st, preset, tmp_path, 2)
        args = replay.SCRIPTS[st.script][0].build_parser().parse_args(argv)
        assert args.preset == "small"
        if st.script == "llm":  # the mixture is complete: every task has a weight, named or 0
            weights = dict(item.split("=") for item in args.mix.split(","))
            assert set(weights) == set(EXAMPLES)
            assert sum(float(w) > 0 for w in weights.values()) == len(st.mix)
    for script, file in (("tokenizer", "tokenizer.pt"), ("llm", "llm.pt"), ("renderer", "renderer.pt")):
        bundled = load_checkpoint(ROOT / "checkpoints" / "small" / file)
        assert max(st.end_step for st in stages if st.script == script) == bundled["step"]


def test_recipe_errors_name_the_stage(tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text(json.dumps({"preset": "tiny", "stages": [
        {"name": "a", "script": "llm", "end_step": 3, "args": [], "mix": {"t2i": 1}},
        {"name": "b", "script": "llm", "end_step": 3, "args": [], "mix": {"t2i": 1}}]}))
    with pytest.raises(ValueError, match="stage b: end_step 3 does not follow 3"):
        replay.load_recipe(bad)
    bad.write_text(json.dumps({"preset": "tiny", "stages": [
        {"name": "a", "script": "llm", "end_step": 3, "args": [], "mix": {"t2j": 1}}]}))
    with pytest.raises(ValueError, match="stage a: unknown tasks"):
        replay.load_recipe(bad)


def tiny_stages() -> list[dict]:
    two = {"t2i": 1.0, "caption": 1.0}
    return [
        {"name": "tok", "script": "tokenizer", "end_step": 2, "args": ["--steps", "2", "--eval-every", "2"]},
        {"name": "dec", "script": "tokenizer", "end_step": 4,
         "args": ["--freeze-encoder", "--decay", "2", "--steps", "4", "--eval-every", "2"]},
        {"name": "ren", "script": "renderer", "end_step": 2, "args": ["--steps", "2", "--eval-n", "2"]},
        {"name": "main", "script": "llm", "end_step": 3, "args": ["--steps", "3"], "mix": two},
        {"name": "floor", "script": "llm", "end_step": 5, "args": ["--steps", "5", "--schedule-steps", "3"], "mix": two},
        {"name": "cool-a", "script": "llm", "end_step": 7, "args": ["--cooldown", "4", "--lr", "1e-3", "--stop-at", "7"],
         "mix": two},
        {"name": "cool-b", "script": "llm", "end_step": 9, "args": ["--cooldown", "4", "--lr", "1e-3"],
         "mix": {"t2i": 1.0, "caption_t2i": 0.5}},
        {"name": "last", "script": "llm", "end_step": 11, "args": ["--cooldown", "2", "--lr", "1e-4"], "mix": two},
    ]


def replay_first(n: int, tmp_path: Path) -> dict:
    recipe = tmp_path / f"tiny{n}.json"
    recipe.write_text(json.dumps({"preset": "tiny", "stages": tiny_stages()[:n]}))
    replay.main(["--recipe", str(recipe), "--run", str(tmp_path / "run"), "--threads", "1"])
    return load_checkpoint(tmp_path / "run" / "llm.pt")


def mixes(tmp_path: Path) -> list[dict]:
    lines = (tmp_path / "run" / "llm_log.jsonl").read_text().splitlines()
    return [d for d in map(json.loads, lines) if "mix" in d]


def test_tiny_recipe_trains_stage_by_stage_and_resumes(tmp_path):
    ck = replay_first(5, tmp_path)
    assert ck["step"] == 5 and ck["schedule_total"] == 3  # held at the floor of a 3-step schedule
    assert load_checkpoint(tmp_path / "run" / "tokenizer.pt")["step"] == 4
    assert load_checkpoint(tmp_path / "run" / "renderer.pt")["step"] == 2
    ck = replay_first(6, tmp_path)
    assert (ck["step"], ck["decay_from"], ck["decay_len"]) == (7, 5, 4)  # stopped inside its cooldown
    ck = replay_first(7, tmp_path)
    assert (ck["step"], ck["decay_from"]) == (9, 5)  # the same cooldown went on with the new mixture
    ck = replay_first(8, tmp_path)
    assert (ck["step"], ck["decay_from"], ck["decay_len"]) == (11, 9, 2)
    logged = mixes(tmp_path)
    assert [d["step"] for d in logged] == [0, 3, 5, 7, 9]  # each stage trained once, the done ones skipped
    assert logged[3]["mix"]["caption_t2i"] == 0.5 and logged[3]["mix"]["caption"] == 0.0
    assert set(logged[0]["mix"]) == set(EXAMPLES)
    replay_first(8, tmp_path)
    assert len(mixes(tmp_path)) == 5  # nothing left to do
