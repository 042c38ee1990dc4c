/**
 * TypeScript port of training/ddt/world.py: the procedural shapes world (1-4 objects, each centred in
 * its own cell of a 3x3 grid), its renderer and its classical detector. The end-to-end tests render
 * input scenes with it and read the bot's images back with it, so the constants and arithmetic follow
 * the Python exactly (float32 where NumPy computes in float32, round half to even where it uses rint);
 * test/support/shapes-world.test.ts checks pixel parity against renders made by the Python.
 */
import sharp from 'sharp';

export const SHAPES = ['circle', 'square', 'triangle'] as const;
export type Shape = (typeof SHAPES)[number];

export const COLOURS = {
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [40, 80, 220],
  yellow: [240, 210, 30],
  purple: [150, 60, 190],
  orange: [245, 140, 30],
} as const satisfies Record<string, readonly [number, number, number]>;
export type Colour = keyof typeof COLOURS;
export const COLOUR_NAMES = Object.keys(COLOURS) as Colour[];

/** Cell index = row * 3 + col. */
export const POSITIONS = [
  'top left',
  'top',
  'top right',
  'left',
  'center',
  'right',
  'bottom left',
  'bottom',
  'bottom right',
] as const;
export const MAX_OBJECTS = 4;

export interface Obj {
  /** 0..8, row-major. */
  cell: number;
  colour: Colour;
  shape: Shape;
}
/** Sorted by cell (Python orders Obj by (cell, colour, shape); cells are unique). */
export type Scene = readonly Obj[];
export type Rgb = readonly [number, number, number];

/** One object per cell, sorted by cell. */
export function makeScene(objs: Iterable<Obj>): Scene {
  const scene = [...objs].sort((a, b) => a.cell - b.cell);
  if (new Set(scene.map((o) => o.cell)).size !== scene.length) throw new Error('one object per cell');
  return scene;
}

export function sceneKey(scene: Scene): string {
  return scene.map((o) => `${o.cell}:${o.colour}:${o.shape}`).join(';');
}

/** Parses `sceneKey` output ("0:red:circle;4:blue:square"). */
export function sceneFromKey(key: string): Scene {
  if (key === '') return [];
  return makeScene(
    key.split(';').map((part) => {
      const [cell, colour, shape] = part.split(':');
      if (!COLOUR_NAMES.includes(colour as Colour) || !SHAPES.includes(shape as Shape))
        throw new Error(`bad scene key part ${part}`);
      return { cell: Number(cell), colour: colour as Colour, shape: shape as Shape };
    }),
  );
}

// ---------------------------------------------------------------- rendering

const SS = 4; // supersampling factor for anti-aliased edges
const f32 = Math.fround;

/** Round half to even, like np.rint. */
export function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Fraction of each pixel covered by the shape, [size * size] row-major (k/16 values). */
function coverage(shape: Shape, size: number, cx: number, cy: number, cell: number): Float32Array {
  const n = size * SS;
  const coords = Float32Array.from({ length: n }, (_, i) => f32((i + 0.5) / SS));
  const half = cell / 3.0; // object is about two thirds of a cell across
  // NumPy 2 casts Python floats to the array's float32 before each operation.
  const cx32 = f32(cx);
  const cy32 = f32(cy);
  let inside: (x: number, y: number) => boolean;
  if (shape === 'circle') {
    const r2 = f32(half ** 2);
    inside = (x, y) => {
      const dx = f32(x - cx32);
      const dy = f32(y - cy32);
      return f32(f32(dx * dx) + f32(dy * dy)) <= r2;
    };
  } else if (shape === 'square') {
    const h = f32(half * 0.88); // same visual weight as the circle
    inside = (x, y) => Math.abs(f32(x - cx32)) <= h && Math.abs(f32(y - cy32)) <= h;
  } else {
    const h = half * 1.1;
    const top = cy - h;
    const bottom = cy + h * 0.85;
    const top32 = f32(top);
    const bottom32 = f32(bottom);
    const span = f32(bottom - top);
    const h32 = f32(h);
    // apex up: half-width grows linearly from 0 at the top to h at the bottom
    inside = (x, y) => {
      const frac = f32(f32(y - top32) / span);
      return y >= top32 && y <= bottom32 && Math.abs(f32(x - cx32)) <= f32(frac * h32);
    };
  }
  const out = new Float32Array(size * size);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          if (inside(coords[px * SS + sx]!, coords[py * SS + sy]!)) hits++;
        }
      }
      out[py * size + px] = hits / (SS * SS);
    }
  }
  return out;
}

