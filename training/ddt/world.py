"""The procedural shapes world: scenes, rendering and a classical detector.

A scene is 1-4 objects, each centred in its own cell of a 3x3 grid. Every part of the project
(training, evaluation, the TypeScript tests) agrees on these constants.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

SHAPES = ("circle", "square", "triangle")
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (240, 210, 30),
    "purple": (150, 60, 190),
    "orange": (245, 140, 30),
}
COLOUR_NAMES = tuple(COLOURS)
# cell index = row * 3 + col
POSITIONS = (
    "top left", "top", "top right",
    "left", "center", "right",
    "bottom left", "bottom", "bottom right",
)
MAX_OBJECTS = 4


@dataclass(frozen=True, order=True)
class Obj:
    cell: int  # 0..8, row-major
    colour: str
    shape: str

    @property
    def row(self) -> int:
        return self.cell // 3

    @property
    def col(self) -> int:
        return self.cell % 3


Scene = tuple[Obj, ...]  # sorted by cell


def make_scene(objs) -> Scene:
    scene = tuple(sorted(objs))
    cells = [o.cell for o in scene]
    assert len(set(cells)) == len(cells), "one object per cell"
    return scene


def random_scene(rng: random.Random, n: int | None = None) -> Scene:
    n = n or rng.randint(1, MAX_OBJECTS)
    cells = rng.sample(range(9), n)
    return make_scene(Obj(c, rng.choice(COLOUR_NAMES), rng.choice(SHAPES)) for c in cells)


def scene_key(scene: Scene) -> str:
    return ";".join(f"{o.cell}:{o.colour}:{o.shape}" for o in scene)


# ---------------------------------------------------------------- rendering

_SS = 4  # supersampling factor for anti-aliased edges


def _coverage(shape: str, size: int, cx: float, cy: float, cell: float) -> np.ndarray:
    """Fraction of each pixel covered by the shape, [size, size] float32."""
    n = size * _SS
    coords = (np.arange(n, dtype=np.float32) + 0.5) / _SS
    xx, yy = np.meshgrid(coords, coords)
    half = cell / 3.0  # object is about two thirds of a cell across
    if shape == "circle":
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= half**2
    elif shape == "square":
        h = half * 0.88  # same visual weight as the circle
        inside = (np.abs(xx - cx) <= h) & (np.abs(yy - cy) <= h)
    elif shape == "triangle":
        h = half * 1.1
        top, bottom = cy - h, cy + h * 0.85
        # apex up: half-width grows linearly from 0 at the top to h at the bottom
        frac = (yy - top) / (bottom - top)
        inside = (yy >= top) & (yy <= bottom) & (np.abs(xx - cx) <= frac * h)
    else:
        raise ValueError(shape)
    return inside.reshape(size, _SS, size, _SS).mean(axis=(1, 3)).astype(np.float32)


def render(scene: Scene, size: int = 32, background=(255, 255, 255)) -> np.ndarray:
    """Scene -> uint8 RGB [size, size, 3]."""
    img = np.empty((size, size, 3), dtype=np.float32)
    img[:] = np.asarray(background, dtype=np.float32)
    cell = size / 3.0
    for o in scene:
        cx, cy = (o.col + 0.5) * cell, (o.row + 0.5) * cell
        a = _coverage(o.shape, size, cx, cy, cell)[..., None]
        img = img * (1 - a) + np.asarray(COLOURS[o.colour], dtype=np.float32) * a
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def random_background(rng: random.Random) -> tuple[int, int, int]:
    """White or a pale tint (each channel >= 229)."""
    if rng.random() < 0.5:
        return (255, 255, 255)
    return tuple(rng.randint(229, 255) for _ in range(3))


def normalize_background(img: np.ndarray) -> np.ndarray:
    """Map a pale background to white, channel by channel (mirrors the TypeScript runtime).

    Per channel median of the border pixels; if all three are >= 200, scale that channel by
    255/median, round half to even and clamp. Tokens then do not depend on the background tint.
    """
    border = np.concatenate([img[0], img[-1], img[1:-1, 0], img[1:-1, -1]], axis=0).astype(np.float64)
    med = np.array([_median_low_high(border[:, c]) for c in range(3)])
    if np.any(med < 200):
        return img
    out = np.rint(img.astype(np.float64) * (255.0 / med))
    return np.clip(out, 0, 255).astype(np.uint8)


def _median_low_high(v: np.ndarray) -> float:
    s = np.sort(v)
    n = len(s)
    return float(s[n // 2]) if n % 2 else float((s[n // 2 - 1] + s[n // 2]) / 2)


# ---------------------------------------------------------------- detection

_PALETTE = np.array([COLOURS[c] for c in COLOUR_NAMES], dtype=np.float32)


def detect(img: np.ndarray) -> Scene | None:
    """Classical detector: connected components, palette colour, shape by fill ratio, cell by centroid.

    Returns None when the image is not a valid scene (two objects in one cell, unreadable blobs).
    """
    img = normalize_background(img).astype(np.float32)
    size = img.shape[0]
    # alpha estimate: how far from white, relative to the most saturated palette distance
    dist = (255.0 - img).max(axis=2)
    fg = dist > 60.0
    labels, count = _components(fg)
    cell = size / 3.0
    objs: dict[int, Obj] = {}
    for k in range(1, count + 1):
        ys, xs = np.nonzero(labels == k)
        if len(ys) < 3:
            continue
        core = dist[ys, xs] > 0.6 * dist[ys, xs].max()
        colour_rgb = img[ys[core], xs[core]].mean(axis=0)
        ci = int(np.argmin(((_PALETTE - colour_rgb) ** 2).sum(axis=1)))
        colour = COLOUR_NAMES[ci]
        # coverage-weighted area (anti-aliased edges count fractionally)
        pal_dist = (255.0 - _PALETTE[ci]).max()
        alpha = np.clip(dist / max(pal_dist, 1.0), 0, 1)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        region = labels[y0:y1, x0:x1] == k
        area = float((alpha[y0:y1, x0:x1] * region).sum())
        w_est = float(alpha[y0:y1, x0:x1].max(axis=0).sum())
        h_est = float(alpha[y0:y1, x0:x1].max(axis=1).sum())
        fill = area / max(w_est * h_est, 1e-6)
        shape = "square" if fill > 0.88 else ("circle" if fill > 0.66 else "triangle")
        wy = alpha[ys, xs]
        cy, cx = float((ys * wy).sum() / wy.sum()) + 0.5, float((xs * wy).sum() / wy.sum()) + 0.5
        row, col = min(int(cy // cell), 2), min(int(cx // cell), 2)
        c = row * 3 + col
        if c in objs:
            return None
        objs[c] = Obj(c, colour, shape)
    if not objs or len(objs) > MAX_OBJECTS:
        return None if len(objs) > MAX_OBJECTS else ()
    return make_scene(objs.values())


def _components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """4-connected component labelling (small images: a plain flood fill is fast enough)."""
    h, w = mask.shape
    labels = np.zeros((h, w), dtype=np.int32)
    count = 0
    for y in range(h):
        for x in range(w):
            if mask[y, x] and not labels[y, x]:
                count += 1
                stack = [(y, x)]
                labels[y, x] = count
                while stack:
                    cy, cx = stack.pop()
                    for ny, nx in ((cy - 1, cx), (cy + 1, cx), (cy, cx - 1), (cy, cx + 1)):
                        if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not labels[ny, nx]:
                            labels[ny, nx] = count
                            stack.append((ny, nx))
    return labels, count
