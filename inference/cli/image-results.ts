/** Following an image job's stream on the terminal and writing its images (and reveals) to files. */
import { collectImageResult } from '../client/client.js';
import type { ImageJobEvent, ImageResult } from '../protocol/types.js';
import type { CliIo } from './commands.js';
import { numberedPaths, writeImageFile } from './files.js';

/** Prints queue position and progress to stderr on one updating line per stage. */
export function progressPrinter(io: CliIo) {
  return (e: ImageJobEvent) => {
    if (e.event === 'queued') io.err(`queued: position ${e.queued.position} of ${e.queued.queue_length}`);
    if (e.event === 'progress') {
      const preview = e.progress.preview ? ` (preview ${e.progress.preview.data.length} bytes)` : '';
      io.err(`${e.progress.stage} ${Math.round(e.progress.fraction * 100)}%${preview}`);
    }
  };
}

async function writeResult(result: ImageResult, out: string, io: CliIo): Promise<void> {
  const paths = numberedPaths(out, result.images.length);
  if (result.plan) io.out(`plan: ${result.plan}`);
  for (const [i, img] of result.images.entries()) {
    await writeImageFile(paths[i]!, img.image);
    io.out(`${paths[i]}  seed=${img.seed}  tokens=${img.tokens.join(',')}`);
    if (img.reveal?.animation) {
      const ext = img.reveal.animation.mime_type === 'image/gif' ? '.gif' : '.webp';
      const revealPath = `${paths[i]!.replace(/\.[^./]+$/, '')}-reveal${ext}`;
      await writeImageFile(revealPath, img.reveal.animation);
      io.out(`${revealPath}  (${img.reveal.frames.length} frames)`);
    }
  }
}

/** Prints the job's progress, then writes its images to `out` (numbered when there are several). */
export async function saveImageResult(
  events: AsyncIterable<ImageJobEvent>,
  out: string,
  io: CliIo,
): Promise<void> {
  await writeResult(await collectImageResult(events, progressPrinter(io)), out, io);
}
