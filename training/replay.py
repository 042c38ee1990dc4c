"""Replay a recipe: the training phases a bundled model went through, in order, each resumed where it stopped.

    python training/replay.py --recipe training/recipes/small.json --run training/runs/small [--threads 2]
    python training/replay.py --recipe training/recipes/small.json --plan      # stages and time, no training

A stage is done when its checkpoint (tokenizer.pt, renderer.pt or llm.pt in the run) has reached the stage's
`end_step`, so the replay can be stopped and started again at any point. LLM stages give their complete task
mixture: a task the stage does not name gets weight 0, so tasks added to the default mixture later do not leak
into old phases. The bundled model was trained over many sessions, with interruptions and re-warmed schedules that a
replay in one go does not repeat; each stage's `as_run` says where the two differ.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import train_llm
import train_renderer
import train_tokenizer
from ddt.common import load_checkpoint
from ddt.tasks import EXAMPLES

SCRIPTS = {"tokenizer": (train_tokenizer, "tokenizer.pt"), "llm": (train_llm, "llm.pt"),
           "renderer": (train_renderer, "renderer.pt")}


@dataclass(frozen=True)
class Stage:
    name: str
    script: str
    end_step: int
    args: tuple[str, ...]
    mix: dict[str, float] | None
    as_run: str


def load_recipe(path: Path) -> tuple[str, dict[str, float], list[Stage]]:
    """-> (preset, seconds per step by script, stages); raises ValueError on a stage that cannot run."""
    raw = json.loads(path.read_text())
    stages = [Stage(s["name"], s["script"], int(s["end_step"]), tuple(s.get("args", ())), s.get("mix"),
                    s.get("as_run", "")) for s in raw["stages"]]
    last: dict[str, int] = {}
    for st in stages:
        if st.script not in SCRIPTS:
            raise ValueError(f"stage {st.name}: unknown script {st.script!r}; expected one of {', '.join(SCRIPTS)}")
        if st.end_step <= last.get(st.script, 0):
            raise ValueError(f"stage {st.name}: end_step {st.end_step} does not follow {last[st.script]}")
        last[st.script] = st.end_step
        if (st.mix is not None) != (st.script == "llm"):
            raise ValueError(f"stage {st.name}: LLM stages and only they give a mix")
        unknown = set(st.mix or ()) - set(EXAMPLES)
        if unknown:
            raise ValueError(f"stage {st.name}: unknown tasks {sorted(unknown)}")
        if "--mix" in st.args or "--preset" in st.args or "--run" in st.args:
            raise ValueError(f"stage {st.name}: --mix, --preset and --run come from the recipe")
    return raw["preset"], raw.get("seconds_per_step", {}), stages


def stage_argv(stage: Stage, preset: str, run: Path, threads: int) -> list[str]:
    argv = ["--preset", preset, "--run", str(run), "--threads", str(threads), *stage.args]
    if stage.mix is not None:
        full = {task: stage.mix.get(task, 0.0) for task in EXAMPLES}
        argv += ["--mix", ",".join(f"{k}={v:g}" for k, v in full.items())]
    return argv


def reached(run: Path, script: str) -> int:
    ck = load_checkpoint(run / SCRIPTS[script][1])
    return int(ck["step"]) if ck else 0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", required=True)
    ap.add_argument("--run", default=None, help="run directory (default: training/runs/<preset>)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--plan", action="store_true", help="print the stages and the time left, train nothing")
    args = ap.parse_args(argv)
    preset, rates, stages = load_recipe(Path(args.recipe))
    run = Path(args.run) if args.run else Path(__file__).parent / "runs" / preset
    for st in stages:  # every stage's options parse before the first one trains
        SCRIPTS[st.script][0].build_parser().parse_args(stage_argv(st, preset, run, args.threads))
    at = {s: reached(run, s) for s in SCRIPTS}  # each checkpoint is read again only after a stage trained it
    start, total_s = dict(at), 0.0
    for st in stages:
        steps = max(0, st.end_step - start[st.script])
        start[st.script] = max(start[st.script], st.end_step)
        total_s += steps * rates.get(st.script, 0.0)
        print(f"{st.name:<18} {st.script:<9} to step {st.end_step:>6} ({steps} steps to go)  {st.as_run}")
    print(f"about {total_s / 3600:.1f} h of training to go, at the recipe's seconds per step")
    if args.plan:
        return
    for st in stages:
        if at[st.script] >= st.end_step:
            continue
        print(f"=== stage {st.name}: {st.script} from step {at[st.script]} to {st.end_step}", flush=True)
        t0 = time.time()
        SCRIPTS[st.script][0].main(stage_argv(st, preset, run, args.threads))
        at[st.script] = reached(run, st.script)
        if at[st.script] < st.end_step:  # stopped early (a --minutes budget): the next replay resumes here
            raise SystemExit(f"stage {st.name} stopped at step {at[st.script]} of {st.end_step}; run the replay again")
        print(f"=== stage {st.name} done in {(time.time() - t0) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
