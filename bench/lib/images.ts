/** Test pictures for the suites that do not get theirs from the Python reference. */
import sharp from 'sharp';
import type { RgbImage } from '../../inference/runtime/api.js';
import { sceneSvg } from './inputs.js';

/** The same picture as model-size RGB pixels (what the server hands the runtime) and as PNG bytes. */
export async function testPicture(size: number, variant = 0): Promise<{ rgb: RgbImage; png: Buffer }> {
  const { data, info } = await sharp(Buffer.from(sceneSvg(size, variant)))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size || info.channels !== 3) {
    throw new Error(`test picture rendered as ${info.width}x${info.height}x${info.channels}`);
  }
  const rgb = { width: size, height: size, data: new Uint8Array(data) };
  const png = await sharp(data, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
  return { rgb, png };
}
