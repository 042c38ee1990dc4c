/**
 * TypeScript port of the parts of training/ddt/language.py the end-to-end tests need to judge the
 * model's answers by meaning: captions, prompt/caption parsing, prompt satisfaction, counting
 * questions.
 */
import {
  COLOUR_NAMES,
  type Colour,
  type Obj,
  POSITIONS,
  type Scene,
  SHAPES,
  type Shape,
} from './shapes-world.js';

export const NUMBERS = ['zero', 'one', 'two', 'three', 'four'] as const;
export const RELATIONS = ['to the left of', 'to the right of', 'above', 'below'] as const;
export type Relation = (typeof RELATIONS)[number];

export const plural = (shape: string): string => `${shape}s`;

/** The indefinite article before `nextWord` ("an orange circle", "a red circle"). */
export const indefinite = (nextWord: string): string => ('aeiou'.includes(nextWord[0] ?? 'x') ? 'an' : 'a');

export function countWord(n: number, article = true, nextWord = ''): string {
  return n === 1 && article ? indefinite(nextWord) : NUMBERS[n]!;
}

const joinAnd = (parts: string[]) => parts.join(' and ');

/** Objects grouped by (colour, shape) in reading order of their first member. */
export function groups(scene: Scene): Map<string, Obj[]> {
  const out = new Map<string, Obj[]>();
  for (const o of scene) {
    const key = `${o.colour} ${o.shape}`;
    out.set(key, [...(out.get(key) ?? []), o]);
  }
  return out;
}

export function nounPhrase(colour: string | null, shape: string, n: number): string {
  return [
    countWord(n, true, colour ?? shape),
    ...(colour ? [colour] : []),
    n === 1 ? shape : plural(shape),
  ].join(' ');
}

/** Every object with colour, shape and position, grouped and counted (the training captions). */
export function caption(scene: Scene): string {
  return joinAnd(
    [...groups(scene).values()].map((objs) => {
      const { colour, shape } = objs[0]!;
      return `${nounPhrase(colour, shape, objs.length)} at the ${joinAnd(objs.map((o) => POSITIONS[o.cell]!))}`;
    }),
  );
}

/** A prompt the scene satisfies (all objects, optionally positions). */
export function describe(scene: Scene, withPositions: boolean): string {
  if (withPositions) return caption(scene);
  return joinAnd(
    [...groups(scene).values()].map((objs) => nounPhrase(objs[0]!.colour, objs[0]!.shape, objs.length)),
  );
}

export function relationHolds(a: Obj, rel: Relation, b: Obj): boolean {
  const [ar, ac, br, bc] = [Math.floor(a.cell / 3), a.cell % 3, Math.floor(b.cell / 3), b.cell % 3];
  switch (rel) {
    case 'to the left of':
      return ac < bc;
    case 'to the right of':
      return ac > bc;
    case 'above':
      return ar < br;
    case 'below':
      return ar > br;
  }
}

export interface PhraseSpec {
  colour: Colour;
  shape: Shape;
  n: number;
  /** Cells named with "at the ..."; empty when the phrase gives no positions. */
  cells: number[];
}
export interface PromptSpec {
  objects: PhraseSpec[];
  relation: { a: [Colour, Shape]; rel: Relation; b: [Colour, Shape] } | null;
}

const POSITIONS_LONGEST_FIRST = [...POSITIONS.keys()].sort(
  (a, b) => POSITIONS[b]!.length - POSITIONS[a]!.length,
);
const isPositionStart = (w: string | undefined) =>
  w === 'top' || w === 'bottom' || w === 'left' || w === 'right' || w === 'center';

/**
 * Parses the prompt/caption grammar ("two red circles at the top left and center and a blue square",
 * "a red circle above a blue square"); null when the text is not in it. Port of parse_prompt.
 */
