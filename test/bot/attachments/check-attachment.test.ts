import { describe, expect, it } from 'vitest';
import {
  type AttachmentLimits,
  checkAttachment,
  effectiveByteLimit,
  isAllowedHost,
} from '../../../bot/attachments/check-attachment.js';
import { UserError } from '../../../bot/errors.js';

const limits: AttachmentLimits = {
  allowedHosts: ['cdn.discordapp.com', 'media.discordapp.net', '127.0.0.1'],
  maxPixels: 1000 * 1000,
  byteLimits: { bot: 8 * 1024 * 1024, interaction: 10 * 1024 * 1024, server: 0 },
};
const png = {
  name: 'a.png',
  url: 'https://cdn.discordapp.com/attachments/1/2/a.png',
  contentType: 'image/png',
  size: 1000,
};

describe('checkAttachment', () => {
  it('accepts a small PNG from the CDN and returns its type', () => {
    expect(checkAttachment(png, limits)).toBe('image/png');
  });

  it('refuses non-images with a message naming the file', () => {
    const pdf = { ...png, name: 'doc.pdf', contentType: 'application/pdf' };
    expect(() => checkAttachment(pdf, limits)).toThrow(UserError);
    expect(() => checkAttachment(pdf, limits)).toThrow(/doc\.pdf.*not an image/);
  });

  it('falls back on the extension when Discord sends no content type', () => {
    expect(checkAttachment({ ...png, name: 'x.JPG', contentType: null }, limits)).toBe('image/jpeg');
    expect(() => checkAttachment({ ...png, name: 'x.svg', contentType: null }, limits)).toThrow(UserError);
  });

  it('uses the smallest of the bot, interaction and server limits and says which', () => {
    const big = { ...png, size: 9 * 1024 * 1024 };
    expect(() => checkAttachment(big, limits)).toThrow(/9 MiB; the limit is 8 MiB/);
    const strictServer = { ...limits, byteLimits: { bot: 8 * 1024 * 1024, interaction: null, server: 500 } };
    expect(() => checkAttachment(png, strictServer)).toThrow(/limit is 500 B/);
    expect(effectiveByteLimit({ bot: 100, interaction: 50, server: 0 })).toBe(50);
  });

  it('refuses images with too many pixels when Discord reports dimensions', () => {
    expect(() => checkAttachment({ ...png, width: 2000, height: 2000 }, limits)).toThrow(/2000x2000/);
  });

  it('refuses other hosts', () => {
    expect(() => checkAttachment({ ...png, url: 'https://evil.example/a.png' }, limits)).toThrow(
      /uploaded to Discord/,
    );
  });
});

describe('isAllowedHost', () => {
  it('requires https except for loopback', () => {
    expect(isAllowedHost('https://cdn.discordapp.com/x', limits.allowedHosts)).toBe(true);
    expect(isAllowedHost('http://cdn.discordapp.com/x', limits.allowedHosts)).toBe(false);
    expect(isAllowedHost('http://127.0.0.1:4567/x', limits.allowedHosts)).toBe(true);
  });

  it('matches whole host names only', () => {
    expect(isAllowedHost('https://cdn.discordapp.com.evil.example/x', limits.allowedHosts)).toBe(false);
    expect(isAllowedHost('https://evilcdn.discordapp.com/x', limits.allowedHosts)).toBe(false);
    expect(isAllowedHost('not a url', limits.allowedHosts)).toBe(false);
  });

  it('accepts host:port entries', () => {
    expect(isAllowedHost('http://127.0.0.1:9000/x', ['127.0.0.1:9000'])).toBe(true);
    expect(isAllowedHost('http://127.0.0.1:9001/x', ['127.0.0.1:9000'])).toBe(false);
  });
});
