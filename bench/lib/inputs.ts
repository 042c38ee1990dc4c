/** Fixed prompts and instructions (in the shapes world's language), so every run does the same work. */
export const PROMPTS = [
  'a red circle',
  'two blue squares',
  'a green triangle to the left of a purple square',
  'draw a yellow circle at the top right',
];

export const EDIT_INSTRUCTION = 'make the red circle green';
export const SEED = 42n;

/** A 32x32-ish test picture drawn with sharp (for suites that run without the Python reference). */
export function sceneSvg(size: number, variant = 0): string {
  const c = ['#dc2828', '#2850dc', '#28aa3c', '#f0d21e'][variant % 4]!;
  const r = Math.round(size / 6);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">` +
    `<rect width="100%" height="100%" fill="#ffffff"/>` +
    `<circle cx="${r + 1}" cy="${r + 1}" r="${r}" fill="${c}"/>` +
    `<rect x="${size / 2 - r}" y="${size / 2 - r}" width="${2 * r}" height="${2 * r}" fill="#2850dc"/>` +
    '</svg>'
  );
}
