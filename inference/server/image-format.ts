/**
 * Identifies an image by its magic bytes. The server decides the format from the bytes alone (never from
 * the client's mime_type), so a renamed SVG or TIFF cannot reach a decoder we did not mean to expose.
 */

export type AcceptedFormat = 'png' | 'jpeg' | 'webp' | 'gif';

export interface Sniffed {
  format: AcceptedFormat | 'refused';
  /** Human name for messages ("TIFF", "SVG", ...). */
  name: string;
}

export const MIME_BY_FORMAT: Readonly<Record<AcceptedFormat, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
};

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) =>
  b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

/** Formats we recognise only to name them in the refusal. */
const REFUSED: ReadonlyArray<[string, (b: Uint8Array) => boolean]> = [
  ['TIFF', (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])],
  ['BigTIFF', (b) => startsWith(b, [0x49, 0x49, 0x2b, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2b])],
  ['BMP', (b) => ascii(b, 0, 2) === 'BM'],
  ['PDF', (b) => ascii(b, 0, 5) === '%PDF-'],
  ['PSD', (b) => ascii(b, 0, 4) === '8BPS'],
  ['ICO', (b) => startsWith(b, [0x00, 0x00, 0x01, 0x00])],
  ['JPEG XL', (b) => startsWith(b, [0xff, 0x0a]) || startsWith(b, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])],
  ['JPEG 2000', (b) => startsWith(b, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20])],
  ['HEIF/AVIF', (b) => ascii(b, 4, 8) === 'ftyp'],
  ['EXR', (b) => startsWith(b, [0x76, 0x2f, 0x31, 0x01])],
  ['SVG', looksLikeSvgOrXml],
];

/** SVG is text: skip a BOM and whitespace, then expect an XML declaration, comment or <svg. */
function looksLikeSvgOrXml(b: Uint8Array): boolean {
  let text = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 512));
  text = text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  return (
    text.startsWith('<?xml') ||
    text.startsWith('<svg') ||
    text.startsWith('<!--') ||
    text.startsWith('<!doctype svg')
  );
}

/** The format of `bytes`, or undefined when nothing matched. */
export function sniffImageFormat(bytes: Uint8Array): Sniffed | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { format: 'png', name: 'PNG' };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { format: 'jpeg', name: 'JPEG' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP')
    return { format: 'webp', name: 'WebP' };
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')
    return { format: 'gif', name: 'GIF' };
  for (const [name, test] of REFUSED) if (test(bytes)) return { format: 'refused', name };
  return undefined;
}

/** "image/JPG; charset=x" -> "image/jpeg"; '' stays ''. */
export function normaliseMimeType(mime: string): string {
  const base = mime.split(';')[0]?.trim().toLowerCase() ?? '';
  return base === 'image/jpg' || base === 'image/pjpeg' ? 'image/jpeg' : base;
}
