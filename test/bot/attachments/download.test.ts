import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadAttachment } from '../../../bot/attachments/download.js';
import { inspectImage } from '../../../bot/attachments/inspect-image.js';
import { readAttachmentImage } from '../../../bot/attachments/read-attachment.js';
import { UserError } from '../../../bot/errors.js';

let server: Server;
let base: string;
let png: Buffer;

beforeAll(async () => {
  png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  server = createServer((req, res) => {
    if (req.url === '/img.png') res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    else if (req.url === '/big') res.writeHead(200).end(Buffer.alloc(5000));
    else if (req.url === '/chunked-big') {
      res.writeHead(200); // no content-length: the cap must hold while streaming
      res.write(Buffer.alloc(3000));
      res.end(Buffer.alloc(3000));
    } else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('late'), 6000);
    else if (req.url === '/redirect') res.writeHead(302, { location: 'https://evil.example/' }).end();
    else if (req.url === '/text.png') res.writeHead(200).end('this is not an image');
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

// generous: a loaded CI machine must not turn a local download into a timeout (/slow answers after 6 s)
const opts = { allowedHosts: ['127.0.0.1'], maxBytes: 4096, timeoutMs: 2000 };

describe('downloadAttachment', () => {
  it('downloads from an allowed host', async () => {
    expect(Buffer.from(await downloadAttachment(`${base}/img.png`, opts)).equals(png)).toBe(true);
  });

  it('refuses hosts not on the list without connecting', async () => {
    await expect(
      downloadAttachment(`${base}/img.png`, { ...opts, allowedHosts: ['cdn.discordapp.com'] }),
    ).rejects.toThrow(/uploaded to Discord/);
  });

  it('enforces the byte cap by header and while streaming', async () => {
    await expect(downloadAttachment(`${base}/big`, opts)).rejects.toThrow(/larger than the 4 KiB limit/);
    await expect(downloadAttachment(`${base}/chunked-big`, opts)).rejects.toThrow(/larger than/);
  });

  it('times out, does not follow redirects, reports HTTP errors', async () => {
    await expect(downloadAttachment(`${base}/slow`, opts)).rejects.toThrow(/took too long/);
    await expect(downloadAttachment(`${base}/redirect`, opts)).rejects.toThrow(UserError);
    await expect(downloadAttachment(`${base}/missing`, opts)).rejects.toThrow(/HTTP 404/);
  });
});

describe('inspectImage and readAttachmentImage', () => {
  it('reads the real type and size and enforces the pixel limit', async () => {
    expect(await inspectImage(png, 10_000)).toEqual({ mimeType: 'image/png', width: 40, height: 30 });
    await expect(inspectImage(png, 1000)).rejects.toThrow(/40x30 pixels/);
    await expect(inspectImage(Buffer.from('nope'), 1000)).rejects.toThrow(/not a readable image/);
  });

  it('catches a file whose name and declared type lie', async () => {
    const att = { name: 'x.png', url: `${base}/text.png`, contentType: 'image/png', size: 20 };
    const limits = { allowedHosts: ['127.0.0.1'], maxPixels: 10_000, byteLimits: { bot: 4096 } };
    await expect(readAttachmentImage(att, { limits, timeoutMs: 2000 })).rejects.toThrow(
      /not a readable image/,
    );
    const good = { ...att, url: `${base}/img.png`, contentType: 'image/webp' };
    expect((await readAttachmentImage(good, { limits, timeoutMs: 2000 })).mimeType).toBe('image/png');
  });
});
