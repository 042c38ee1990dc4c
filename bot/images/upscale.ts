/** Model images are tiny (e.g. 32x32): show them at a comfortable size with crisp pixels. */
import sharp from 'sharp';

/** PNG at `size` px on the longer side, nearest-neighbour; images already that large are re-encoded only. */
export async function upscaleImage(data: Uint8Array, size: number): Promise<Buffer> {
  const image = sharp(data);
  const meta = await image.metadata();
  const longer = Math.max(meta.width ?? size, meta.pageHeight ?? meta.height ?? size);
  if (longer >= size) return image.png().toBuffer();
  return image.resize({ width: size, height: size, fit: 'inside', kernel: 'nearest' }).png().toBuffer();
}

/** Animated WebP/GIF upscaled frame by frame, same format; the original bytes if sharp cannot do it. */
export async function upscaleAnimation(
  data: Uint8Array,
  size: number,
): Promise<{ data: Buffer; ext: string }> {
  const meta = await sharp(data).metadata();
  const ext = meta.format === 'gif' ? 'gif' : 'webp';
  try {
    const frameHeight = meta.pageHeight ?? meta.height ?? size;
    const scale = Math.max(1, Math.floor(size / Math.max(meta.width ?? size, frameHeight)));
    if (scale === 1) return { data: Buffer.from(data), ext };
    const resized = sharp(data, { animated: true }).resize({
      width: (meta.width ?? size) * scale,
      kernel: 'nearest',
    });
    return { data: await (ext === 'gif' ? resized.gif() : resized.webp({ lossless: true })).toBuffer(), ext };
  } catch {
    return { data: Buffer.from(data), ext };
  }
}
