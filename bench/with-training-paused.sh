#!/usr/bin/env bash
# Runs a command while the model-training processes (training/train_*.py) are paused with SIGSTOP, so
# benchmarks get the cores; always resumes them (SIGCONT) afterwards, also on error, timeout or Ctrl-C.
#
#   bash bench/with-training-paused.sh [--max-seconds 340] -- npm run bench
#
# The command is stopped (with its process group: server and Python children) after --max-seconds.
set -uo pipefail

max=340
while [[ $# -gt 0 ]]; do
  case "$1" in
    --max-seconds) max="$2"; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || { echo "usage: $0 [--max-seconds N] -- command..." >&2; exit 2; }

pattern="${BENCH_TRAINING_PATTERN:-python[0-9.]* .*train_(llm|tokenizer|renderer)\.py}"
pids=()
for p in $(pgrep -f "$pattern"); do
  # only real interpreters (not shells whose command line happens to contain the pattern)
  [[ "$p" != "$$" && "$(cat "/proc/$p/comm" 2>/dev/null)" == ${BENCH_TRAINING_COMM:-python*} ]] && pids+=("$p")
done
resume() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null && echo "resumed training pid $p" >&2; done
}
trap resume EXIT
trap 'exit 130' INT TERM
for p in "${pids[@]}"; do kill -STOP "$p" && echo "paused training pid $p" >&2; done
[[ ${#pids[@]} -gt 0 ]] || echo "no training process found; running anyway" >&2

start=$SECONDS
timeout --kill-after=10 "$max" "$@"
status=$?
echo "command finished with status $status after $((SECONDS - start)) s (limit $max s)" >&2
exit "$status"
