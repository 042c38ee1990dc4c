import type { IncomingMessage } from 'node:http';
import { errors } from '../errors.js';

export interface UploadedFile {
  /** n of the `files[n]` form field; `attachments[].id` refers to it. */
  index: number;
  filename: string;
  contentType: string | null;
  data: Buffer;
}

export interface ParsedBody {
  json: Record<string, unknown> | unknown[] | null;
  files: UploadedFile[];
}

/** Reads the whole body, refusing more than `maxBytes` the way Discord does (413, code 40005). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      // Drain the rest so the client sees our 413 instead of a reset connection.
      req.resume();
      throw errors.entityTooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * JSON or multipart (`payload_json` + `files[n]`), the two encodings @discordjs/rest uses.
 * Multipart parsing reuses Node's built-in fetch Request, so no extra dependency.
 */
export async function parseBody(req: IncomingMessage, maxBytes: number): Promise<ParsedBody> {
  const raw = await readBody(req, maxBytes);
  const type = req.headers['content-type'] ?? '';
  if (raw.length === 0) return { json: null, files: [] };
  if (type.startsWith('multipart/form-data')) return parseMultipart(raw, type);
  try {
    return { json: JSON.parse(raw.toString('utf8')) as ParsedBody['json'], files: [] };
  } catch {
    throw errors.invalidJson();
  }
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<ParsedBody> {
  const form = await new Request('http://local/', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: raw as unknown as BodyInit,
  }).formData();
  let json: ParsedBody['json'] = null;
  const files: UploadedFile[] = [];
  let next = 0;
  const entries: [string, FormDataEntryValue][] = [];
  // forEach, not entries(): the project's lib has DOM but not DOM.Iterable.
  form.forEach((value, name) => {
    entries.push([name, value]);
  });
  for (const [name, value] of entries) {
    if (name === 'payload_json' && typeof value === 'string') {
      try {
        json = JSON.parse(value) as ParsedBody['json'];
      } catch {
        throw errors.invalidJson();
      }
      continue;
    }
    if (typeof value === 'string') continue;
    const m = /^files\[(\d+)\]$/.exec(name);
    const index = m ? Number(m[1]) : next;
    next = Math.max(next, index + 1);
    files.push({
      index,
      filename: value.name || `file${index}`,
      contentType: value.type || null,
      data: Buffer.from(await value.arrayBuffer()),
    });
  }
  return { json, files };
}
