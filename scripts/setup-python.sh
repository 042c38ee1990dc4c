#!/usr/bin/env bash
# Creates the Python environment for training/, export and the Python tests: .venv with the pinned
# packages of training/requirements.txt. Idempotent: does nothing when .venv already matches the file.
#
#   bash scripts/setup-python.sh          # uses python3.11 / python3.12 / python3.10 / python3
#   PYTHON=python3.11 bash scripts/setup-python.sh
#   VENV_DIR=/tmp/venv bash scripts/setup-python.sh
#   TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu bash scripts/setup-python.sh   # CPU-only torch
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${VENV_DIR:-$ROOT/.venv}"
REQUIREMENTS="$ROOT/training/requirements.txt"
STAMP="$VENV_DIR/.requirements.sha256"

log() { printf '[setup-python] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -f "$REQUIREMENTS" ]] || die "missing $REQUIREMENTS"

pick_python() {
  if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
  # torch 2.5.1 and onnx 1.17 publish wheels for CPython 3.9-3.12; 3.11 is what training uses.
  # Run each candidate: a pyenv shim exists even when that version is not installed.
  for candidate in python3.11 python3.12 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  die "no python3 found; install Python 3.10-3.12 (Debian: apt-get install python3 python3-venv)"
}

want_sha="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
if [[ -x "$VENV_DIR/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want_sha" ]]; then
  log "$VENV_DIR is up to date with training/requirements.txt"
  exit 0
fi

PY="$(pick_python)"
version="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
case "$version" in
  3.10 | 3.11 | 3.12) ;;
  *) log "warning: Python $version is untested; torch 2.5.1 ships wheels for 3.9-3.12" ;;
esac

if [[ ! -x "$VENV_DIR/bin/python" ]]; then
  log "creating $VENV_DIR with $PY ($version)"
  "$PY" -m venv "$VENV_DIR" ||
    die "'$PY -m venv' failed; on Debian/Ubuntu install the venv module: apt-get install python3-venv"
fi

PIP=("$VENV_DIR/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet --upgrade pip
if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
  torch_pin="$(grep -E '^torch==' "$REQUIREMENTS" || true)"
  log "installing ${torch_pin:-torch} from $TORCH_INDEX_URL"
  "${PIP[@]}" install --quiet --index-url "$TORCH_INDEX_URL" "${torch_pin:-torch}"
fi
log "installing training/requirements.txt (first run downloads torch: a few GB, several minutes)"
"${PIP[@]}" install --quiet --requirement "$REQUIREMENTS"

# onnx needs a protobuf it was built against; a broken pair only shows up at import or check time.
"$VENV_DIR/bin/python" - <<'PY'
import onnx
from onnx import TensorProto, checker, helper

graph = helper.make_graph(
    [helper.make_node("Relu", ["x"], ["y"])],
    "setup_check",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
)
checker.check_model(onnx.load_from_string(helper.make_model(graph).SerializeToString()))
import google.protobuf
import onnxruntime

print(f"[setup-python] ok: onnx {onnx.__version__} (checker passed), protobuf {google.protobuf.__version__}, "
      f"onnxruntime {onnxruntime.__version__}")
PY

echo "$want_sha" >"$STAMP"
