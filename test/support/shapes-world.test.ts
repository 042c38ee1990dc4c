/**
 * The TypeScript shapes world against the Python one (training/ddt/world.py, language.py): identical
 * pixels for every shape, colour and cell and for random scenes on pale backgrounds, the same
 * detections and captions; and the detector reads back what the renderer drew, also after the bot's
 * PNG round trip and 256 px nearest-neighbour upscale.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  caption,
  captionNamesObjects,
  countAnswer,
  parseCount,
  parsePrompt,
  promptSatisfied,
} from './shapes-language.js';
import {
  detect,
  detectImage,
  type Rgb,
  randomScene,
  render,
  renderPng,
  rint,
  sceneFromKey,
  sceneKey,
  seededRandom,
} from './shapes-world.js';

interface Golden {
  renders: { scene: string; background: Rgb; sha256: string; detected: string | null; caption: string }[];
  count_questions: { scene: string; question: string; answer: string }[];
}
const golden = JSON.parse(
  readFileSync(new URL('../fixtures/shapes-world/golden.json', import.meta.url), 'utf8'),
) as Golden;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('shapes world renderer and detector (port of training/ddt/world.py)', () => {
  it('rounds half to even like np.rint', () => {
    expect([0.5, 1.5, 2.5, 237.5, 238.5, 3.4, 3.6].map(rint)).toEqual([0, 2, 2, 238, 238, 3, 4]);
  });

  it(`renders the same pixels as the Python for ${golden.renders.length} scenes`, () => {
    const mismatched = golden.renders.filter(
      (g) => sha(render(sceneFromKey(g.scene), 32, g.background)) !== g.sha256,
    );
    expect(mismatched.map((g) => `${g.scene} on ${g.background}`)).toEqual([]);
  });

  it('detects what the Python detects, which is exactly the rendered scene', () => {
    for (const g of golden.renders) {
      const found = detect(render(sceneFromKey(g.scene), 32, g.background), 32);
      expect(found === null ? null : sceneKey(found), g.scene).toBe(g.detected);
      expect(g.detected).toBe(g.scene);
    }
  });

  it('detects random scenes after a PNG round trip and the bot’s 256 px nearest-neighbour upscale', async () => {
    const random = seededRandom(7);
    for (let i = 0; i < 25; i++) {
      const scene = randomScene(random);
      const png = await renderPng(scene);
      const big = await sharp(png).resize(256, 256, { kernel: 'nearest' }).png().toBuffer();
      expect(sceneKey((await detectImage(png))!)).toBe(sceneKey(scene));
      expect(sceneKey((await detectImage(big))!)).toBe(sceneKey(scene));
    }
  });

  it('finds nothing on a blank image and refuses two objects in one cell', () => {
    expect(detect(new Uint8Array(32 * 32 * 3).fill(255), 32)).toEqual([]);
    // a second, separate blob inside the centre cell, beside the circle
    const twoBlobs = render(sceneFromKey('4:red:circle'));
    for (let y = 11; y < 13; y++) for (let x = 11; x < 13; x++) twoBlobs.set([40, 80, 220], (y * 32 + x) * 3);
    expect(detect(twoBlobs, 32)).toBeNull();
  });
});

describe('shapes world language (port of training/ddt/language.py)', () => {
  it('writes the same captions as the Python', () => {
    for (const g of golden.renders) expect(caption(sceneFromKey(g.scene))).toBe(g.caption);
  });

  it('parses captions back to the scene they describe', () => {
    for (const g of golden.renders) {
      const scene = sceneFromKey(g.scene);
      expect(promptSatisfied(g.caption, scene), g.caption).toBe(true);
      expect(captionNamesObjects(g.caption, scene)).toBe(true);
    }
    const scene = sceneFromKey('0:red:circle;4:red:circle;8:blue:square');
    expect(promptSatisfied('two red circles', scene)).toBe(false); // the blue square is extra
    expect(promptSatisfied('two red circles and a blue square', scene)).toBe(true);
    expect(promptSatisfied('two red circles at the top left and bottom right and a blue square', scene)).toBe(
      false,
    );
    expect(
      promptSatisfied('a red circle above a blue square', sceneFromKey('1:red:circle;7:blue:square')),
    ).toBe(true);
    expect(
      promptSatisfied('a red circle below a blue square', sceneFromKey('1:red:circle;7:blue:square')),
    ).toBe(false);
    expect(captionNamesObjects('three green triangles', scene)).toBe(false);
    expect(parsePrompt('a purple banana')).toBeNull();
    // "an" before a vowel; "a orange" (what models before session 6 wrote) still reads, "an red" does not
    const orange = sceneFromKey('0:orange:circle;4:red:square');
    expect(caption(orange)).toBe('an orange circle at the top left and a red square at the center');
    expect(
      captionNamesObjects('a orange circle at the top left and a red square at the center', orange),
    ).toBe(true);
    expect(parsePrompt('an red circle')).toBeNull();
  });

  it('answers counting questions like the Python', () => {
    for (const q of golden.count_questions) {
      const m = /^how many (?:(\w+) )?(circle|square|triangle)s are there$/.exec(q.question);
      expect(m, q.question).not.toBeNull();
      const scene = sceneFromKey(q.scene);
      const colour = m![1] as Parameters<typeof countAnswer>[2];
      expect(countAnswer(scene, m![2] as 'circle', colour)).toBe(q.answer);
    }
    expect(parseCount('two')).toBe(2);
    expect(parseCount('There are 3.')).toBe(3);
    expect(parseCount('zero')).toBe(0);
    expect(parseCount('blue')).toBeUndefined();
    expect(parseCount('two or three')).toBeUndefined();
    expect(parseCount('at one no a now the an what colour colour colour')).toBeUndefined();
  });
});