/** Scene -> RGB bytes [size, size, 3], row-major. */
export function render(scene: Scene, size = 32, background: Rgb = [255, 255, 255]): Uint8Array {
  const img = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) img.set(background, i * 3);
  const cell = size / 3.0;
  for (const o of scene) {
    const cx = ((o.cell % 3) + 0.5) * cell;
    const cy = (Math.floor(o.cell / 3) + 0.5) * cell;
    const a = coverage(o.shape, size, cx, cy, cell);
    const colour = COLOURS[o.colour];
    for (let i = 0; i < size * size; i++) {
      const ai = a[i]!;
      if (ai === 0) continue;
      for (let c = 0; c < 3; c++) {
        const k = i * 3 + c;
        img[k] = f32(f32(img[k]! * f32(1 - ai)) + f32(colour[c]! * ai));
      }
    }
  }
  return Uint8Array.from(img, (v) => Math.min(255, Math.max(0, rint(v))));
}

/** A PNG of the scene (input images for the bot). */
export function renderPng(scene: Scene, size = 32, background: Rgb = [255, 255, 255]): Promise<Buffer> {
  return sharp(render(scene, size, background), { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * Map a pale background to white, channel by channel: per channel median of the border pixels; if
 * all three are >= 200, scale that channel by 255/median, round half to even and clamp.
 */
export function normalizeBackground(img: Uint8Array, size: number): Uint8Array {
  const border: number[] = [];
  const at = (y: number, x: number) => (y * size + x) * 3;
  for (let x = 0; x < size; x++) border.push(at(0, x));
  for (let x = 0; x < size; x++) border.push(at(size - 1, x));
  for (let y = 1; y < size - 1; y++) border.push(at(y, 0));
  for (let y = 1; y < size - 1; y++) border.push(at(y, size - 1));
  const med = [0, 1, 2].map((c) => medianLowHigh(border.map((k) => img[k + c]!)));
  if (med.some((m) => m < 200)) return img;
  return Uint8Array.from(img, (v, k) => Math.min(255, Math.max(0, rint(v * (255.0 / med[k % 3]!)))));
}

function medianLowHigh(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

// ---------------------------------------------------------------- detection

/**
 * Classical detector: connected components, palette colour, shape by fill ratio, cell by centroid.
 * `img` is RGB bytes [size, size, 3]. Returns null when the image is not a valid scene (two objects
 * in one cell, more than four objects); an empty scene when nothing is found.
 */
export function detect(rgb: Uint8Array, size: number): Scene | null {
  if (rgb.length !== size * size * 3) throw new Error(`expected ${size}x${size} RGB bytes`);
  const img = normalizeBackground(rgb, size);
  const n = size * size;
  // alpha estimate: how far from white, relative to the most saturated palette distance
  const dist = new Float32Array(n);
  for (let i = 0; i < n; i++)
    dist[i] = Math.max(255 - img[i * 3]!, 255 - img[i * 3 + 1]!, 255 - img[i * 3 + 2]!);
  const { labels, count } = components(
    Uint8Array.from(dist, (d) => (d > 60 ? 1 : 0)),
    size,
  );
  const cell = size / 3.0;
  const objs = new Map<number, Obj>();
  for (let k = 1; k <= count; k++) {
    const pixels: number[] = [];
    for (let i = 0; i < n; i++) if (labels[i] === k) pixels.push(i);
    if (pixels.length < 3) continue;
    let maxDist = 0;
    for (const i of pixels) maxDist = Math.max(maxDist, dist[i]!);
    const threshold = f32(f32(0.6) * maxDist);
    const mean = new Float64Array(3);
    let cores = 0;
    for (const i of pixels) {
      if (!(dist[i]! > threshold)) continue;
      cores++;
      for (let c = 0; c < 3; c++) mean[c] = mean[c]! + img[i * 3 + c]!;
    }
    const colourRgb = Array.from(mean, (v) => v / cores);
    let ci = 0;
    let best = Number.POSITIVE_INFINITY;
    COLOUR_NAMES.forEach((name, idx) => {
      const p = COLOURS[name];
      const d = (p[0] - colourRgb[0]!) ** 2 + (p[1] - colourRgb[1]!) ** 2 + (p[2] - colourRgb[2]!) ** 2;
      if (d < best) {
        best = d;
        ci = idx;
      }
    });
    const colour = COLOUR_NAMES[ci]!;
    // coverage-weighted area (anti-aliased edges count fractionally)
    const pal = COLOURS[colour];
    const palDist = Math.max(255 - pal[0], 255 - pal[1], 255 - pal[2]);
    const alpha = (i: number) => Math.min(1, Math.max(0, f32(dist[i]! / Math.max(palDist, 1))));
    let y0 = size;
    let y1 = 0;
    let x0 = size;
    let x1 = 0;
    for (const i of pixels) {
      const y = Math.floor(i / size);
      const x = i % size;
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y + 1);
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x + 1);
    }
    let area = 0;
    const colMax = new Array<number>(x1 - x0).fill(0);
    const rowMax = new Array<number>(y1 - y0).fill(0);
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = y * size + x;
        const a = alpha(i);
        if (labels[i] === k) area += a;
        colMax[x - x0] = Math.max(colMax[x - x0]!, a);
        rowMax[y - y0] = Math.max(rowMax[y - y0]!, a);
      }
    }
    const wEst = colMax.reduce((s, v) => s + v, 0);
    const hEst = rowMax.reduce((s, v) => s + v, 0);
    const fill = area / Math.max(wEst * hEst, 1e-6);
    const shape: Shape = fill > 0.88 ? 'square' : fill > 0.66 ? 'circle' : 'triangle';
    let wSum = 0;
    let ySum = 0;
    let xSum = 0;
    for (const i of pixels) {
      const w = alpha(i);
      wSum += w;
      ySum += Math.floor(i / size) * w;
      xSum += (i % size) * w;
    }
    const cy = ySum / wSum + 0.5;
    const cx = xSum / wSum + 0.5;
    const row = Math.min(Math.floor(cy / cell), 2);
    const col = Math.min(Math.floor(cx / cell), 2);
    const c = row * 3 + col;
    if (objs.has(c)) return null;
    objs.set(c, { cell: c, colour, shape });
  }
  if (objs.size > MAX_OBJECTS) return null;
  return makeScene(objs.values());
}

