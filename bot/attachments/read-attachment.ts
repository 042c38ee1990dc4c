/** Metadata checks -> bounded download -> real format/pixel check: the image as it goes to the server. */
import type { ImageData } from '../inference/client.js';
import {
  type AttachmentInfo,
  type AttachmentLimits,
  checkAttachment,
  effectiveByteLimit,
} from './check-attachment.js';
import { downloadAttachment } from './download.js';
import { inspectImage } from './inspect-image.js';

export interface ReadAttachmentOptions {
  limits: AttachmentLimits;
  timeoutMs: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export async function readAttachmentImage(
  att: AttachmentInfo,
  options: ReadAttachmentOptions,
): Promise<ImageData> {
  checkAttachment(att, options.limits);
  const data = await downloadAttachment(att.url, {
    allowedHosts: options.limits.allowedHosts,
    maxBytes: effectiveByteLimit(options.limits.byteLimits),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    fetch: options.fetch,
  });
  // The sniffed type wins over the declared one: the server refuses a mismatch.
  const facts = await inspectImage(data, options.limits.maxPixels);
  return { data, mimeType: facts.mimeType };
}