export function parsePrompt(prompt: string): PromptSpec | null {
  for (const rel of RELATIONS) {
    const key = ` ${rel} `;
    if (` ${prompt} `.includes(key)) {
      const sides = prompt.split(key);
      if (sides.length !== 2) return null;
      const a = parsePrompt(sides[0]!);
      const b = parsePrompt(sides[1]!);
      if (!a || !b || a.objects.length !== 1 || b.objects.length !== 1) return null;
      const ao = a.objects[0]!;
      const bo = b.objects[0]!;
      return { objects: [ao, bo], relation: { a: [ao.colour, ao.shape], rel, b: [bo.colour, bo.shape] } };
    }
  }
  const words = prompt.split(/\s+/).filter((w) => w !== '');
  const objects: PhraseSpec[] = [];
  let i = 0;
  while (i < words.length) {
    if (words[i] === 'and') {
      i++;
      continue;
    }
    if (i + 2 > words.length) return null;
    const nw = words[i]!;
    const colour = words[i + 1] ?? '';
    const shapeWord = words[i + 2] ?? '';
    // "a" is also accepted before a vowel: models trained before session 6 wrote "a orange circle"
    const n =
      nw === 'a' || nw === 'one' || (nw === 'an' && indefinite(colour) === 'an')
        ? 1
        : NUMBERS.indexOf(nw as (typeof NUMBERS)[number]);
    if (n < 1 || !COLOUR_NAMES.includes(colour as Colour)) return null;
    const base = n > 1 && shapeWord.endsWith('s') ? shapeWord.slice(0, -1) : shapeWord;
    if (!SHAPES.includes(base as Shape)) return null;
    i += 3;
    const cells: number[] = [];
    if (words[i] === 'at') {
      i += 2; // "at the"
      while (i < words.length) {
        let matched: [number, number] | undefined;
        for (const p of POSITIONS_LONGEST_FIRST) {
          const pw = POSITIONS[p]!.split(' ');
          if (pw.every((w, j) => words[i + j] === w)) {
            matched = [p, pw.length];
            break;
          }
        }
        if (!matched) break;
        cells.push(matched[0]);
        i += matched[1];
        if (i + 1 < words.length && words[i] === 'and' && isPositionStart(words[i + 1])) i++;
        else break;
      }
    }
    objects.push({ colour: colour as Colour, shape: base as Shape, n, cells });
  }
  return objects.length > 0 ? { objects, relation: null } : null;
}

/** Counts per "colour shape". */
export function countsOf(scene: Scene): Map<string, number> {
  const have = new Map<string, number>();
  for (const o of scene) have.set(`${o.colour} ${o.shape}`, (have.get(`${o.colour} ${o.shape}`) ?? 0) + 1);
  return have;
}

function sameCounts(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

/**
 * Does the detected scene match everything the prompt states, and nothing extra? (prompt_satisfied;
 * also judges a caption against the scene it describes, positions included.)
 */
export function promptSatisfied(prompt: string, scene: Scene | null): boolean {
  if (scene === null) return false;
  const spec = parsePrompt(prompt.trim().replace(/[.!]$/, ''));
  if (!spec) return false;
  const want = new Map<string, number>();
  for (const o of spec.objects)
    want.set(`${o.colour} ${o.shape}`, (want.get(`${o.colour} ${o.shape}`) ?? 0) + o.n);
  if (!sameCounts(countsOf(scene), want)) return false;
  for (const o of spec.objects) {
    if (o.cells.length === 0) continue;
    const have = scene.filter((x) => x.colour === o.colour && x.shape === o.shape).map((x) => x.cell);
    if ([...o.cells].sort().join() !== have.sort().join()) return false;
  }
  if (spec.relation) {
    const { a, rel, b } = spec.relation;
    const oa = scene.find((o) => o.colour === a[0] && o.shape === a[1]);
    const ob = scene.find((o) => o.colour === b[0] && o.shape === b[1]);
    if (!oa || !ob || !relationHolds(oa, rel, ob)) return false;
  }
  return true;
}

/** Whether a caption names the scene's objects: same colours, shapes and counts (positions not required). */
export function captionNamesObjects(text: string, scene: Scene): boolean {
  const spec = parsePrompt(text.trim().replace(/[.!]$/, ''));
  if (!spec) return false;
  const want = new Map<string, number>();
  for (const o of spec.objects)
    want.set(`${o.colour} ${o.shape}`, (want.get(`${o.colour} ${o.shape}`) ?? 0) + o.n);
  return sameCounts(countsOf(scene), want);
}

/** "how many red circles are there" -> the answer word for the scene ("two"). */
export function countAnswer(scene: Scene, shape: Shape, colour?: Colour): string {
  return NUMBERS[scene.filter((o) => o.shape === shape && (!colour || o.colour === colour)).length]!;
}

/**
 * The number a short answer states ("two", "2", "there are two."), or undefined when it states none,
 * several, or is not short (a rambling answer that happens to contain a number word does not count).
 */
export function parseCount(answer: string): number | undefined {
  const words = answer.toLowerCase().match(/[a-z]+|\d+/g) ?? [];
  if (words.length === 0 || words.length > 6) return undefined;
  const numbers = words
    .map((w) => (/^\d+$/.test(w) ? Number(w) : NUMBERS.indexOf(w as (typeof NUMBERS)[number])))
    .filter((n) => n >= 0);
  return numbers.length === 1 ? numbers[0] : undefined;
}
