/**
 * Checks on an attachment's metadata, before anything is downloaded or sent to the server. Pure.
 */
import { formatBytes, UserError } from '../errors.js';

/** What Discord tells us about an attachment (a subset of discord.js Attachment). */
export interface AttachmentInfo {
  name: string;
  url: string;
  contentType: string | null;
  size: number;
  width?: number | null;
  height?: number | null;
}

export const IMAGE_TYPES: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};
const EXTENSION_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
};

export interface AttachmentLimits {
  allowedHosts: readonly string[];
  maxPixels: number;
  /** Every known byte limit; the smallest positive one applies. */
  byteLimits: { bot: number; interaction?: number | null; server?: number | null };
}

export function effectiveByteLimit(limits: AttachmentLimits['byteLimits']): number {
  return Math.min(
    ...[limits.bot, limits.interaction, limits.server].filter((n): n is number => !!n && n > 0),
  );
}

/** "image/png" for an image we accept (from content type, else file extension), or undefined. */
export function imageMimeType(att: Pick<AttachmentInfo, 'name' | 'contentType'>): string | undefined {
  const declared = att.contentType?.split(';')[0]?.trim().toLowerCase();
  if (declared) return IMAGE_TYPES[declared] ? declared : undefined;
  const ext = att.name.split('.').pop()?.toLowerCase() ?? '';
  return EXTENSION_TYPES[ext];
}

/** Whether `url` points at an allowed host; entries may be "host" or "host:port". */
export function isAllowedHost(url: string, allowedHosts: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const hostname = parsed.hostname.toLowerCase();
  const allowed = allowedHosts.includes(hostname) || allowedHosts.includes(parsed.host.toLowerCase());
  if (!allowed) return false;
  // Plain http only for loopback, which is what tests use; Discord's CDN is always https.
  return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopback(hostname));
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Throws a UserError naming the attachment and what to do; returns the image MIME type. */
export function checkAttachment(att: AttachmentInfo, limits: AttachmentLimits): string {
  const mimeType = imageMimeType(att);
  if (!mimeType) {
    throw new UserError(
      `\`${safeName(att.name)}\` is not an image I can read. Please upload a PNG, JPEG, WebP or GIF.`,
    );
  }
  const maxBytes = effectiveByteLimit(limits.byteLimits);
  if (att.size > maxBytes) {
    throw new UserError(
      `\`${safeName(att.name)}\` is ${formatBytes(att.size)}; the limit is ${formatBytes(maxBytes)}.`,
    );
  }
  if (att.width && att.height && att.width * att.height > limits.maxPixels) {
    throw new UserError(
      `\`${safeName(att.name)}\` is ${att.width}x${att.height} pixels; the limit is ${limits.maxPixels.toLocaleString('en')} pixels.`,
    );
  }
  if (!isAllowedHost(att.url, limits.allowedHosts)) {
    throw new UserError('I can only read images uploaded to Discord. Please attach the image directly.');
  }
  return mimeType;
}

/** File names are user input: keep them from breaking out of inline code or pinging anyone. */
export function safeName(name: string): string {
  return name.replace(/[`@<>\n\r]/g, '_').slice(0, 80);
}