/** 4-connected component labelling; labels numbered in raster order of their first pixel. */
function components(mask: Uint8Array, size: number): { labels: Int32Array; count: number } {
  const labels = new Int32Array(size * size);
  let count = 0;
  for (let start = 0; start < size * size; start++) {
    if (!mask[start] || labels[start]) continue;
    count++;
    labels[start] = count;
    const stack = [start];
    while (stack.length > 0) {
      const i = stack.pop()!;
      const y = Math.floor(i / size);
      const x = i % size;
      const around = [
        y > 0 ? i - size : -1,
        y < size - 1 ? i + size : -1,
        x > 0 ? i - 1 : -1,
        x < size - 1 ? i + 1 : -1,
      ];
      for (const j of around) {
        if (j >= 0 && mask[j] && !labels[j]) {
          labels[j] = count;
          stack.push(j);
        }
      }
    }
  }
  return { labels, count };
}

/**
 * Reads an image the bot posted (any size, e.g. the 256 px nearest-neighbour upscale) back to the
 * model's resolution and detects its scene. Nearest-neighbour downscaling undoes the upscale exactly.
 */
export async function detectImage(data: Uint8Array, size = 32): Promise<Scene | null> {
  const { data: raw, info } = await sharp(data)
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .resize(size, size, { kernel: 'nearest', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected RGB, got ${info.channels} channels`);
  return detect(new Uint8Array(raw), size);
}

/** A small deterministic PRNG (mulberry32) for choosing test scenes. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random valid scene with `n` objects (1..4; random when omitted). */
export function randomScene(random: () => number, n?: number): Scene {
  const count = n ?? 1 + Math.floor(random() * MAX_OBJECTS);
  const cells = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  for (let i = cells.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [cells[i], cells[j]] = [cells[j]!, cells[i]!];
  }
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  return makeScene(
    cells.slice(0, count).map((cell) => ({ cell, colour: pick(COLOUR_NAMES), shape: pick(SHAPES) })),
  );
}
