import sharp from 'sharp';
import { nextSnowflake } from './snowflake.js';
import type { AttachmentRecord } from './store/types.js';

interface StoredFile {
  data: Buffer;
  contentType: string;
}

const BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

/**
 * Discord derives content_type from the bytes and name, not from what the uploader claims; we sniff
 * the common image magic numbers first so a bot's `image/png` label on JPEG bytes is corrected, and a
 * user's fake label can be tested by uploading with `contentType` set explicitly (kept as given).
 */
export function detectContentType(data: Buffer, filename: string): string {
  if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'image/png';
  if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  if (
    data.subarray(0, 4).toString('latin1') === 'RIFF' &&
    data.subarray(8, 12).toString('latin1') === 'WEBP'
  ) {
    return 'image/webp';
  }
  const ext = filename.split('.').pop()?.toLowerCase() ?? '';
  return BY_EXTENSION[ext] ?? 'application/octet-stream';
}

/** Discord keeps letters, digits, dot, dash and underscore in stored file names. */
export function sanitizeFilename(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '');
  return cleaned.length > 0 ? cleaned : 'unknown';
}

/** Uploaded files, served back at `/attachments/{channel}/{id}/{filename}` like Discord's CDN. */
export class AttachmentStore {
  private readonly files = new Map<string, StoredFile>();

  constructor(private readonly baseUrl: () => string) {}

  async store(
    channelId: string,
    file: { filename: string; data: Buffer; contentType?: string | null; description?: string | null },
    opts: { ephemeral?: boolean; trustContentType?: boolean; fakeUrl?: string } = {},
  ): Promise<AttachmentRecord> {
    const id = nextSnowflake();
    const filename = sanitizeFilename(file.filename);
    const sniffed = detectContentType(file.data, filename);
    const contentType = opts.trustContentType && file.contentType ? file.contentType : sniffed;
    const path = `/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    this.files.set(path, { data: file.data, contentType });
    const { width, height } = await imageSize(file.data, sniffed);
    return {
      id,
      filename,
      size: file.data.length,
      url: opts.fakeUrl ?? `${this.baseUrl()}${path}`,
      proxyUrl: opts.fakeUrl ?? `${this.baseUrl()}${path}?proxy=1`,
      contentType,
      width,
      height,
      description: file.description ?? null,
      ephemeral: opts.ephemeral ?? false,
    };
  }

  get(path: string): StoredFile | undefined {
    return this.files.get(path);
  }

  /** Bytes of an attachment by its URL (tests read back what the bot posted). */
  byUrl(url: string): StoredFile | undefined {
    const u = new URL(url);
    return this.files.get(u.pathname);
  }
}

async function imageSize(
  data: Buffer,
  contentType: string,
): Promise<{ width: number | null; height: number | null }> {
  if (!contentType.startsWith('image/')) return { width: null, height: null };
  try {
    // Header-only read; never decodes pixels, so hostile images cost nothing here.
    const meta = await sharp(data, { limitInputPixels: false }).metadata();
    return { width: meta.width ?? null, height: meta.height ?? null };
  } catch {
    return { width: null, height: null };
  }
}
