"""Store the weights of several ONNX graphs once, in one external data file they all read.

The renderer is the decoder's network with blocks added (Renderer), so most of its weights are byte for byte the
denoiser's. Written inline, each graph would carry its own copy (~15 MB each for the small model); here every
initializer of at least `min_bytes` moves to `data_name` beside the graphs, each distinct tensor once, and each
graph points at it (ONNX external data: location, offset, length; docs/model-package.md, "Large packages").
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnx
from onnx import TensorProto, numpy_helper

ALIGN = 64  # offsets aligned as onnx's own external-data writer does for mmap-friendly reads


def _set_external(tensor: TensorProto, location: str, offset: int, length: int) -> None:
    del tensor.external_data[:]
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    tensor.data_location = TensorProto.EXTERNAL
    tensor.ClearField("raw_data")


def share_weights(graphs: list[Path], data_name: str, min_bytes: int = 1024) -> dict:
    """Rewrites `graphs` (inline .onnx files in one folder) so that their initializers of `min_bytes` or more live
    in `data_name` in that folder, each distinct tensor stored once. Returns sizes for the export log."""
    folder = graphs[0].parent
    models = [onnx.load(str(g)) for g in graphs]
    placed: dict[bytes, tuple[int, int]] = {}  # content key -> (offset, length)
    inline_bytes = 0
    with open(folder / data_name, "wb") as data:
        for model in models:
            for tensor in model.graph.initializer:
                raw = numpy_helper.to_array(tensor).tobytes()
                if len(raw) < min_bytes:
                    continue
                inline_bytes += len(raw)
                key = hashlib.sha256(tensor.data_type.to_bytes(4, "little") + raw).digest()
                if key not in placed:
                    data.write(b"\0" * (-data.tell() % ALIGN))
                    placed[key] = (data.tell(), len(raw))
                    data.write(raw)
                _set_external(tensor, data_name, *placed[key])
        stored = data.tell()
    for model, path in zip(models, graphs):
        onnx.save_model(model, str(path))
    return {"weights_inline_bytes": inline_bytes, "weights_shared_bytes": stored}
