/** File helpers for the CLI: reading input images, naming and writing outputs. */
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Image } from '../protocol/types.js';

/** Reads an image file; the server sniffs the format, so no mime type is sent. */
export async function readImageFile(path: string): Promise<Image> {
  return { data: await readFile(path), mime_type: '' };
}

/** out.png with 3 images -> out-1.png, out-2.png, out-3.png; one image keeps the name. */
export function numberedPaths(path: string, count: number): string[] {
  if (count === 1) return [path];
  const ext = extname(path);
  const stem = ext ? path.slice(0, -ext.length) : path;
  return Array.from({ length: count }, (_, i) => `${stem}-${i + 1}${ext}`);
}

export async function writeImageFile(path: string, image: Image | null | undefined): Promise<void> {
  if (!image) throw new Error(`the server sent no image for ${path}`);
  await writeFile(path, image.data);
}

export function outputFormatFor(path: string): 'OUTPUT_FORMAT_PNG' | 'OUTPUT_FORMAT_WEBP' {
  return extname(path).toLowerCase() === '.webp' ? 'OUTPUT_FORMAT_WEBP' : 'OUTPUT_FORMAT_PNG';
}

export function animationFormatFor(path: string): 'ANIMATION_FORMAT_GIF' | 'ANIMATION_FORMAT_WEBP' {
  return extname(path).toLowerCase() === '.gif' ? 'ANIMATION_FORMAT_GIF' : 'ANIMATION_FORMAT_WEBP';
}
