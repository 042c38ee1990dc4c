/** Bounded download of an attachment: allowed hosts only, no redirects, byte cap, timeout. */
import { UserError } from '../errors.js';
import { isAllowedHost } from './check-attachment.js';

export interface DownloadOptions {
  allowedHosts: readonly string[];
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export async function downloadAttachment(url: string, options: DownloadOptions): Promise<Uint8Array> {
  if (!isAllowedHost(url, options.allowedHosts)) {
    throw new UserError('I can only read images uploaded to Discord. Please attach the image directly.');
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    // redirect: 'manual' because a redirect could lead off the allowed hosts.
    const response = await (options.fetch ?? fetch)(url, { signal, redirect: 'manual' });
    if (!response.ok || !response.body) {
      throw new UserError(
        `I could not download the image (HTTP ${response.status}). Please upload it again.`,
      );
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > options.maxBytes) throw tooLarge(options.maxBytes);
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > options.maxBytes) {
        await reader.cancel();
        throw tooLarge(options.maxBytes);
      }
      chunks.push(value);
    }
    return concat(chunks, total);
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (timeout.aborted) throw new UserError('Downloading the image took too long. Please try again.');
    if (options.signal?.aborted) throw err;
    throw new UserError('I could not download the image. Please upload it again.');
  }
}

function tooLarge(maxBytes: number): UserError {
  return new UserError(`The image is larger than the ${Math.floor(maxBytes / 1024)} KiB limit.`);
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
