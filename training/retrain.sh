#!/usr/bin/env bash
# Retrain the bundled model from scratch, export it, evaluate it and write its model card.
#   bash training/retrain.sh [preset] [run-dir] [package-dir]
# With a recipe (recipes/<preset>.json; small has one), training replays the phases the bundled model went
# through (replay.py: about 27 hours on 2 CPU cores; `replay.py --recipe recipes/small.json --plan` lists them
# and the time left). QUICK=1, or a preset without a recipe, trains on fixed budgets instead (minutes of wall
# time per stage from TOK_MINUTES / DEC_MINUTES / LLM_MINUTES / COOLDOWN_MINUTES / REN_MINUTES, about 3 hours): a weaker
# model. Every stage resumes from its checkpoint, so the script can be re-run after an interruption.
set -euo pipefail
cd "$(dirname "$0")"
PRESET=${1:-small}
RUN=${2:-runs/$PRESET}
OUT=${3:-../models/shapes-ddt-small}
PY=../.venv/bin/python
[ -x "$PY" ] || bash ../scripts/setup-python.sh
if [ -f "recipes/$PRESET.json" ] && [ -z "${QUICK:-}" ]; then
  "$PY" replay.py --recipe "recipes/$PRESET.json" --run "$RUN" --threads "${THREADS:-2}"
else
  "$PY" train_tokenizer.py --preset "$PRESET" --run "$RUN" --minutes "${TOK_MINUTES:-40}" --threads "${THREADS:-2}"
  # decoder fine-tuned alone with the encoder frozen (codes stay fixed for the LLM), its learning rate decayed
  # to the end: held-out reconstruction went 0.61 -> 0.78 while it decayed (session 2)
  "$PY" train_tokenizer.py --preset "$PRESET" --run "$RUN" --freeze-encoder --decay "${DEC_STEPS:-4000}" \
    --minutes "${DEC_MINUTES:-20}" --threads "${THREADS:-2}"
  "$PY" train_llm.py --preset "$PRESET" --run "$RUN" --minutes "${LLM_MINUTES:-90}" --steps "${LLM_STEPS:-6000}" \
    --threads "${THREADS:-2}"
  # anneal from the schedule's floor: lowered the held-out loss of every task for the bundled model (session 8)
  "$PY" train_llm.py --preset "$PRESET" --run "$RUN" --minutes "${COOLDOWN_MINUTES:-15}" \
    --cooldown "${LLM_COOLDOWN:-1000}" --threads "${THREADS:-2}"
  # the one-step renderer the package decodes with, its decoder tied to the denoiser (session 22)
  "$PY" train_renderer.py --preset "$PRESET" --run "$RUN" --steps "${REN_STEPS:-1200}" --decay "${REN_STEPS:-1200}" \
    --extra-layers 4 --lr 3e-4 --decoder-lr-scale 0.1 --denoise-weight 1 --minutes "${REN_MINUTES:-30}" \
    --threads "${THREADS:-2}"
fi
"$PY" export.py --preset "$PRESET" --run "$RUN" --out "$OUT" --golden "../test/fixtures/golden/$(basename "$OUT").json"
"$PY" eval.py --preset "$PRESET" --run "$RUN" --out "$OUT" --n "${EVAL_N:-150}" --threads "${THREADS:-2}"
"$PY" card.py --out "$OUT"
