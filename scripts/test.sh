#!/usr/bin/env bash
# `npm test`: typecheck, lint, every TypeScript test (vitest) and the Python tests. Runs every step
# even after a failure, prints a summary, and exits non-zero when any step failed.
#
#   npm test                 # everything
#   npm test -- test/bot     # extra arguments go to vitest (narrows the TypeScript tests only)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
PY="${PYTHON_VENV:-$ROOT/.venv}/bin/python"
PY_TESTS="training/tests"

names=()
results=()
times=()

# run NAME COMMAND...: runs a step, records its status and duration.
run() {
  local name="$1"
  shift
  printf '\n=== %s: %s\n' "$name" "$*"
  local start=$SECONDS status=0
  "$@" || status=$?
  names+=("$name")
  results+=("$status")
  times+=("$((SECONDS - start))")
}

# record NAME STATUS MESSAGE: a step decided without running a command.
record() {
  printf '\n=== %s: %s\n' "$1" "$3"
  names+=("$1")
  results+=("$2")
  times+=(0)
}

has_python_tests() {
  [[ -d "$PY_TESTS" ]] && find "$PY_TESTS" -name 'test_*.py' -o -name '*_test.py' | grep -q .
}

python_tests() {
  # pytest exit 5 = "no tests collected": fine for an empty folder, a failure when test files exist
  # (they were all skipped by collection errors or deselected, which hides breakage).
  local status=0
  "$PY" -m pytest "$PY_TESTS" -q || status=$?
  if [[ $status -eq 5 ]]; then
    echo "pytest collected no tests although $PY_TESTS has test files"
  fi
  return $status
}

# The README's test command must work on a fresh clone after `npm install`: both set-up scripts are
# idempotent (they return at once when the venv matches its requirements / Chromium is installed).
run setup_python bash scripts/setup-python.sh
run setup_browser bash scripts/install-browser.sh
run typecheck node_modules/.bin/tsc --noEmit -p .
run lint node_modules/.bin/biome check .
run vitest node_modules/.bin/vitest run "$@"

if ! has_python_tests; then
  record pytest 0 "skipped: no test files in $PY_TESTS"
elif [[ ! -x "$PY" ]]; then
  record pytest 1 "FAILED: $PY_TESTS has tests but $PY is missing; run: bash scripts/setup-python.sh"
else
  run pytest python_tests
fi

failed=0
printf '\n=== summary\n'
for i in "${!names[@]}"; do
  if [[ "${results[$i]}" -eq 0 ]]; then
    state=ok
  else
    state="FAILED (exit ${results[$i]})"
    failed=1
  fi
  printf '  %-10s %-18s %4ss\n' "${names[$i]}" "$state" "${times[$i]}"
done
if [[ $failed -ne 0 ]]; then
  echo 'npm test: FAILED'
  exit 1
fi
echo 'npm test: all passed'
