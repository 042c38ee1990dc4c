/** Final job message: upscaled images (and reveal animations), a caption line, buttons. */
import sharp from 'sharp';
import { buildResultButtons } from '../components/result-buttons.js';
import { upscaleAnimation, upscaleImage } from '../images/upscale.js';
import type { GeneratedImage, ImageData } from '../inference/client.js';
import type { JobRecord } from '../store/job-store.js';
import { escapeMarkdown } from '../text/markdown.js';
import { describeJob } from './job-status.js';
import type { JobPayload } from './job-view.js';

export async function renderResult(
  job: JobRecord,
  images: GeneratedImage[],
  upscaleSize: number,
  plan?: string,
): Promise<JobPayload> {
  const files: JobPayload['files'] = [];
  for (const [i, g] of images.entries()) {
    files.push({ name: `${job.id}-${i + 1}.png`, data: await upscaleImage(g.image.data, upscaleSize) });
    if (g.reveal?.animation) {
      const anim = await upscaleAnimation(g.reveal.animation.data, upscaleSize);
      files.push({ name: `${job.id}-${i + 1}-reveal.${anim.ext}`, data: anim.data });
    } else if (g.reveal && g.reveal.frames.length > 0) {
      files.push({ name: `${job.id}-${i + 1}-reveal.png`, data: await joinFrames(g.reveal.frames, 64) });
    }
  }
  const seeds = images.map((g) => g.seed.toString()).join(', ');
  // The model's own layout, when it planned one: shows what it meant to draw when the image differs.
  const planned = plan ? `\n-# planned: ${escapeMarkdown(plan)}` : '';
  const content = `${describeJob(job.params)}${planned}\n-# <@${job.userId}> · seed ${seeds} · job \`${job.id}\``;
  return { content, files, buttons: buildResultButtons(job.id, job.params.kind, images.length) };
}

/** A strip of reveal frames side by side, for servers that send frames without an animation. */
async function joinFrames(frames: ImageData[], cell: number): Promise<Buffer> {
  const shown = frames.slice(0, 16);
  const tiles = await Promise.all(
    shown.map((f) => sharp(f.data).resize({ width: cell, height: cell, kernel: 'nearest' }).png().toBuffer()),
  );
  return sharp({ create: { width: cell * tiles.length, height: cell, channels: 3, background: '#ffffff' } })
    .composite(tiles.map((input, i) => ({ input, left: i * cell, top: 0 })))
    .png()
    .toBuffer();
}

/** A progress message; `header` is the job description (empty for chat), `stem` names the file. */
export async function renderPreview(
  header: string,
  stem: string,
  status: string,
  preview: ImageData | undefined,
  upscaleSize: number,
): Promise<JobPayload> {
  const content = header ? `${header}\n${status}` : status;
  if (!preview) return { content };
  try {
    return {
      content,
      files: [{ name: `${stem}-preview.png`, data: await upscaleImage(preview.data, upscaleSize) }],
    };
  } catch {
    return { content }; // a broken preview must not fail the job
  }
}
